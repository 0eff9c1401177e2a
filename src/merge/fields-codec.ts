import { compareUtf8, type Stamp } from '../model/stamp.ts'
import type { ValueCodec } from './policy.ts'
import { readStamp, stampBytes, stampSize, writeStamp, type StampBytes } from './stamp-codec.ts'

/** One writer DC's latest patch of one field (lww-fields.ts). */
export interface FieldEntry {
  readonly stamp: Stamp
  /** The decoded value; null for a field delete. */
  readonly value: unknown
}

/** The state of lww-fields (lww-fields.ts): per field name, the latest entry per writer DC; and the tombstone. */
export interface FieldsState {
  /** Field name -> writer DC (the entry's `stamp.dc`) -> entry. A field held has at least one entry. */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, FieldEntry>>
  readonly tombstone: Stamp | undefined
}

/**
 * The encoded field state, as the store keeps it:
 *
 *   u8 1 and the tombstone's stamp, or u8 0 when there is none;
 *   u32 field count, then per field, in UTF-8 byte order of the names:
 *     u32 name length, name (UTF-8)
 *     u16 entry count (at least 1), then per entry, in UTF-8 byte order of the writer DCs:
 *       stamp: u8 dc length, dc (UTF-8; the entry's DC), f64 ts (ms; integers up to 2^53 are exact),
 *              f64 counter, u16 event id length, event id (UTF-8)   (stamp-codec.ts)
 *       i32 value length (-1 for a field delete), the field's value encoded alone with the topic's codec
 *   all big-endian.
 * Names and DCs are sorted so that equal states encode to equal bytes whatever order they were set in.
 * A value is decoded again when the state is read: the codecs give back the same bytes for a value they
 * decoded (encode(decode(encode(v))) = encode(v)), so a state survives a round trip byte for byte.
 * Hand-rolled because it is read and written once per changed entity on the hot path.
 */
export function encodeFieldsState (state: FieldsState, codec: ValueCodec): Buffer {
  const tomb = state.tombstone === undefined ? undefined : stampBytes(state.tombstone)
  const names = [...state.fields.keys()].sort(compareUtf8)
  let size = 1 + (tomb === undefined ? 0 : stampSize(tomb)) + 4
  const parts = names.map(name => {
    const byDc = state.fields.get(name)!
    const entries = [...byDc.keys()].sort(compareUtf8).map(dc => {
      const entry = byDc.get(dc)!
      const stamp = stampBytes(entry.stamp)
      const value = entry.value === null ? null : codec.encode(entry.value)
      size += stampSize(stamp) + 4 + (value?.length ?? 0)
      return { entry, stamp, value }
    })
    const bytes = Buffer.from(name, 'utf8')
    size += 4 + bytes.length + 2
    return { name: bytes, entries }
  })
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt8(tomb === undefined ? 0 : 1, 0)
  if (tomb !== undefined) at = writeStamp(out, at, state.tombstone!, tomb)
  at = out.writeUInt32BE(parts.length, at)
  for (const p of parts) {
    at = out.writeUInt32BE(p.name.length, at)
    at += p.name.copy(out, at)
    at = out.writeUInt16BE(p.entries.length, at)
    for (const e of p.entries) at = writeEntry(out, at, e.entry.stamp, e.stamp, e.value)
  }
  return out
}

function writeEntry (out: Buffer, at: number, stamp: Stamp, bytes: StampBytes, value: Buffer | null): number {
  at = writeStamp(out, at, stamp, bytes)
  if (value === null) return out.writeInt32BE(-1, at)
  at = out.writeInt32BE(value.length, at)
  return at + value.copy(out, at)
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
  const fields = new Map<string, ReadonlyMap<string, FieldEntry>>()
  for (let i = 0; i < count; i++) {
    const nameLen = blob.readUInt32BE(at); at += 4
    const name = blob.toString('utf8', at, at + nameLen); at += nameLen
    const entries = blob.readUInt16BE(at); at += 2
    const byDc = new Map<string, FieldEntry>()
    for (let j = 0; j < entries; j++) {
      const read = readStamp(blob, at)
      at = read.at
      const valueLen = blob.readInt32BE(at); at += 4
      let value: unknown = null
      if (valueLen >= 0) {
        value = codec.decode(blob.subarray(at, at + valueLen)); at += valueLen
      }
      byDc.set(read.stamp.dc, { stamp: read.stamp, value })
    }
    fields.set(name, byDc)
  }
  return { fields, tombstone }
}
