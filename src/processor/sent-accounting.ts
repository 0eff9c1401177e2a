import type { CounterChild, Metrics } from '../metrics/metrics.ts'
import { Tally } from '../metrics/tally.ts'
import type { TallySeries } from '../metrics/tally-histogram.ts'
import { headerString, type RecordHeaders } from '../model/record.ts'
import { H, parseOriginTs } from '../wire/contract.ts'
import type { Plans } from './plan.ts'

/**
 * Accounts for output once Kafka acknowledged it (the outbox flusher's `onSent`): counts every record by its
 * topic (`concord_emitted_total`), and observes, for each merged record, the time from the write it carries
 * to the acknowledgement (`concord_end_to_end_latency_seconds`). Label children of the configured topics'
 * outputs are bound up front.
 */
export class SentAccounting {
  readonly #metrics: Metrics
  readonly #clock: () => number
  readonly #emitted = new Map<string, CounterChild>()
  readonly #latency = new Map<string, TallySeries>()

  constructor (metrics: Metrics, plans: Pick<Plans, 'topics'>, clock: () => number = Date.now) {
    this.#metrics = metrics
    this.#clock = clock
    for (const { config } of plans.topics) {
      for (const topic of [config.outputTopic, config.dlqTopic, config.conflictTopic]) this.#counter(topic)
      this.#latency.set(config.outputTopic, metrics.endToEndLatency.series({ topic: config.outputTopic }))
    }
  }

  /** One run of records Kafka acknowledged. */
  sent (records: readonly { readonly topic: string, readonly headers?: RecordHeaders | undefined }[]): void {
    const now = this.#clock()
    let topic: string | undefined
    let n = 0
    let tally: Tally | undefined
    // Records come in runs of one topic: count each run with one increment.
    const flush = (): void => {
      if (topic === undefined) return
      this.#counter(topic).inc(n)
      if (tally !== undefined) this.#latency.get(topic)?.add(tally)
    }
    for (const r of records) {
      if (r.topic !== topic) {
        flush()
        topic = r.topic
        n = 0
        tally = this.#latency.has(topic) ? new Tally() : undefined
      }
      n++
      if (tally === undefined || r.headers === undefined) continue
      const ts = newestOriginTs(r.headers)
      if (ts !== undefined) tally.observe((now - ts) / 1000)
    }
    flush()
  }

  #counter (topic: string): CounterChild {
    let c = this.#emitted.get(topic)
    if (c === undefined) {
      c = this.#metrics.child(this.#metrics.emitted, { topic })
      this.#emitted.set(topic, c)
    }
    return c
  }
}

/**
 * The origin time (ms) of the newest write a merged record carries: its `x-origin-ts`, or the newest of its
 * `x-merged-sources` when its value was built from several writes; undefined when it carries neither.
 */
export function newestOriginTs (headers: RecordHeaders): number | undefined {
  const single = headerString(headers, H.originTs)
  if (single !== undefined) {
    const t = parseOriginTs(single)
    return typeof t === 'string' ? undefined : t.ts
  }
  const sources = headerString(headers, H.mergedSources)
  if (sources === undefined) return undefined
  let newest: number | undefined
  try {
    for (const s of JSON.parse(sources) as Array<{ ts?: unknown }>) {
      const t = typeof s.ts === 'string' ? parseOriginTs(s.ts) : undefined
      if (t !== undefined && typeof t !== 'string' && (newest === undefined || t.ts > newest)) newest = t.ts
    }
  } catch {
    return undefined
  }
  return newest
}
