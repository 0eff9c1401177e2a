import { InternalError } from '../errors.ts'
import { compareStamps, compareUtf8, type Stamp } from '../model/stamp.ts'
import type { ValueCodec } from './policy.ts'
import { readStamp, stampBytes, stampSize, writeStamp } from './stamp-codec.ts'

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
 *   u32 stamp count, then the stamp table: each distinct stamp of the entries once, in stamp order
 *     (compareStamps), each as u8 dc length, dc (UTF-8), f64 ts (ms; integers up to 2^53 are exact),
 *     f64 counter, u16 event id length, event id (UTF-8)   (stamp-codec.ts);
 *   u32 field count, then per field, in UTF-8 byte order of the names:
 *     u32 name length, name (UTF-8)
 *     u16 entry count (at least 1), then per entry, in UTF-8 byte order of the writer DCs:
 *       the index of the entry's stamp in the table (its dc is the entry's DC): u8 when the table holds at
 *       most 256 stamps, u16 when at most 65,536, else u32;
 *       i32 value length (-1 for a field delete), the field's value encoded alone with the topic's codec
 *   all big-endian.
 * A patch sets its fields with one stamp, so the table holds it once rather than once per field: a stamp
 * is 20 bytes and the DC and event id, an index 1 byte. Stamps, names and DCs are sorted so that equal
 * states encode to equal bytes whatever order they were set in.
 * A value is decoded again when the state is read: the codecs give back the same bytes for a value they
 * decoded (encode(decode(encode(v))) = encode(v)), so a state survives a round trip byte for byte.
 * This is the first layout of the `fields` state format: lww-fields had no release before it took this
 * layout, so no store holds another and there is nothing to migrate. Changing it now needs a new format.
 * Hand-rolled because it is read and written once per changed entity on the hot path.
 */
export function encodeFieldsState (state: FieldsState, codec: ValueCodec): Buffer {
  const tomb = state.tombstone === undefined ? undefined : stampBytes(state.tombstone)
  // The entries of one patch share its stamp object, so the distinct objects are few; equal stamps held as
  // different objects (one decoded, one absorbed) share a row of the table.
  const held = new Set<Stamp>()
  for (const byDc of state.fields.values()) for (const entry of byDc.values()) held.add(entry.stamp)
  const table: Stamp[] = []
  const index = new Map<Stamp, number>()
  for (const s of [...held].sort(compareStamps)) {
    if (table.length === 0 || compareStamps(s, table[table.length - 1]!) !== 0) table.push(s)
    index.set(s, table.length - 1)
  }
  const tableBytes = table.map(stampBytes)
  const width = indexWidth(table.length)
  let size = 1 + (tomb === undefined ? 0 : stampSize(tomb)) + 4 + 4
  for (const b of tableBytes) size += stampSize(b)
  const names = [...state.fields.keys()].sort(compareUtf8)
  const parts = names.map(name => {
    const byDc = state.fields.get(name)!
    const entries = [...byDc.keys()].sort(compareUtf8).map(dc => {
      const entry = byDc.get(dc)!
      const value = entry.value === null ? null : codec.encode(entry.value)
      size += width + 4 + (value?.length ?? 0)
      return { index: index.get(entry.stamp)!, value }
    })
    const bytes = Buffer.from(name, 'utf8')
    size += 4 + bytes.length + 2
    return { name: bytes, entries }
  })
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt8(tomb === undefined ? 0 : 1, 0)
  if (tomb !== undefined) at = writeStamp(out, at, state.tombstone!, tomb)
  at = out.writeUInt32BE(table.length, at)
  for (let i = 0; i < table.length; i++) at = writeStamp(out, at, table[i]!, tableBytes[i]!)
  at = out.writeUInt32BE(parts.length, at)
  for (const p of parts) {
    at = out.writeUInt32BE(p.name.length, at)
    at += p.name.copy(out, at)
    at = out.writeUInt16BE(p.entries.length, at)
    for (const e of p.entries) {
      at = out.writeUIntBE(e.index, at, width)
      if (e.value === null) {
        at = out.writeInt32BE(-1, at)
      } else {
        at = out.writeInt32BE(e.value.length, at)
        at += e.value.copy(out, at)
      }
    }
  }
  return out
}

/** The bytes of a stamp index into a table of `count` stamps. */
const indexWidth = (count: number): number => count <= 0x100 ? 1 : count <= 0x10000 ? 2 : 4

export function decodeFieldsState (blob: Buffer, codec: ValueCodec): FieldsState {
  let at = 1
  let tombstone: Stamp | undefined
  if (blob.readUInt8(0) === 1) {
    const read = readStamp(blob, at)
    tombstone = read.stamp
    at = read.at
  }
  const stamps = blob.readUInt32BE(at); at += 4
  const table: Stamp[] = []
  for (let i = 0; i < stamps; i++) {
    const read = readStamp(blob, at)
    table.push(read.stamp)
    at = read.at
  }
  const width = indexWidth(stamps)
  const count = blob.readUInt32BE(at); at += 4
  const fields = new Map<string, ReadonlyMap<string, FieldEntry>>()
  for (let i = 0; i < count; i++) {
    const nameLen = blob.readUInt32BE(at); at += 4
    const name = blob.toString('utf8', at, at + nameLen); at += nameLen
    const entries = blob.readUInt16BE(at); at += 2
    const byDc = new Map<string, FieldEntry>()
    for (let j = 0; j < entries; j++) {
      const n = blob.readUIntBE(at, width); at += width
      // Entries of one stamp share its object, as they did when absorbed.
      const stamp = table[n]
      if (stamp === undefined) throw new InternalError(`fields state: entry ${j} of field ${JSON.stringify(name)} names stamp ${n} of a table of ${stamps}`)
      const valueLen = blob.readInt32BE(at); at += 4
      let value: unknown = null
      if (valueLen >= 0) {
        // A view, not a copy: the codec reads the value in place.
        value = codec.decode(blob.subarray(at, at + valueLen)); at += valueLen
      }
      byDc.set(stamp.dc, { stamp, value })
    }
    fields.set(name, byDc)
  }
  return { fields, tombstone }
}
