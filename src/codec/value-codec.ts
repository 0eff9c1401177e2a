import { InternalError } from '../errors.ts'
import { decodeMsgpack, encodeMsgpack } from './msgpack.ts'
import { checkMsgpack } from './msgpack-check.ts'

/** The value encodings concord reads; the configuration's `topics[].codec` names one of them. */
export type ValueCodecName = 'msgpack' | 'json' | 'raw'

/** A codec: decode reads a value, encode writes a value that policies built (the same bytes for the same value everywhere). */
export interface Codec {
  readonly name: ValueCodecName
  /** Throws on undecodable bytes (the caller dead-letters the record). */
  decode (bytes: Buffer): unknown
  encode (value: unknown): Buffer
}

/** JSON with bigints written as integers; key order is the object's own, which policies make canonical. */
function encodeJson (value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(v => v === undefined ? 'null' : encodeJson(v)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${encodeJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export const codecs: Readonly<Record<ValueCodecName, Codec>> = {
  msgpack: { name: 'msgpack', decode: decodeMsgpack, encode: encodeMsgpack },
  json: {
    name: 'json',
    decode: bytes => JSON.parse(bytes.toString('utf8')) as unknown,
    encode: value => Buffer.from(encodeJson(value), 'utf8')
  },
  raw: {
    name: 'raw',
    decode: bytes => bytes,
    encode: value => {
      if (Buffer.isBuffer(value)) return value
      throw new InternalError('raw values cannot be built: policies that build values refuse codec raw when they are bound')
    }
  }
}

/**
 * Checks that a value is valid under its codec without building it: undefined when valid, else the reason.
 * msgpack: a structural scan; json: a parse; raw: anything goes.
 */
export type Validator = (bytes: Buffer) => string | undefined

export const validators: Readonly<Record<ValueCodecName, Validator | undefined>> = {
  msgpack: checkMsgpack,
  json: bytes => {
    try {
      codecs.json.decode(bytes)
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  },
  raw: undefined
}
