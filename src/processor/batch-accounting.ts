import { InternalError } from '../errors.ts'
import type { InBatch } from '../model/record.ts'
import type { Logger } from '../log/logger.ts'
import type { CounterChild, Metrics } from '../metrics/metrics.ts'
import type { TallySeries } from '../metrics/tally-histogram.ts'
import type { BatchCounts, RecordOutcome, WindowResult } from './engine.ts'
import { SkewMonitor } from './skew-monitor.ts'

/** Each outcome once: a record type, so that the compiler insists on every RecordOutcome and nothing else. */
const OUTCOMES: Readonly<Record<RecordOutcome, true>> = { applied: true, stale: true, duplicate: true, loop: true, dead_lettered: true, too_late: true }
export const RECORD_OUTCOMES = Object.freeze(Object.keys(OUTCOMES) as RecordOutcome[])

interface Counters {
  readonly outcomes: Readonly<Record<RecordOutcome, CounterChild>>
  readonly conflicts: CounterChild
  readonly latency: TallySeries
  readonly ahead: TallySeries
  readonly sourceDc: string
}

/**
 * One input topic, with the DC whose copy it is (the `source_dc` of its records and replication latency), and
 * the configured topic and policy it feeds (the labels of its conflicts and purges).
 */
export interface InputLabels {
  readonly input: string
  readonly sourceDc: string
  readonly topic: string
  readonly policy: string
}

/**
 * Turns each processed batch's result into metrics and the few warnings an operator needs: dead letters
 * each time, and partition mismatches once per input topic (they are counted every time). The processor
 * calls it once the batch's commit window committed, so a discarded window (consumed again) counts once.
 */
export class BatchAccounting {
  readonly #metrics: Metrics
  readonly #log: Logger
  readonly #counters = new Map<string, Counters>()
  readonly #mismatchWarned = new Set<string>()
  readonly #skew: SkewMonitor
  /** Per configured topic. */
  readonly #purged = new Map<string, CounterChild>()

  /** Binds the counters of every input topic up front. */
  constructor (metrics: Metrics, log: Logger, inputs: Iterable<InputLabels>, skew: SkewMonitor = new SkewMonitor(metrics, log)) {
    this.#metrics = metrics
    this.#log = log
    this.#skew = skew
    for (const { input, sourceDc, topic, policy } of inputs) {
      this.#counters.set(input, {
        outcomes: metrics.recordCounters(input, sourceDc, RECORD_OUTCOMES),
        conflicts: metrics.child(metrics.conflicts, { topic, policy }),
        latency: metrics.replicationLatency.series({ source_dc: sourceDc, topic: input }),
        ahead: metrics.originAhead.series({ source_dc: sourceDc }),
        sourceDc
      })
      this.#purged.set(topic, metrics.child(metrics.purged, { topic }))
    }
  }

  count (batch: Pick<InBatch, 'topic' | 'partition' | 'records'>, result: BatchCounts): void {
    const { topic, partition } = batch
    const counters = this.#counters.get(topic)
    if (counters === undefined) throw new InternalError(`no counters for input topic ${topic}`)
    for (const outcome of RECORD_OUTCOMES) {
      const n = result.counts[outcome]
      if (n > 0) counters.outcomes[outcome].inc(n)
    }
    if (result.conflicts > 0) counters.conflicts.inc(result.conflicts)
    counters.latency.add(result.latency)
    counters.ahead.add(result.ahead)
    this.#skew.observe(counters.sourceDc, topic, result.maxAheadMs)
    this.#metrics.batchRecords.observe(batch.records.length)
    if (result.partitionMismatches > 0) {
      this.#metrics.partitionMismatches.labels({ topic }).inc(result.partitionMismatches)
      if (!this.#mismatchWarned.has(topic)) {
        this.#mismatchWarned.add(topic)
        this.#log.warn({ topic, partition }, 'versions of one entity arrive in different partitions: producers do not partition by entity id, so this topic\'s state cannot be split by partition when scaling out (logged once per topic)')
      }
    }
    if (result.deadLetters > 0) {
      this.#log.warn({ topic, partition, records: result.deadLetters }, 'records sent to the dead-letter topic')
    }
  }

  /** A committed window: its purges. */
  committed (result: Pick<WindowResult, 'purged'>): void {
    for (const [topic, n] of result.purged) this.#purged.get(topic)?.inc(n)
  }
}
