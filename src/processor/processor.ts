import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaConsumer } from '../kafka/consumer.ts'
import type { InBatch } from '../kafka/records.ts'
import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { StateStore } from '../store/state-store.ts'
import type { Engine, RecordOutcome } from './engine.ts'
import type { OutboxFlusher } from './outbox.ts'
import type { Plans, TopicPlan } from './plan.ts'

export interface ProcessorDeps {
  readonly plans: Plans
  readonly engine: Engine
  readonly store: StateStore
  readonly outbox: OutboxFlusher
  readonly admin: KafkaAdmin
  /** A fresh consumer in the processor's group; called again whenever the set of input topics grows. */
  readonly newConsumer: () => Promise<KafkaConsumer>
  readonly metrics: Metrics
  readonly log: Logger
  /** How often to look for input topics that did not exist yet, in ms. */
  readonly discoveryIntervalMs?: number
}

/**
 * Committed output not yet acknowledged by Kafka, in records, above which consumption waits for the producer.
 * Below it, a batch's output is produced while the next batches are consumed and committed.
 */
export const MAX_UNSENT_RECORDS = 20_000

/**
 * Runs the engine on Kafka: consumes every input topic that exists (waiting for the others and picking them
 * up when they appear), commits each batch's state, offsets and output in one transaction, and produces the
 * output in the background, in commit order. Positions come from the store, so a restart resumes exactly
 * after the last committed batch, and output committed before a crash is produced on start.
 */
export class Processor {
  readonly #d: ProcessorDeps
  readonly #counters = new Map<string, Readonly<Record<RecordOutcome, { inc (n: number): void }>>>()
  readonly #mismatchWarned = new Set<string>()
  #consumer: KafkaConsumer | undefined
  #consuming = new Set<string>()
  #stopping = false
  #discovery: Promise<void> | undefined
  #ready = false
  /** The background flush, while one runs; `#dirty` asks it for one more round. */
  #flushing: Promise<void> | undefined
  #dirty = false

  constructor (deps: ProcessorDeps) {
    this.#d = deps
    for (const input of deps.plans.inputs.keys()) this.#counters.set(input, deps.metrics.recordCounters(input))
  }

  get ready (): boolean { return this.#ready }

  async start (): Promise<void> {
    // Output committed before a crash goes out before anything new is consumed.
    const resent = await this.#d.outbox.flush()
    if (resent > 0) this.#d.log.info({ records: resent }, 'sent output committed before the last stop')
    await this.#refresh()
    this.#discovery = this.#discover()
  }

  async stop (): Promise<void> {
    this.#stopping = true
    this.#ready = false
    this.#d.metrics.ready.set(0)
    await this.#consumer?.stop()
    await this.#discovery
    await this.#flushing?.catch(() => {})
    await this.#d.outbox.flush()
  }

  async #discover (): Promise<void> {
    const interval = this.#d.discoveryIntervalMs ?? 5_000
    while (!this.#stopping) {
      await sleep(interval)
      if (this.#stopping) return
      try {
        await this.#refresh()
      } catch (err) {
        this.#d.log.warn({ err }, 'could not look for new input topics; will retry')
      }
    }
  }

  /** (Re)starts the consumer when input topics appeared since the last look. */
  async #refresh (): Promise<void> {
    const wanted = [...this.#d.plans.inputs.keys()]
    const counts = await this.#d.admin.partitionCounts(wanted)
    const existing = wanted.filter(t => counts.has(t))
    const missing = wanted.filter(t => !counts.has(t))
    if (existing.length === this.#consuming.size && existing.every(t => this.#consuming.has(t))) return
    for (const plan of this.#d.plans.topics) await this.#ensureOutputs(plan, counts)
    if (this.#stopping) return
    await this.#consumer?.stop()
    this.#consumer = await this.#d.newConsumer()
    this.#consuming = new Set(existing)
    if (missing.length > 0) this.#d.log.info({ missing }, 'waiting for input topics that do not exist yet')
    if (existing.length === 0) return
    const offsets = this.#d.store.offsets()
    await this.#consumer.run({
      topics: existing,
      startOffset: (topic, partition) => {
        const next = offsets.get(`${topic}:${partition}`)
        return next === undefined ? undefined : String(next)
      },
      onBatch: batch => this.#onBatch(batch)
    })
    this.#d.log.info({ topics: existing }, 'consuming')
    this.#ready = true
    this.#d.metrics.ready.set(1)
  }

  /** Creates the output (compacted changelog) and dead-letter topics with as many partitions as the inputs. */
  async #ensureOutputs (plan: TopicPlan, counts: ReadonlyMap<string, number>): Promise<void> {
    const partitions = Math.max(0, ...plan.inputs.map(i => counts.get(i.topic) ?? 0))
    if (partitions === 0) return
    const { outputTopic, dlqTopic } = plan.config
    await this.#d.admin.createTopics([
      { topic: outputTopic, partitions, config: { 'cleanup.policy': 'compact' } },
      { topic: dlqTopic, partitions }
    ])
    const actual = await this.#d.admin.partitionCounts([outputTopic, dlqTopic])
    plan.outputPartitions = actual.get(outputTopic) ?? partitions
    plan.dlqPartitions = actual.get(dlqTopic) ?? partitions
  }

  async #onBatch (batch: InBatch): Promise<void> {
    const { metrics, log } = this.#d
    const end = metrics.batchDuration.startTimer()
    const result = this.#d.engine.process(batch)
    const counters = this.#counters.get(batch.topic)!
    for (const [outcome, n] of Object.entries(result.counts) as Array<[RecordOutcome, number]>) if (n > 0) counters[outcome].inc(n)
    metrics.batchRecords.observe(batch.records.length)
    if (result.partitionMismatches > 0) {
      metrics.partitionMismatches.labels({ topic: batch.topic }).inc(result.partitionMismatches)
      if (!this.#mismatchWarned.has(batch.topic)) {
        this.#mismatchWarned.add(batch.topic)
        log.warn({ topic: batch.topic, partition: batch.partition }, 'versions of one entity arrive in different partitions: producers do not partition by entity id, so this topic\'s state cannot be split by partition when scaling out (logged once per topic)')
      }
    }
    if (result.deadLetters > 0) {
      log.warn({ topic: batch.topic, partition: batch.partition, records: result.deadLetters }, 'records sent to the dead-letter topic')
    }
    end()
    if (result.emitted + result.deadLetters > 0) {
      const flushing = this.#flush()
      // While Kafka refuses output, consumption stops once the unsent output reaches the bound, rather than
      // piling up. While stopping, the error reaches stop() through its own flush.
      if (this.#d.store.pendingCount() >= MAX_UNSENT_RECORDS) await flushing
      else flushing.catch(() => {})
    }
  }

  /** Starts the background flush, or asks the running one for another round; resolves when it ends. */
  #flush (): Promise<void> {
    this.#dirty = true
    this.#flushing ??= (async () => {
      try {
        while (this.#dirty) {
          this.#dirty = false
          await this.#flushUntilSent()
        }
      } finally {
        this.#flushing = undefined
      }
    })()
    return this.#flushing
  }

  /** Committed output must go out: retry while Kafka refuses it. */
  async #flushUntilSent (): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#d.outbox.flush()
        this.#d.metrics.outboxPending.set(this.#d.store.pendingCount())
        return
      } catch (err) {
        this.#d.metrics.outboxPending.set(this.#d.store.pendingCount())
        if (this.#stopping) throw err
        this.#d.log.error({ err, attempt }, 'could not produce committed output; retrying')
        await sleep(Math.min(5_000, 250 * attempt))
      }
    }
  }
}
