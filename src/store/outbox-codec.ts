import { StoreError } from '../errors.ts'
import type { OutboxRecord } from './state-store.ts'
import { decodeHeaders, headersSize, writeHeaders } from './headers-codec.ts'

/**
 * The `outbox.records` blob: every record one committed batch produces, in order.
 *
 *   u32 count, then per record:
 *     u16 topic length, topic (UTF-8)
 *     u32 partition
 *     i32 key length (-1 for null), key bytes
 *     i32 value length (-1 for null), value bytes
 *     u32 headers length, headers (src/store/headers-codec.ts)
 *   all big-endian.
 * One row per batch instead of one per record: a batch's output is written, read and deleted together.
 */
export function encodeOutbox (records: readonly OutboxRecord[]): Buffer {
  // One allocation for the blob: sizes first, then every part written in place.
  const headerSizes = new Array<number>(records.length)
  let size = 4
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    headerSizes[i] = headersSize(r.headers)
    size += 2 + Buffer.byteLength(r.topic, 'utf8') + 4 + 4 + (r.key?.length ?? 0) + 4 + (r.value?.length ?? 0) + 4 + headerSizes[i]!
  }
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt32BE(records.length, 0)
  const bytes = (b: Buffer | null): void => {
    at = out.writeInt32BE(b === null ? -1 : b.length, at)
    if (b !== null) at += b.copy(out, at)
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const topicLen = out.write(r.topic, at + 2, 'utf8')
    out.writeUInt16BE(topicLen, at)
    at += 2 + topicLen
    at = out.writeUInt32BE(r.partition, at)
    bytes(r.key)
    bytes(r.value)
    at = out.writeUInt32BE(headerSizes[i]!, at)
    at = writeHeaders(r.headers, out, at)
  }
  return out
}

/** Keys, values and header values are views into `blob`, which the caller must not reuse. */
export function decodeOutbox (blob: Buffer): OutboxRecord[] {
  const count = blob.readUInt32BE(0)
  let at = 4
  const bytes = (): Buffer | null => {
    const n = blob.readInt32BE(at); at += 4
    if (n < 0) return null
    const b = blob.subarray(at, at + n); at += n
    return b
  }
  const out: OutboxRecord[] = []
  for (let i = 0; i < count; i++) {
    const topicLen = blob.readUInt16BE(at); at += 2
    const topic = blob.toString('utf8', at, at + topicLen); at += topicLen
    const partition = blob.readUInt32BE(at); at += 4
    const key = bytes()
    const value = bytes()
    const headersLen = blob.readUInt32BE(at); at += 4
    const headers = decodeHeaders(blob.subarray(at, at + headersLen)); at += headersLen
    out.push({ topic, partition, key, value, headers })
  }
  if (at !== blob.length) throw new StoreError(`the state store is corrupt: an outbox blob has ${blob.length - at} bytes after its ${count} records`)
  return out
}
