import { InternalError } from '../errors.ts'

/**
 * Latency bucket bounds in seconds: 10 ms to 60 s, about three per decade, so that a p99 from
 * `histogram_quantile` resolves both a healthy replication (tens of ms) and an outage (tens of seconds).
 */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])

/**
 * Bucket bounds in seconds for a signed clock difference (an origin timestamp minus the time it arrived): a
 * writer's clock minutes ahead or behind shows apart from the tens of ms that replication takes.
 */
export const SKEW_BUCKETS: readonly number[] = Object.freeze([-300, -60, -10, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 10, 60, 300])

/**
 * Histogram observations kept in plain memory: a count per bucket (not cumulative; the last one is +Inf), a
 * sum and a count. Cheap enough for every record (a binary search and two additions, no label lookup), and
 * held back until it is added to a histogram series: the observations of a commit window that is discarded
 * are dropped with it, as its counts are.
 */
export class Tally {
  readonly bounds: readonly number[]
  readonly counts: Float64Array
  /** Whether negative observations count as they are (else as 0: a latency cannot be negative). */
  readonly signed: boolean
  sum = 0
  count = 0

  constructor (bounds: readonly number[] = LATENCY_BUCKETS, signed = false) {
    this.bounds = bounds
    this.signed = signed
    this.counts = new Float64Array(bounds.length + 1)
  }

  /** One observation; unless signed, a negative one (a clock running behind another) counts as 0. */
  observe (value: number): void {
    const v = value > 0 || this.signed ? value : 0
    const bounds = this.bounds
    let lo = 0
    let hi = bounds.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (v <= bounds[mid]!) hi = mid
      else lo = mid + 1
    }
    this.counts[lo]!++
    this.sum += v
    this.count++
  }

  /** Adds another tally over the same bounds into this one. */
  add (other: Tally): void {
    if (other.counts.length !== this.counts.length) throw new InternalError(`a tally of ${other.bounds.length} bounds cannot be added to one of ${this.bounds.length}`)
    if (other.count === 0) return
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.sum += other.sum
    this.count += other.count
  }

  clear (): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}
