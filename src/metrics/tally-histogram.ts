import type { Histogram, Registry } from 'prom-client'
import { Tally } from './tally.ts'

/** One series of a TallyHistogram: bound once per label set, then fed whole tallies. */
export interface TallySeries {
  add (tally: Tally): void
}

interface Series {
  readonly labels: Readonly<Record<string, string>>
  readonly tally: Tally
}

interface Sample {
  readonly metricName: string
  readonly labels: Record<string, string | number>
  readonly value: number
}

/**
 * A Prometheus histogram fed with Tallies instead of single observations: prom-client's histogram validates
 * and hashes its labels on every `observe` (about 200 ns), which every applied record would pay, while a
 * Tally costs a few ns and is added here once per batch, when its commit window commits. The exposition is
 * the one of prom-client's histograms (`_bucket{le}` cumulative, `+Inf`, `_sum`, `_count`).
 */
export class TallyHistogram<L extends string> {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly labelNames: readonly L[]
  readonly bounds: readonly number[]
  readonly signed: boolean
  readonly #series = new Map<string, Series>()

  constructor (config: { name: string, help: string, labelNames: readonly L[], buckets: readonly number[], signed?: boolean, registers: readonly Registry[] }) {
    this.name = config.name
    this.help = config.help
    this.labelNames = config.labelNames
    this.bounds = config.buckets
    this.signed = config.signed ?? false
    // The registry needs only name, type, get() and reset(); its type names prom-client's own classes.
    for (const r of config.registers) r.registerMetric(this as unknown as Histogram<L>)
  }

  /** The series of these label values (made on first use, then the same one). */
  series (labels: Readonly<Record<L, string>>): TallySeries {
    const key = this.labelNames.map(n => labels[n]).join('\u0000')
    let s = this.#series.get(key)
    if (s === undefined) {
      s = { labels: Object.fromEntries(this.labelNames.map(n => [n, labels[n]])), tally: new Tally(this.bounds, this.signed) }
      this.#series.set(key, s)
    }
    const tally = s.tally
    return { add: t => tally.add(t) }
  }

  async get (): Promise<{ name: string, help: string, type: 'histogram', aggregator: 'sum', values: Sample[] }> {
    const values: Sample[] = []
    const bucket = `${this.name}_bucket`
    for (const { labels, tally } of this.#series.values()) {
      let acc = 0
      for (const [i, le] of this.bounds.entries()) {
        acc += tally.counts[i]!
        values.push({ metricName: bucket, labels: { le, ...labels }, value: acc })
      }
      values.push({ metricName: bucket, labels: { le: '+Inf', ...labels }, value: tally.count })
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: tally.sum })
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: tally.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Zeroes every series; the bound ones stay bound. */
  reset (): void {
    for (const s of this.#series.values()) s.tally.clear()
  }
}
