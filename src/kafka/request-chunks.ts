import { headerValues, type OutRecord } from '../model/record.ts'

/**
 * Kafka refuses a produce request whose record batch for one partition is larger than the topic's
 * max.message.bytes (1 MiB by default, broker message.max.bytes), and kafkajs puts everything a send
 * holds for a partition into one batch. The default budget leaves room under that default for the batch
 * header and the per-record framing this estimate rounds up.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 900_000

/** Per-record framing of the v2 record format, rounded up: length, attributes, deltas and length varints. */
const RECORD_OVERHEAD = 24
const HEADER_OVERHEAD = 8

const size = (v: Buffer | string | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length

/** Uncompressed size estimate of one record in a v2 record batch, never below the real size. */
export function recordBytes (r: OutRecord): number {
  let n = RECORD_OVERHEAD + size(r.key) + size(r.value)
  for (const [name, raw] of Object.entries(r.headers ?? {})) {
    for (const v of headerValues(raw)) n += HEADER_OVERHEAD + Buffer.byteLength(name) + size(v)
  }
  return n
}

/**
 * Splits records, in order, into consecutive runs of at most `maxBytes` estimated bytes each, so that
 * no request carries more than that for any partition. A record larger than `maxBytes` on its own makes a
 * run of one (Kafka then accepts or refuses it on its own merits).
 */
export function requestChunks (records: readonly OutRecord[], maxBytes = DEFAULT_MAX_REQUEST_BYTES): OutRecord[][] {
  const chunks: OutRecord[][] = []
  let chunk: OutRecord[] = []
  let bytes = 0
  for (const r of records) {
    const n = recordBytes(r)
    if (chunk.length > 0 && bytes + n > maxBytes) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(r)
    bytes += n
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}
