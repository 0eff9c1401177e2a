import { randomFillSync } from 'node:crypto'

/**
 * A UUIDv7 (RFC 9562 §5.7) for `x-event-id`: 48 bits of milliseconds since the epoch, then 74 random bits
 * (with the version and variant bits), so ids sort by time and do not collide. The time is the write's
 * hybrid-clock time, so an id sorts with its stamp; `rand_a` (12 bits) holds the clock's counter while it fits,
 * which keeps the ids of one writer in stamp order within a millisecond too.
 */
const pool = Buffer.alloc(16 * 256)
let used = pool.length

function random16 (): Buffer {
  if (used === pool.length) {
    randomFillSync(pool)
    used = 0
  }
  const bytes = pool.subarray(used, used + 16)
  used += 16
  return bytes
}

export function uuidv7 (ms: number, counter: number): string {
  const b = Buffer.from(random16())
  b.writeUIntBE(ms, 0, 6)
  const seq = Math.min(counter, 0xfff)
  b[6] = 0x70 | (seq >>> 8)
  b[7] = seq & 0xff
  b[8] = 0x80 | (b[8]! & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
