import { ClockError } from '../errors.ts'

/**
 * A hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone: "Logical Physical Clocks", 2014), the
 * writer side of `x-origin-ts`: `<ms>:<counter>`, where `ms` follows the physical clock and `counter` orders
 * the events that share a millisecond, or that happen while the physical clock lags behind the clock's own
 * time (a step backwards, a stamp observed from a writer that runs ahead).
 *
 * Invariants, for every time `t` the clock gives when the physical clock reads `pt`:
 *   - monotonic: `t` is greater, as (ts, counter), than every time it gave or observed before;
 *   - bounded: `pt <= t.ts <= pt + maxOffsetMs`. The clock never runs further ahead of its physical clock
 *     than the maximum offset (CockroachDB's default is 500 ms): where it would have to (the physical clock
 *     stepped back further than that, or a stamp observed is further ahead), it throws a ClockError and
 *     gives no time at all, rather than a stamp that would misorder writes.
 * Pure: the physical clock is injected, and the high-water mark of an earlier run comes in as `start`.
 */

/** A clock reading: milliseconds since the epoch and the logical counter (the `x-origin-ts` form). */
export interface HlcTime {
  readonly ts: number
  readonly counter: number
}

export interface HybridClockOptions {
  /** The physical clock, in ms since the epoch (Date.now in production; a fake in tests). */
  readonly physical: () => number
  /** How far the clock may run ahead of its physical clock, in ms (default 500). */
  readonly maxOffsetMs?: number
  /** The greatest time given by an earlier run of the same writer; the clock continues after it. */
  readonly start?: HlcTime
}

export const DEFAULT_MAX_OFFSET_MS = 500

/** Negative, 0 or positive as a is before, equal to or after b. */
export function compareHlc (a: HlcTime, b: HlcTime): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  return a.counter === b.counter ? 0 : a.counter < b.counter ? -1 : 1
}

export class HybridClock {
  readonly maxOffsetMs: number
  readonly #physical: () => number
  #last: HlcTime

  constructor (options: HybridClockOptions) {
    this.maxOffsetMs = options.maxOffsetMs ?? DEFAULT_MAX_OFFSET_MS
    this.#physical = options.physical
    this.#last = { ts: 0, counter: 0 }
    if (options.start !== undefined) this.observe(options.start, 'the high-water mark of an earlier run')
  }

  /** The greatest time given or observed so far. */
  get last (): HlcTime {
    return this.#last
  }

  /** The time of a new local event (a write): later than every time given or observed before. */
  now (): HlcTime {
    const pt = this.#physical()
    const l = this.#last
    if (pt > l.ts) return (this.#last = { ts: pt, counter: 0 })
    this.#refuseBeyondBound(l.ts, pt, 'the last time this clock gave')
    return (this.#last = { ts: l.ts, counter: l.counter + 1 })
  }

  /**
   * Takes in a time seen elsewhere (another writer's stamp, or an earlier run's high-water mark), so that
   * every later `now()` comes after it. Throws when it lies further ahead of the physical clock than the bound.
   */
  observe (remote: HlcTime, what = 'the time observed'): void {
    const pt = this.#physical()
    this.#refuseBeyondBound(remote.ts, pt, what)
    const l = this.#last
    const ts = Math.max(l.ts, remote.ts, pt)
    let counter: number
    if (ts === l.ts && ts === remote.ts) counter = Math.max(l.counter, remote.counter)
    else if (ts === l.ts) counter = l.counter
    else if (ts === remote.ts) counter = remote.counter
    else counter = 0
    // The observed time itself is not issued: the next now() increments past it (or moves to a later ms).
    this.#last = { ts, counter }
  }

  #refuseBeyondBound (ts: number, pt: number, what: string): void {
    const ahead = ts - pt
    if (ahead > this.maxOffsetMs) {
      throw new ClockError(
        `${what} (${ts}) is ${ahead} ms ahead of the physical clock (${pt}), more than the maximum offset of ` +
        `${this.maxOffsetMs} ms: the physical clock stepped backwards, or runs behind the clock that made that time`)
    }
  }
}
