import type { Stamp } from '../model/stamp.ts'

/**
 * The encoded stamp, shared by the state codecs (sibling-codec.ts, fields-codec.ts):
 *
 *   u8 dc length, dc (UTF-8), f64 ts (ms; integers up to 2^53 are exact), f64 counter,
 *   u16 event id length, event id (UTF-8); big-endian.
 *
 * Store version 1's `entities.siblings` blob holds stamps in this layout, so it must not change.
 * The UTF-8 bytes are made once per stamp (`stampBytes`), to size the buffer and then to write it.
 */
export interface StampBytes { readonly dc: Buffer, readonly id: Buffer }

export const stampBytes = (s: Stamp): StampBytes => ({ dc: Buffer.from(s.dc, 'utf8'), id: Buffer.from(s.eventId, 'utf8') })

export const stampSize = (b: StampBytes): number => 1 + b.dc.length + 16 + 2 + b.id.length

/** Writes `s` (whose UTF-8 bytes are `b`) at `at`; returns the offset after it. */
export function writeStamp (out: Buffer, at: number, s: Stamp, b: StampBytes): number {
  at = out.writeUInt8(b.dc.length, at)
  at += b.dc.copy(out, at)
  at = out.writeDoubleBE(s.ts, at)
  at = out.writeDoubleBE(s.counter, at)
  at = out.writeUInt16BE(b.id.length, at)
  at += b.id.copy(out, at)
  return at
}

/** Reads the stamp at `at`, and the offset after it. */
export function readStamp (blob: Buffer, at: number): { stamp: Stamp, at: number } {
  const dcLen = blob.readUInt8(at); at += 1
  const dc = blob.toString('utf8', at, at + dcLen); at += dcLen
  const ts = blob.readDoubleBE(at); at += 8
  const counter = blob.readDoubleBE(at); at += 8
  const idLen = blob.readUInt16BE(at); at += 2
  const eventId = blob.toString('utf8', at, at + idLen); at += idLen
  return { stamp: { ts, counter, dc, eventId }, at }
}
