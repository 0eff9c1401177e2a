import { decodeMsgpack } from './msgpack.ts'

/** The value encodings concord reads; the configuration's `topics[].codec` names one of them. */
export type ValueCodec = 'msgpack' | 'json' | 'raw'

/** Decodes a value to read fields from it; throws on undecodable bytes (the caller dead-letters the record). */
export type Decoder = (bytes: Buffer) => unknown

export const decoders: Readonly<Record<ValueCodec, Decoder>> = {
  msgpack: decodeMsgpack,
  json: bytes => JSON.parse(bytes.toString('utf8')) as unknown,
  raw: bytes => bytes
}
