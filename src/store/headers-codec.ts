import { headerValues, type RecordHeaders } from '../model/record.ts'

/**
 * A record's headers inside the outbox blob (outbox-codec.ts): u32 count, then per header u32 key length,
 * key (UTF-8), i32 value length (-1 for a null value), value bytes; big-endian. Repeated keys are kept in
 * order. Dead letters copy a record's headers whatever they hold, so no length here is smaller than Kafka's
 * own limits.
 */
export function encodeHeaders (headers: RecordHeaders): Buffer {
  const out = Buffer.allocUnsafe(headersSize(headers))
  writeHeaders(headers, out, 0)
  return out
}

/** The encoded size of `headers`, in bytes. */
export function headersSize (headers: RecordHeaders): number {
  let size = 4
  for (const [k, raw] of Object.entries(headers)) {
    const kLen = Buffer.byteLength(k, 'utf8')
    for (const v of headerValues(raw)) {
      size += 8 + kLen + (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length)
    }
  }
  return size
}

/**
 * Writes `headers` into `out` at `at` (as `encodeHeaders` would, in place: no intermediate buffers, as the
 * outbox encodes every merged record's headers); returns the offset after them.
 */
export function writeHeaders (headers: RecordHeaders, out: Buffer, at: number): number {
  const countAt = at
  let count = 0
  at += 4
  for (const [k, raw] of Object.entries(headers)) {
    for (const v of headerValues(raw)) {
      count++
      const kLen = out.write(k, at + 4, 'utf8')
      out.writeUInt32BE(kLen, at)
      at += 4 + kLen
      if (v === null) {
        at = out.writeInt32BE(-1, at)
      } else if (typeof v === 'string') {
        const vLen = out.write(v, at + 4, 'utf8')
        out.writeInt32BE(vLen, at)
        at += 4 + vLen
      } else {
        at = out.writeInt32BE(v.length, at)
        at += v.copy(out, at)
      }
    }
  }
  out.writeUInt32BE(count, countAt)
  return at
}

/** Decodes into own properties only (a header may be called `__proto__` or `constructor`); values are views into `blob`. */
export function decodeHeaders (blob: Buffer): Record<string, Buffer | null | Array<Buffer | null>> {
  const out = new Map<string, Buffer | null | Array<Buffer | null>>()
  const count = blob.readUInt32BE(0)
  let at = 4
  for (let i = 0; i < count; i++) {
    const kLen = blob.readUInt32BE(at); at += 4
    const k = blob.toString('utf8', at, at + kLen); at += kLen
    const vLen = blob.readInt32BE(at); at += 4
    let v: Buffer | null = null
    if (vLen >= 0) {
      v = blob.subarray(at, at + vLen); at += vLen
    }
    const prev = out.get(k)
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v])
  }
  return Object.fromEntries(out)
}
