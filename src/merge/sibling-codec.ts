import { compareStamps, type Stamp } from '../model/stamp.ts'
import type { Write } from './policy.ts'
import type { SiblingState } from './sibling-state.ts'
import { readStamp, stampBytes, stampSize, writeStamp } from './stamp-codec.ts'

/**
 * The encoded sibling state (sibling-state.ts), as the store keeps it:
 *
 *   u8 count, then per sibling:
 *     stamp: u8 dc length, dc (UTF-8), f64 ts (ms; integers up to 2^53 are exact), f64 counter,
 *            u16 event id length, event id (UTF-8)   (stamp-codec.ts)
 *     i32 value length (-1 for a delete), value bytes
 *   then u8 1 and the tombstone's stamp, or u8 0 when there is none;
 *   all big-endian.
 * The siblings part is the `entities.siblings` blob of store version 1, which had no tombstone: a blob that
 * ends after the siblings reads with the greatest delete among them as its tombstone, which under
 * last-write-wins (the only policy then) resolves every state as version 1 did.
 * Hand-rolled because it is read and written once per changed entity on the hot path.
 */
export function encodeSiblingState (state: SiblingState): Buffer {
  const { siblings, tombstone } = state
  const stamps = siblings.map(s => stampBytes(s.stamp))
  const tomb = tombstone === undefined ? undefined : stampBytes(tombstone)
  let size = 1 + 1 + (tomb === undefined ? 0 : stampSize(tomb))
  siblings.forEach((s, i) => { size += stampSize(stamps[i]!) + 4 + (s.value?.length ?? 0) })
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt8(siblings.length, 0)
  siblings.forEach((s, i) => {
    at = writeStamp(out, at, s.stamp, stamps[i]!)
    if (s.value === null) {
      at = out.writeInt32BE(-1, at)
    } else {
      at = out.writeInt32BE(s.value.length, at)
      at += s.value.copy(out, at)
    }
  })
  at = out.writeUInt8(tomb === undefined ? 0 : 1, at)
  if (tomb !== undefined) writeStamp(out, at, tombstone!, tomb)
  return out
}

export function decodeSiblingState (blob: Buffer): SiblingState {
  const count = blob.readUInt8(0)
  let at = 1
  const siblings: Write[] = []
  for (let i = 0; i < count; i++) {
    const read = readStamp(blob, at)
    at = read.at
    const valueLen = blob.readInt32BE(at); at += 4
    let value: Buffer | null = null
    if (valueLen >= 0) {
      value = Buffer.from(blob.subarray(at, at + valueLen)); at += valueLen
    }
    siblings.push({ stamp: read.stamp, value })
  }
  let tombstone: Stamp | undefined
  if (at < blob.length) {
    if (blob.readUInt8(at) === 1) tombstone = readStamp(blob, at + 1).stamp
  } else {
    for (const s of siblings) {
      if (s.value === null && (tombstone === undefined || compareStamps(s.stamp, tombstone) > 0)) tombstone = s.stamp
    }
  }
  return { siblings, tombstone }
}
