import type { HeaderValue, RecordHeaders } from '../kafka/records.ts'

/**
 * The `outbox.headers` blob: u16 count, then per header u16 key length, key (UTF-8), i32 value length
 * (-1 for null), value bytes; big-endian. Repeated keys are kept in order.
 */
export function encodeHeaders (headers: RecordHeaders): Buffer {
  const pairs: Array<[Buffer, Buffer | null]> = []
  for (const [k, raw] of Object.entries(headers)) {
    const values: readonly (HeaderValue | null | undefined)[] = Array.isArray(raw) ? raw : [raw as HeaderValue | null | undefined]
    for (const v of values) {
      if (v === undefined) continue
      pairs.push([Buffer.from(k, 'utf8'), v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v])
    }
  }
  let size = 2
  for (const [k, v] of pairs) size += 2 + k.length + 4 + (v?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt16BE(pairs.length, 0)
  for (const [k, v] of pairs) {
    at = out.writeUInt16BE(k.length, at)
    at += k.copy(out, at)
    at = out.writeInt32BE(v === null ? -1 : v.length, at)
    if (v !== null) at += v.copy(out, at)
  }
  return out
}

export function decodeHeaders (blob: Buffer): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer | Buffer[]> = {}
  const count = blob.readUInt16BE(0)
  let at = 2
  for (let i = 0; i < count; i++) {
    const kLen = blob.readUInt16BE(at); at += 2
    const k = blob.toString('utf8', at, at + kLen); at += kLen
    const vLen = blob.readInt32BE(at); at += 4
    const v = vLen < 0 ? Buffer.alloc(0) : Buffer.from(blob.subarray(at, at + vLen))
    if (vLen > 0) at += vLen
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return out
}
