import { createRequire, Module } from 'node:module'

/**
 * Two patches of kafkajs 2.2.4 hot paths, each with the same result as the original (tests compare them).
 *
 * kafkajs 2.2.4 groups a produce request's messages by partition with `[...current, message]` inside a
 * reduce, which copies the partition's list once per message: quadratic in the records per request (a
 * tenth of concord's CPU in the e2e benchmark at ~2,700 records per request). kafkajs is in maintenance
 * mode, so this module puts a linear version with the same result in Node's module cache before kafkajs
 * loads it. src/kafka/kafkajs.ts imports it first; nothing else imports kafkajs.
 */
const require = createRequire(import.meta.url)
export const GROUP_MESSAGES_PATH = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js')

interface GroupArgs<M> {
  readonly topic: string
  readonly partitionMetadata: readonly unknown[]
  readonly messages: readonly M[]
  readonly partitioner: (args: { topic: string, partitionMetadata: readonly unknown[], message: M }) => number
}

export function groupMessagesPerPartition<M> ({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {}
  if (partitionMetadata.length === 0) return result
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = result[partition]
    if (list === undefined) result[partition] = [message]
    else list.push(message)
  }
  return result
}

/** Puts `exports` in Node's module cache as the module at `path`, unless kafkajs loaded that module already. */
function install (path: string, exports: unknown): void {
  if (require.cache[path] !== undefined) return
  const mod = new Module(path)
  mod.filename = path
  mod.loaded = true
  mod.exports = exports
  require.cache[path] = mod
}

install(GROUP_MESSAGES_PATH, groupMessagesPerPartition)

/**
 * kafkajs 2.2.4 encodes each produced record with a fresh 512-byte zero-filled Encoder, plus one more per
 * header, copied into it (about 2.5 KB allocated and a copy per header for concord's 4-header merged
 * records: 6 % of concord's CPU end to end). This encoder writes the same bytes (kafkajs' Record v0: length,
 * attributes, timestamp delta, offset delta, key, value, headers) into one Encoder sized exactly.
 */
export const RECORD_V0_PATH = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')

interface KafkajsEncoder {
  buf: Buffer
  writeVarInt (n: number): KafkajsEncoder
  writeInt8 (n: number): KafkajsEncoder
  writeVarLong (n: unknown): KafkajsEncoder
  writeVarIntBytes (b: unknown): KafkajsEncoder
  writeVarIntString (s: string): KafkajsEncoder
}
interface KafkajsEncoderClass {
  new (initialSize?: number): KafkajsEncoder
  sizeOfVarInt (n: number): number
  sizeOfVarLong (n: unknown): number
  sizeOfVarIntBytes (b: unknown): number
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as KafkajsEncoderClass

interface RecordArgs {
  readonly offsetDelta?: number
  readonly timestampDelta?: unknown
  readonly key: unknown
  readonly value: unknown
  readonly headers?: Readonly<Record<string, unknown>>
}

export function encodeRecordV0 ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordArgs): KafkajsEncoder {
  const pairs: Array<[string, unknown]> = []
  for (const k of Object.keys(headers)) {
    const v = headers[k]
    if (Array.isArray(v)) for (const one of v) pairs.push([k, one])
    else pairs.push([k, v])
  }
  // As kafkajs sizes them (Buffer.byteLength of a header value), so that the length prefix is the same.
  let headersSize = Encoder.sizeOfVarInt(pairs.length)
  for (const [k, v] of pairs) {
    const kLen = Buffer.byteLength(k)
    headersSize += Encoder.sizeOfVarInt(kLen) + kLen
    if (v === null) {
      headersSize += Encoder.sizeOfVarInt(-1)
    } else {
      const vLen = Buffer.byteLength(v as string | Buffer)
      headersSize += Encoder.sizeOfVarInt(vLen) + vLen
    }
  }
  const body = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headersSize
  const encoder = new Encoder(0)
  // Every byte is written below; the Encoder grows it (zero-filled) if a size above were short.
  encoder.buf = Buffer.allocUnsafe(Encoder.sizeOfVarInt(body) + body)
  encoder.writeVarInt(body).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta)
    .writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(pairs.length)
  for (const [k, v] of pairs) encoder.writeVarIntString(k).writeVarIntBytes(v)
  return encoder
}

install(RECORD_V0_PATH, encodeRecordV0)
