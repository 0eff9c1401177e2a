import { KafkaError } from '../errors.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaConsumer } from '../kafka/consumer.ts'
import { partitionKey, reachesEnd, type InBatch, type TopicPartition } from '../model/record.ts'
import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { StateStore } from '../store/state-store.ts'
import { BackgroundFlush, backoffDelay, DEFAULT_BACKOFF, type Backoff } from './background-flush.ts'
import { BatchAccounting } from './batch-accounting.ts'
import type { BatchCounts, Engine } from './engine.ts'
import { LagMonitor } from './lag-monitor.ts'
import type { OutboxFlusher } from './outbox.ts'
import { ensureOutputTopics } from './output-topics.ts'
import type { Plans } from './plan.ts'
import { SkewMonitor, type SkewOptions } from './skew-monitor.ts'
import { sleep as realSleep, type Sleep } from './sleep.ts'
import { TopicDiscovery, type TopicsFound } from './topic-discovery.ts'

export interface ProcessorDeps {
  readonly plans: Plans
  readonly engine: Pick<Engine, 'absorb' | 'commit' | 'discard' | 'windowRecords' | 'windowOpenedAt'>
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
  /** The commit window (default DEFAULT_COMMIT_WINDOW). */
  readonly commitWindow?: CommitWindow
  /** When it counts as caught up, and how often it reads its lag (default DEFAULT_READINESS). */
  readonly readiness?: Readiness
  /** Where origin timestamps ahead of the local clock are logged, and the skew gauge's interval. */
  readonly skew?: SkewOptions
  /** How the back-off and the look for topics wait (default: timers). */
  readonly sleep?: Sleep
}

/**
 * When the open window commits: as soon as a batch leaves its partition caught up (so that, while concord keeps
 * up, every fetch commits at once and latency stays low), else once it holds `maxRecords` records or is
 * `intervalMs` old (under load, so that one transaction carries many batches).
 */
export interface CommitWindow {
  readonly intervalMs: number
  readonly maxRecords: number
}

export const DEFAULT_COMMIT_WINDOW: CommitWindow = Object.freeze({ intervalMs: 500, maxRecords: 50_000 })

/**
 * Ready (`/readyz`, `concord_ready`) while partitions of the inputs are assigned, the state is restored (the
 * store open and the output committed before the last stop sent), and the lag of the assigned partitions, read
 * every `lagIntervalMs`, is at most `maxLagRecords` in all: an instance catching up on a backlog (after a
 * rebuild, a long stop) is alive but not ready.
 */
export interface Readiness {
  readonly maxLagRecords: number
  readonly lagIntervalMs: number
}

export const DEFAULT_READINESS: Readiness = Object.freeze({ maxLagRecords: 10_000, lagIntervalMs: 5_000 })

/**
 * Runs the engine on Kafka: consumes every input topic that exists (waiting for the others and picking them
 * up when they appear), absorbs each batch into the engine's commit window and commits the window's state,
 * offsets and output in one transaction (see CommitWindow), and produces the output in the background, in
 * commit order. Positions come from the store, so a restart resumes exactly after the last committed window
 * (the records of a window lost in a crash are consumed again), and output committed before a crash is
 * produced on start. Ready as Readiness says.
 */
export class Processor {
  readonly #d: ProcessorDeps
  readonly #accounting: BatchAccounting
  readonly #flush: BackgroundFlush
  readonly #discovery: TopicDiscovery
  readonly #lag: LagMonitor
  readonly #readiness: Readiness
  #consumer: KafkaConsumer | undefined
  /** The partitions assigned to the current consumer, by partitionKey. */
  #assigned = new Map<string, TopicPartition>()
  #stopping = false
  /** The output committed before the last stop is sent: the state is what that stop left. */
  #restored = false
  #ready = false
  readonly #window: CommitWindow
  /** The commit due at the end of the window's interval, while a window is open. */
  #due: ReturnType<typeof setTimeout> | undefined
  /** The last set of topics found, to consume again from the store's positions after a failure. */
  #found: TopicsFound | undefined
  /** Set from a failed window until the next consumer starts: batches of the old one are ignored. */
  #replaying = false
  #failures = 0
  /** What the batches of the open window decided, counted in the metrics once the window commits. */
  #counted: Array<{ readonly batch: InBatch, readonly counts: BatchCounts }> = []

