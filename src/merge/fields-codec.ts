import { compareUtf8, type Stamp } from '../model/stamp.ts'
import type { FieldEntry, FieldsState } from './lww-fields.ts'
import type { ValueCodec } from './policy.ts'

/**
 * The encoded field state of lww-fields (lww-fields.ts), as the store keeps it:
 *
 *   u8 1 and the tombstone's stamp, or u8 0 when there is none;
 *   u32 field count, then per field, in UTF-8 byte order of the names:
 *     u32 name length, name (UTF-8)
 *     stamp: u8 dc length, dc (UTF-8), f64 ts (ms; integers up to 2^53 are exact), f64 counter,
 *            u16 event id length, event id (UTF-8)   (the stamp layout of sibling-codec.ts)
 *     i32 value length (-1 for a field delete), the field's value encoded alone with the topic's codec
 *   all big-endian.
 * The names are sorted so that equal states encode to equal bytes whatever order the fields were set in.
 * A value is decoded again when the state is read: the codecs give back the same bytes for a value they
 * decoded (encode(decode(encode(v))) = encode(v)), so a state survives a round trip byte for byte.
 * Hand-rolled because it is read and written once per changed entity on the hot path.
 */
export function encodeFieldsState (state: FieldsState, codec: ValueCodec): Buffer {
  const tomb = state.tombstone === undefined ? undefined : stampBytes(state.tombstone)
  const names = [...state.fields.keys()].sort(compareUtf8)
  const parts = names.map(name => {
    const entry = state.fields.get(name)!
    return { name: Buffer.from(name, 'utf8'), entry, stamp: stampBytes(entry.stamp), value: entry.value === null ? null : codec.encode(entry.value) }
  })
  let size = 1 + (tomb === undefined ? 0 : stampSize(tomb)) + 4
  for (const p of parts) size += 4 + p.name.length + stampSize(p.stamp) + 4 + (p.value?.length ?? 0)
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt8(tomb === undefined ? 0 : 1, 0)
  if (tomb !== undefined) at = writeStamp(out, at, state.tombstone!, tomb)
  at = out.writeUInt32BE(parts.length, at)
  for (const p of parts) {
    at = out.writeUInt32BE(p.name.length, at)
    at += p.name.copy(out, at)
    at = writeStamp(out, at, p.entry.stamp, p.stamp)
    if (p.value === null) {
      at = out.writeInt32BE(-1, at)
    } else {
      at = out.writeInt32BE(p.value.length, at)
      at += p.value.copy(out, at)
    }
  }
  return out
}

export function decodeFieldsState (blob: Buffer, codec: ValueCodec): FieldsState {
  let at = 1
  let tombstone: Stamp | undefined
  if (blob.readUInt8(0) === 1) {
    const read = readStamp(blob, at)
    tombstone = read.stamp
    at = read.at
  }
  const count = blob.readUInt32BE(at); at += 4
  const fields = new Map<string, FieldEntry>()
  for (let i = 0; i < count; i++) {
    const nameLen = blob.readUInt32BE(at); at += 4
    const name = blob.toString('utf8', at, at + nameLen); at += nameLen
    const read = readStamp(blob, at)
    at = read.at
    const valueLen = blob.readInt32BE(at); at += 4
    let value: unknown = null
    if (valueLen >= 0) {
      value = codec.decode(blob.subarray(at, at + valueLen)); at += valueLen
    }
    fields.set(name, { stamp: read.stamp, value })
  }
  return { fields, tombstone }
}

interface StampBytes { readonly dc: Buffer, readonly id: Buffer }
const stampBytes = (s: Stamp): StampBytes => ({ dc: Buffer.from(s.dc, 'utf8'), id: Buffer.from(s.eventId, 'utf8') })
const stampSize = (b: StampBytes): number => 1 + b.dc.length + 16 + 2 + b.id.length

function writeStamp (out: Buffer, at: number, s: Stamp, b: StampBytes): number {
  at = out.writeUInt8(b.dc.length, at)
  at += b.dc.copy(out, at)
  at = out.writeDoubleBE(s.ts, at)
  at = out.writeDoubleBE(s.counter, at)
  at = out.writeUInt16BE(b.id.length, at)
  at += b.id.copy(out, at)
  return at
}

function readStamp (blob: Buffer, at: number): { stamp: Stamp, at: number } {
  const dcLen = blob.readUInt8(at); at += 1
  const dc = blob.toString('utf8', at, at + dcLen); at += dcLen
  const ts = blob.readDoubleBE(at); at += 8
  const counter = blob.readDoubleBE(at); at += 8
  const idLen = blob.readUInt16BE(at); at += 2
  const eventId = blob.toString('utf8', at, at + idLen); at += idLen
  return { stamp: { ts, counter, dc, eventId }, at }
}
