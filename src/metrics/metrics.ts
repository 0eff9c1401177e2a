import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client'
import { LATENCY_BUCKETS, SKEW_BUCKETS } from './tally.ts'
import { TallyHistogram } from './tally-histogram.ts'

/** An increment-only handle on one series of a counter. */
export interface CounterChild {
  inc (n: number): void
}

export interface MetricsOptions {
  /** The processor's bound on unsent output (records), named in the help of `concord_outbox_pending`. */
  readonly maxUnsentRecords?: number
  /** The lag (records) under which the processor counts as caught up, named in the help of `concord_ready`. */
  readonly maxLagRecords?: number
}

/**
 * Every metric concord exports, declared in one place; `metrics/` is the only importer of prom-client.
 * Label values are topic names, DC ids, partition numbers and fixed outcome names, never record keys. Knows
 * nothing of the processor: what it must say about it (the bounds, the outcome names) comes in as arguments.
 * `source_dc` is the DC whose copy of a topic an input is (the local DC for `orders`, dc2 for `dc2.orders`, as
 * MirrorMaker 2 names a replication flow by its source cluster), not a header of the record: so every consumed
 * record has one, malformed or not, and no header value (which a bad producer chooses) becomes a label value.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly records = new Counter({
    name: 'concord_records_total',
    help: 'Records consumed, by input topic, its source DC and outcome (applied, stale, duplicate, loop, dead_lettered, too_late); counted when their commit window commits',
    labelNames: ['topic', 'source_dc', 'outcome'] as const,
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

  readonly replicationLatency = new TallyHistogram({
    name: 'concord_replication_latency_seconds',
    help: 'Per applied record: the time it was processed minus its origin timestamp (x-origin-ts, or the configured timestampSource), by input topic and source DC; an observation only, counted when its commit window commits',
    labelNames: ['source_dc', 'topic'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })

  readonly originAhead = new TallyHistogram({
    name: 'concord_origin_ahead_seconds',
    help: 'Per valid record: its origin timestamp minus the time it arrived here, by source DC. Above 0 the writer\'s clock runs ahead of this one by at least that; below 0 it is replication delay, or a clock behind. An observation only: nothing is decided by it',
    labelNames: ['source_dc'] as const,
    buckets: SKEW_BUCKETS,
    signed: true,
    registers: [this.registry]
  })

  readonly originAheadMax = new Gauge({
    name: 'concord_origin_ahead_max_seconds',
    help: 'The greatest origin timestamp minus arrival time seen from a source DC in the current skew.intervalMs (above 0: a writer\'s clock runs ahead of this one by at least that)',
    labelNames: ['source_dc'] as const,
    registers: [this.registry]
  })

  readonly endToEndLatency = new TallyHistogram({
    name: 'concord_end_to_end_latency_seconds',
    help: 'Per merged record: the time Kafka acknowledged it minus the origin timestamp of the newest write it carries (x-origin-ts, or the newest of x-merged-sources), by output topic',
    labelNames: ['topic'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })

  readonly consumerLag = new Gauge({
    name: 'concord_consumer_lag_records',
    help: 'Per input partition assigned to this instance: the log end offset minus the committed position in the state store, refreshed every metrics.lagIntervalMs',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry]
  })

  readonly outboxPending: Gauge
  readonly outboxLimit = new Gauge({
    name: 'concord_outbox_pending_limit',
    help: 'The bound on concord_outbox_pending from which consumption waits for the producer (records)',
    registers: [this.registry]
  })

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
      help: '1 while ready (as /readyz): partitions of the inputs assigned, state restored, and the lag of the assigned partitions' +
        (options.maxLagRecords === undefined ? ' within the threshold' : ` at most ${options.maxLagRecords.toLocaleString('en-US')} records`) + ', else 0',
      registers: [this.registry]
    })
    if (bound !== undefined) this.outboxLimit.set(bound)
    collectDefaultMetrics({ register: this.registry, prefix: 'concord_' })
  }

  /**
   * Bound label children of `concord_records_total` for one input topic, one per outcome name, made once so
   * the hot path does no label lookups.
   */
  recordCounters<O extends string> (topic: string, sourceDc: string, outcomes: readonly O[]): Readonly<Record<O, CounterChild>> {
    return Object.fromEntries(outcomes.map(o => [o, this.child(this.records, { topic, source_dc: sourceDc, outcome: o })])) as Record<O, CounterChild>
  }

  /**
   * A bound child of `counter`, exported at 0 from now on: a series that appears only at its first increment
   * hides that increment from Prometheus's `increase()` and `rate()` (an alert on the first dead letters after
   * a start would not fire), so every series known up front starts at 0.
   */
  child<L extends string> (counter: Counter<L>, labels: LabelValues<L>): CounterChild {
    counter.inc(labels, 0)
    return counter.labels(labels)
  }
}