  constructor (deps: ProcessorDeps) {
    this.#d = deps
    this.#window = deps.commitWindow ?? DEFAULT_COMMIT_WINDOW
    this.#readiness = deps.readiness ?? DEFAULT_READINESS
    const inputs = [...deps.plans.inputs.keys()]
    this.#accounting = new BatchAccounting(deps.metrics, deps.log,
      [...deps.plans.inputs.values()].map(i => ({ input: i.topic, sourceDc: i.sourceDc, topic: i.plan.config.name, policy: i.plan.merger.policy })),
      new SkewMonitor(deps.metrics, deps.log, deps.skew))
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
    this.#lag = new LagMonitor({
      admin: deps.admin,
      store: deps.store,
      gauge: deps.metrics.consumerLag,
      log: deps.log,
      onChange: () => this.#updateReady(),
      intervalMs: this.#readiness.lagIntervalMs,
      sleep: deps.sleep
    })
  }

  get ready (): boolean { return this.#ready }

  async start (): Promise<void> {
    // Output committed before a crash goes out before anything new is consumed.
    const resent = await this.#d.outbox.flush()
    if (resent > 0) this.#d.log.info({ records: resent }, 'sent output committed before the last stop')
    this.#restored = true
    this.#lag.start()
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
    this.#lag.stop()
    await this.#consumer?.stop()
    this.#commitWindow()
    await this.#flush.stop()
  }

  /** The set of existing input topics changed: create their outputs, then consume them with a fresh consumer. */
  async #consume (found: TopicsFound): Promise<void> {
    const { existing, missing, counts } = found
    const { plans, admin, store, log } = this.#d
    this.#found = found
    for (const plan of plans.topics) await ensureOutputTopics(admin, plan, counts)
    if (this.#stopping) return
    await this.#consumer?.stop()
    // What the stopped consumer left in the window is committed: its positions are what the next one reads.
    this.#commitWindow()
    const consumer = await this.#d.newConsumer()
    this.#consumer = consumer
    this.#replaying = false
    this.#setAssigned(new Map())
    if (missing.length > 0) log.info({ missing }, 'waiting for input topics that do not exist yet')
    if (existing.length === 0) return
    // Callbacks of a consumer that was replaced since are ignored.
    await consumer.run({
      topics: existing,
      startOffset: (topic, partition) => {
        const next = store.offsets().get(partitionKey({ topic, partition }))
        return next === undefined ? undefined : String(next)
      },
      onBatch: batch => this.#onBatch(batch),
      onAssigned: partitions => {
        if (consumer !== this.#consumer) return
        this.#setAssigned(new Map(partitions.map(p => [partitionKey(p), p])))
      },
      onRevoked: partitions => {
        if (consumer !== this.#consumer) return
        this.#commitWindow()
        const left = new Map(this.#assigned)
        for (const p of partitions) left.delete(partitionKey(p))
        this.#setAssigned(left)
      }
    })
    log.info({ topics: existing }, 'consuming')
  }

  #setAssigned (assigned: Map<string, TopicPartition>): void {
    this.#assigned = assigned
    this.#lag.assign(assigned.values())
    this.#updateReady()
  }

  #updateReady (): void {
    const lag = this.#lag.total
    const ready = !this.#stopping && this.#restored && this.#assigned.size > 0 && lag !== undefined && lag <= this.#readiness.maxLagRecords
    if (ready === this.#ready) return
    this.#ready = ready
    this.#d.metrics.ready.set(ready ? 1 : 0)
  }

  async #onBatch (batch: InBatch): Promise<void> {
    if (this.#replaying) return
    const { engine, metrics } = this.#d
    const end = metrics.batchDuration.startTimer()
    try {
      this.#counted.push({ batch, counts: engine.absorb(batch) })
    } catch (err) {
      end()
      this.#fail(err)
      return
    }
    const age = performance.now() - (engine.windowOpenedAt ?? 0)
    if (reachesEnd(batch) || engine.windowRecords >= this.#window.maxRecords || age >= this.#window.intervalMs) {
      const outbox = this.#commitWindow()
      end()
      if (outbox > 0) await this.#flush.committed()
    } else {
      end()
      this.#due ??= setTimeout(() => {
        this.#due = undefined
        if (this.#commitWindow() > 0) this.#flush.committed().catch(() => {})
      }, this.#window.intervalMs - age)
    }
  }

  /** Commits the open window, if any; returns the number of outbox records it wrote. */
  #commitWindow (): number {
    clearTimeout(this.#due)
    this.#due = undefined
    if (this.#d.engine.windowOpenedAt === undefined) return 0
    try {
      const result = this.#d.engine.commit()
      for (const { batch, counts } of this.#counted) this.#accounting.count(batch, counts)
      this.#counted = []
      this.#accounting.committed(result)
      this.#failures = 0
      return result.outbox
    } catch (err) {
      this.#fail(err)
      return 0
    }
  }

  /**
   * A window could not be absorbed or committed: it is discarded (nothing of it was written), and the inputs
   * are consumed again from the store's positions by a fresh consumer, after a back-off that grows with each
   * failure in a row. The current consumer's batches are ignored meanwhile, so none is skipped.
   */
  #fail (err: unknown): void {
    const { engine, log, sleep } = this.#d
    engine.discard()
    this.#counted = []
    this.#replaying = true
    this.#failures++
    const wait = backoffDelay(this.#failures, this.#d.retryBackoff ?? DEFAULT_BACKOFF)
    log.error({ err, attempt: this.#failures, retryInMs: wait }, 'could not process a window of records; consuming again from the last commit')
    const found = this.#found
    if (found === undefined) return
    const again = async (): Promise<void> => {
      await (sleep ?? realSleep)(wait)
      if (!this.#stopping) await this.#consume(found)
    }
    again().catch(err2 => log.error({ err: err2 }, 'could not start consuming again'))
  }
}
