import { headerValues, type RecordHeaders } from '../model/record.ts'

/**
 * A record's headers inside the outbox blob (outbox-codec.ts): u32 count, then per header u32 key length,
 * key (UTF-8), i32 value length (-1 for a null value), value bytes; big-endian. Repeated keys are kept in order. Dead letters copy a
 * record's headers whatever they hold, so no length here is smaller than Kafka's own limits.
 */
export function encodeHeaders (headers: RecordHeaders): Buffer {
  const pairs: Array<[Buffer, Buffer | null]> = []
  for (const [k, raw] of Object.entries(headers)) {
    for (const v of headerValues(raw)) {
      pairs.push([Buffer.from(k, 'utf8'), v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v])
    }
  }
  let size = 4
  for (const [k, v] of pairs) size += 4 + k.length + 4 + (v?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt32BE(pairs.length, 0)
  for (const [k, v] of pairs) {
    at = out.writeUInt32BE(k.length, at)
    at += k.copy(out, at)
    at = out.writeInt32BE(v === null ? -1 : v.length, at)
    if (v !== null) at += v.copy(out, at)
  }
  return out
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
