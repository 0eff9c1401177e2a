import { InternalError } from '../errors.ts'

/**
 * Latency bucket bounds in seconds: 10 ms to 60 s, about three per decade, so that a p99 from
 * `histogram_quantile` resolves both a healthy replication (tens of ms) and an outage (tens of seconds).
 */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])

/**
 * Histogram observations kept in plain memory: a count per bucket (not cumulative; the last one is +Inf), a
 * sum and a count. Cheap enough for every record (a binary search and two additions, no label lookup), and
 * held back until it is added to a histogram series: the observations of a commit window that is discarded
 * are dropped with it, as its counts are.
 */
export class Tally {
  readonly bounds: readonly number[]
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (bounds: readonly number[] = LATENCY_BUCKETS) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  /** One observation; a negative one (a clock running behind another) counts as 0. */
  observe (value: number): void {
    const v = value > 0 ? value : 0
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
