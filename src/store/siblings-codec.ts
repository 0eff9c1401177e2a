import type { Version } from '../model/version.ts'

/**
 * The `entities.siblings` blob: the latest version from each writer DC of one entity.
 *
 *   u8 count, then per sibling:
 *     u8 dc length, dc (UTF-8)
 *     f64 ts (ms; integers up to 2^53 are exact), f64 counter
 *     u16 event id length, event id (UTF-8)
 *     i32 value length (-1 for a delete), value bytes
 *   all big-endian.
 * Hand-rolled because it is read and written once per changed entity on the hot path (msgpack-lite costs
 * microseconds per value; this is a few buffer copies).
 */
export function encodeSiblings (siblings: readonly Version[]): Buffer {
  let size = 1
  const dcs: Buffer[] = []
  const ids: Buffer[] = []
  for (const s of siblings) {
    const dc = Buffer.from(s.stamp.dc, 'utf8')
    const id = Buffer.from(s.stamp.eventId, 'utf8')
    dcs.push(dc)
    ids.push(id)
    size += 1 + dc.length + 16 + 2 + id.length + 4 + (s.value?.length ?? 0)
  }
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt8(siblings.length, 0)
  siblings.forEach((s, i) => {
    const dc = dcs[i]!
    const id = ids[i]!
    at = out.writeUInt8(dc.length, at)
    at += dc.copy(out, at)
    at = out.writeDoubleBE(s.stamp.ts, at)
    at = out.writeDoubleBE(s.stamp.counter, at)
    at = out.writeUInt16BE(id.length, at)
    at += id.copy(out, at)
    if (s.value === null) {
      at = out.writeInt32BE(-1, at)
    } else {
      at = out.writeInt32BE(s.value.length, at)
      at += s.value.copy(out, at)
    }
  })
  return out
}

export function decodeSiblings (blob: Buffer): Version[] {
  const count = blob.readUInt8(0)
  let at = 1
  const out: Version[] = []
  for (let i = 0; i < count; i++) {
    const dcLen = blob.readUInt8(at); at += 1
    const dc = blob.toString('utf8', at, at + dcLen); at += dcLen
    const ts = blob.readDoubleBE(at); at += 8
    const counter = blob.readDoubleBE(at); at += 8
    const idLen = blob.readUInt16BE(at); at += 2
    const eventId = blob.toString('utf8', at, at + idLen); at += idLen
    const valueLen = blob.readInt32BE(at); at += 4
    let value: Buffer | null = null
    if (valueLen >= 0) {
      value = Buffer.from(blob.subarray(at, at + valueLen)); at += valueLen
    }
    out.push({ stamp: { ts, counter, dc, eventId }, value })
  }
  return out
}
