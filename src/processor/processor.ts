import { KafkaError } from '../errors.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaConsumer } from '../kafka/consumer.ts'
import { partitionKey, type InBatch } from '../model/record.ts'
import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { StateStore } from '../store/state-store.ts'
import { BackgroundFlush, type Backoff } from './background-flush.ts'
import { BatchAccounting } from './batch-accounting.ts'
import type { Engine } from './engine.ts'
import type { OutboxFlusher } from './outbox.ts'
import { ensureOutputTopics } from './output-topics.ts'
import type { Plans } from './plan.ts'
import type { Sleep } from './sleep.ts'
import { TopicDiscovery, type TopicsFound } from './topic-discovery.ts'

export interface ProcessorDeps {
  readonly plans: Plans
  readonly engine: Pick<Engine, 'process'>
  readonly store: StateStore
  readonly outbox: OutboxFlusher
  readonly admin: KafkaAdmin
  /** A fresh consumer in the processor's group; called again whenever the set of input topics changes. */
  readonly newConsumer: () => Promise<KafkaConsumer>
  readonly metrics: Metrics
  readonly log: Logger
  /** How often to look for input topics that did not exist yet, in ms (default 5,000). */
  readonly discoveryIntervalMs?: number
  /** Unsent output, in records, from which consumption waits for the producer (default MAX_UNSENT_RECORDS). */
  readonly maxUnsentRecords?: number
  /** The wait between attempts to produce refused output (default DEFAULT_BACKOFF: 250 ms more each time, up to 5 s). */
  readonly retryBackoff?: Backoff
  /** How the back-off and the look for topics wait (default: timers). */
  readonly sleep?: Sleep
}

/**
 * Runs the engine on Kafka: consumes every input topic that exists (waiting for the others and picking them
 * up when they appear), commits each batch's state, offsets and output in one transaction, and produces the
 * output in the background, in commit order. Positions come from the store, so a restart resumes exactly
 * after the last committed batch, and output committed before a crash is produced on start. Ready while
 * partitions of the inputs are assigned to it.
 */
export class Processor {
  readonly #d: ProcessorDeps
  readonly #accounting: BatchAccounting
  readonly #flush: BackgroundFlush
  readonly #discovery: TopicDiscovery
  #consumer: KafkaConsumer | undefined
  /** The partitions assigned to the current consumer. */
  #assigned = new Set<string>()
  #stopping = false
  #ready = false

  constructor (deps: ProcessorDeps) {
    this.#d = deps
    const inputs = [...deps.plans.inputs.keys()]
    this.#accounting = new BatchAccounting(deps.metrics, deps.log,
      [...deps.plans.inputs.values()].map(i => ({ input: i.topic, topic: i.plan.config.name, policy: i.plan.merger.policy })))
    this.#flush = new BackgroundFlush({
      outbox: deps.outbox,
      store: deps.store,
      pending: deps.metrics.outboxPending,
      log: deps.log,
      maxUnsentRecords: deps.maxUnsentRecords,
      backoff: deps.retryBackoff,
      sleep: deps.sleep
    })
    this.#discovery = new TopicDiscovery({
      admin: deps.admin,
      topics: inputs,
      onChange: found => this.#consume(found),
      log: deps.log,
      intervalMs: deps.discoveryIntervalMs,
      sleep: deps.sleep
    })
  }

  get ready (): boolean { return this.#ready }

  async start (): Promise<void> {
    // Output committed before a crash goes out before anything new is consumed.
    const resent = await this.#d.outbox.flush()
    if (resent > 0) this.#d.log.info({ records: resent }, 'sent output committed before the last stop')
    try {
      await this.#discovery.check()
    } catch (err) {
      // The cluster answered at connection: a failed first look (a topic's metadata not there yet) is
      // looked at again by the discovery loop, as any later one.
      if (!(err instanceof KafkaError)) throw err
      this.#d.log.warn({ err }, 'could not look for the input topics yet; will retry')
    }
    this.#discovery.start()
  }

  /** Finishes the batch in progress, leaves the group and sends the committed output that is left. */
  async stop (): Promise<void> {
    this.#stopping = true
    this.#updateReady()
    // Discovery first, so that no look in progress starts a consumer after this one is stopped.
    await this.#discovery.stop()
    await this.#consumer?.stop()
    await this.#flush.stop()
  }

  /** The set of existing input topics changed: create their outputs, then consume them with a fresh consumer. */
  async #consume ({ existing, missing, counts }: TopicsFound): Promise<void> {
    const { plans, admin, store, log } = this.#d
    for (const plan of plans.topics) await ensureOutputTopics(admin, plan, counts)
    if (this.#stopping) return
    await this.#consumer?.stop()
    const consumer = await this.#d.newConsumer()
    this.#consumer = consumer
    this.#assigned = new Set()
    this.#updateReady()
    if (missing.length > 0) log.info({ missing }, 'waiting for input topics that do not exist yet')
    if (existing.length === 0) return
    const offsets = store.offsets()
    // Callbacks of a consumer that was replaced since are ignored.
    await consumer.run({
      topics: existing,
      startOffset: (topic, partition) => {
        const next = offsets.get(partitionKey({ topic, partition }))
        return next === undefined ? undefined : String(next)
      },
      onBatch: batch => this.#onBatch(batch),
      onAssigned: partitions => {
        if (consumer !== this.#consumer) return
        this.#assigned = new Set(partitions.map(partitionKey))
        this.#updateReady()
      },
      onRevoked: partitions => {
        if (consumer !== this.#consumer) return
        for (const p of partitions) this.#assigned.delete(partitionKey(p))
        this.#updateReady()
      }
    })
    log.info({ topics: existing }, 'consuming')
  }

  #updateReady (): void {
    const ready = !this.#stopping && this.#assigned.size > 0
    if (ready === this.#ready) return
    this.#ready = ready
    this.#d.metrics.ready.set(ready ? 1 : 0)
  }

  async #onBatch (batch: InBatch): Promise<void> {
    const end = this.#d.metrics.batchDuration.startTimer()
    const result = this.#d.engine.process(batch)
    this.#accounting.count(batch, result)
    end()
    if (result.emitted + result.deadLetters + result.conflicts > 0) await this.#flush.committed()
  }
}
