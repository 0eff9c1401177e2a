import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface MetricsOptions {
  /** The processor's bound on unsent output (records), named in the help of `concord_outbox_pending`. */
  readonly maxUnsentRecords?: number
}

/**
 * Every metric concord exports, declared in one place; `metrics/` is the only importer of prom-client.
 * Label values are topic names and fixed outcome names, never record keys. Knows nothing of the processor: what
 * it must say about it (the unsent bound, the outcome names) comes in as arguments.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly records = new Counter({
    name: 'concord_records_total',
    help: 'Records consumed, by input topic and outcome (applied, stale, duplicate, loop, dead_lettered, too_late)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry]
  })

  readonly emitted = new Counter({
    name: 'concord_emitted_total',
    help: 'Records produced and acknowledged by Kafka (merged changes, dead letters and conflicts), by output topic',
    labelNames: ['topic'] as const,
    registers: [this.registry]
  })

  readonly batchDuration = new Histogram({
    name: 'concord_batch_duration_seconds',
    help: 'Time to process one consumed batch: parse and merge it into the commit window, and commit the window when the batch closes it (its output is produced in the background)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry]
  })

  readonly batchRecords = new Histogram({
    name: 'concord_batch_records',
    help: 'Records per consumed batch',
    buckets: [1, 10, 100, 1000, 10000],
    registers: [this.registry]
  })

  readonly partitionMismatches = new Counter({
    name: 'concord_partition_mismatches_total',
    help: 'Versions that arrived in another partition than their entity\'s home partition (producers do not partition by entity id)',
    labelNames: ['topic'] as const,
    registers: [this.registry]
  })

  readonly conflicts = new Counter({
    name: 'concord_conflicts_total',
    help: 'Conflicts recorded on the conflict feed: live writes of two DCs within the conflict window, one kept (by topic and policy)',
    labelNames: ['topic', 'policy'] as const,
    registers: [this.registry]
  })

  readonly purged = new Counter({
    name: 'concord_gc_purged_total',
    help: 'Deleted entities purged from the state store by garbage collection, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry]
  })

  readonly outboxPending: Gauge
  readonly ready: Gauge

  constructor (options: MetricsOptions = {}) {
    const bound = options.maxUnsentRecords
    this.outboxPending = new Gauge({
      name: 'concord_outbox_pending',
      help: 'Committed output records not yet acknowledged by Kafka' +
        (bound === undefined ? '' : ` (consumption waits from ${bound.toLocaleString('en-US')} on)`),
      registers: [this.registry]
    })
    this.ready = new Gauge({
      name: 'concord_ready',
      help: '1 while partitions of the input topics are assigned to this instance and it consumes them, else 0',
      registers: [this.registry]
    })
    collectDefaultMetrics({ register: this.registry, prefix: 'concord_' })
  }

  /** Counts records acknowledged by Kafka, by their topic. */
  countEmitted (records: readonly { readonly topic: string }[]): void {
    const byTopic = new Map<string, number>()
    for (const r of records) byTopic.set(r.topic, (byTopic.get(r.topic) ?? 0) + 1)
    for (const [topic, n] of byTopic) this.emitted.labels({ topic }).inc(n)
  }

  /**
   * Bound label children of `concord_records_total` for one input topic, one per outcome name, made once so
   * the hot path does no label lookups.
   */
  recordCounters<O extends string> (topic: string, outcomes: readonly O[]): Readonly<Record<O, Counter>> {
    return Object.fromEntries(outcomes.map(o => [o, this.records.labels({ topic, outcome: o })])) as Record<O, Counter>
  }
}
