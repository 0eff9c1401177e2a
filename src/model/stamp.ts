/**
 * The write stamp of one version and the total order on stamps that every datacenter uses to pick a winner.
 *
 * Order: (ts, counter, dc, eventId), compared in that order; numbers numerically, strings by UTF-8 byte order.
 * `ts` is the writer's wall clock in milliseconds since the epoch and `counter` the hybrid-logical-clock counter
 * (0 when the writer has none). The order is total as long as event ids are unique per write, and it never
 * depends on the clock of the datacenter that merges.
 */
export interface Stamp {
  readonly ts: number
  readonly counter: number
  readonly dc: string
  readonly eventId: string
}

/** Negative when a < b, 0 when equal, positive when a > b, by Unicode code point (= UTF-8 byte order). */
export function compareUtf8 (a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // UTF-16 order differs from code point order only when one side is a surrogate (a code point above U+FFFF)
    // and the other is in U+E000..U+FFFF: the surrogate pair encodes the larger code point.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

export function compareStamps (a: Stamp, b: Stamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  const dc = compareUtf8(a.dc, b.dc)
  if (dc !== 0) return dc
  return compareUtf8(a.eventId, b.eventId)
}
