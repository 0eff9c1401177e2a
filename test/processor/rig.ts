/**
 * In-memory fakes of the project's ports (producer, consumer, admin, logger, sleep) and a processor wired on
 * them over a real in-memory store, shared by the processor's unit tests. Real-broker behaviour is in
 * test/integration/.
 */
import { validateConfig } from '../../src/config/validate.ts'
import type { KafkaAdmin, LogOffsets, TopicSpec } from '../../src/kafka/admin.ts'
import type { KafkaConsumer, RunOptions } from '../../src/kafka/consumer.ts'
import type { TopicPartition } from '../../src/model/record.ts'
import type { KafkaProducer } from '../../src/kafka/producer.ts'
import type { Logger } from '../../src/log/logger.ts'
import { policies } from '../../src/merge/index.ts'
import { Metrics } from '../../src/metrics/metrics.ts'
import type { InRecord, OutRecord } from '../../src/model/record.ts'
import type { Backoff } from '../../src/processor/background-flush.ts'
import { Engine } from '../../src/processor/engine.ts'
import { OutboxFlusher } from '../../src/processor/outbox.ts'
import { planTopics, type Plans, type TopicPlan } from '../../src/processor/plan.ts'
import type { Resolved } from '../../src/merge/policy.ts'
import { Processor, type CommitWindow, type Readiness } from '../../src/processor/processor.ts'
import { SentAccounting } from '../../src/processor/sent-accounting.ts'
import type { Sleep } from '../../src/processor/sleep.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import type { StateStore } from '../../src/store/state-store.ts'
import { H, suffixedKey } from '../../src/wire/contract.ts'

/** A producer whose sends wait for `release()` after `hold()`, and fail while `failing` is set. */
export class FakeProducer implements KafkaProducer {
  readonly sent: OutRecord[] = []
  failing = false
  attempts = 0
  #gate: Promise<void> | undefined
  #open: () => void = () => {}
  hold (): void { this.#gate = new Promise(resolve => { this.#open = resolve }) }
  release (): void { this.#open(); this.#gate = undefined }
  async send (records: readonly OutRecord[]): Promise<void> {
    this.attempts++
    await this.#gate
    if (this.failing) throw new Error('broker refuses')
    this.sent.push(...records)
  }

  async close (): Promise<void> {}
}

/**
 * A consumer that hands the test its run options; `assign` plays a group join. Like the real one, stopping
 * revokes what it held.
 */
export class FakeConsumer implements KafkaConsumer {
  options: RunOptions | undefined
  stopped = false
  #held: TopicPartition[] = []
  async run (options: RunOptions): Promise<void> { this.options = options }
  assign (partitions: readonly TopicPartition[]): void {
    const lost = this.#held.filter(h => !partitions.some(p => p.topic === h.topic && p.partition === h.partition))
    this.#held = [...partitions]
    if (lost.length > 0) this.options?.onRevoked?.(lost)
    this.options?.onAssigned?.(partitions)
  }

  async stop (): Promise<void> {
    this.stopped = true
    const lost = this.#held
    this.#held = []
    if (lost.length > 0) this.options?.onRevoked?.(lost)
  }
}

/**
 * An admin over a mutable map of topic -> partition count; `createTopics` adds the missing ones and records each
 * call. `ends` sets a partition's log offsets by "topic:partition" (default: empty, 0 to 0).
 */
export function fakeAdmin (topics: Map<string, number>): KafkaAdmin & { readonly created: TopicSpec[][], readonly ends: Map<string, LogOffsets> } {
  const created: TopicSpec[][] = []
  const ends = new Map<string, LogOffsets>()
  return {
    created,
    ends,
    listTopics: async () => [...topics.keys()],
    createTopics: async specs => {
      created.push([...specs])
      for (const s of specs) if (!topics.has(s.topic)) topics.set(s.topic, s.partitions)
    },
    partitionCounts: async wanted => new Map(wanted.filter(t => topics.has(t)).map(t => [t, topics.get(t)!])),
    highWatermarks: async () => new Map(),
    logOffsets: async topic => new Map(Array.from({ length: topics.get(topic) ?? 0 }, (_, p) => [p, ends.get(`${topic}:${p}`) ?? { low: 0n, high: 0n }])),
    offsetsAt: async () => new Map(),
    close: async () => {}
  }
}

export interface LogEntry { readonly level: string, readonly obj: object, readonly msg: string }

/** A logger that keeps what it is told, children included. */
export function recordingLogger (entries: LogEntry[] = []): Logger & { readonly entries: LogEntry[] } {
  const at = (level: string) => (obj: object, msg: string): void => { entries.push({ level, obj, msg }) }
  return {
    entries,
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: () => recordingLogger(entries)
  }
}

interface Sleeper { readonly ms: number, readonly wake: () => void }

/**
 * A sleep that only ends when the test says so (or its signal aborts): `calls` lists every wait asked for,
 * `wake` ends the pending ones that match.
 */
export class ManualSleep {
  readonly calls: number[] = []
  #pending: Sleeper[] = []
  #watchers: Array<{ match: (ms: number) => boolean, resolve: () => void }> = []

  readonly sleep: Sleep = (ms, signal) => new Promise<void>(resolve => {
    const sleeper = { ms, wake: resolve }
    this.calls.push(ms)
    this.#pending.push(sleeper)
    signal?.addEventListener('abort', () => resolve(), { once: true })
    for (const w of this.#watchers.filter(w => w.match(ms))) {
      this.#watchers.splice(this.#watchers.indexOf(w), 1)
      w.resolve()
    }
  })

  /** Resolves once `times` waits matching `match` have been asked for (at once if they were already). */
  asked (match: (ms: number) => boolean, times = 1): Promise<void> {
    if (this.calls.filter(match).length >= times) return Promise.resolve()
    return new Promise(resolve => this.#watchers.push({ match: ms => match(ms) && this.calls.filter(match).length >= times, resolve }))
  }

  wake (match: (ms: number) => boolean = () => true): void {
    const woken = this.#pending.filter(s => match(s.ms))
    this.#pending = this.#pending.filter(s => !match(s.ms))
    for (const s of woken) s.wake()
  }
}

/** One turn of the event loop: every promise that can settle without a timer or I/O has settled. */
export const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** A promise's state, without waiting for it. */
export function track<T> (promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false }
  promise.then(() => { state.settled = true }, () => { state.settled = true })
  return state
}

/**
 * The plans of DC dc1 with peer dc2 and one topic, `orders` (inputs `orders` and `dc2.orders`), raw values
 * merged by lww unless `topic` says otherwise.
 */
export function ordersPlans (store: StateStore, topic: Record<string, unknown> = {}): Plans {
  const config = validateConfig({
    dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy: 'lww', codec: 'raw', ...topic }]
  }, { policies })
  return planTopics(config, (name, format) => store.topicId(name, format))
}

/** Every entity of a plan's topic, resolved by its policy from the stored state. */
export function resolvedEntities (store: StateStore, plan: TopicPlan): Map<string, Resolved> {
  return new Map([...store.entities(plan.id)].map(([entity, row]) => [entity, plan.merger.resolve(plan.merger.decodeState(row.state))]))
}

export const memoryStore = (): SqliteStateStore => new SqliteStateStore(openDatabase({ dir: ':memory:', synchronous: 'normal', cacheMb: 16 }))

export interface RigOptions {
  /** Wraps the real store in layers; the processor, engine and flusher see what it returns. */
  readonly layer?: (store: StateStore) => StateStore
  readonly maxUnsentRecords?: number
  readonly retryBackoff?: Backoff
  readonly sleep?: Sleep
  readonly discoveryIntervalMs?: number
  readonly commitWindow?: CommitWindow
  readonly readiness?: Readiness
  /** The topics that exist, by partition count (default: both inputs, one partition each); the test may add some. */
  readonly topics?: Map<string, number>
  /** Wraps the fake admin, as `layer` wraps the store. */
  readonly adminLayer?: (admin: KafkaAdmin) => KafkaAdmin
}

export interface Rig {
  readonly processor: Processor
  readonly producer: FakeProducer
  /** The first consumer made; `consumers` lists every one, as the processor makes a new one per change of topics. */
  readonly consumer: FakeConsumer
  readonly consumers: readonly FakeConsumer[]
  readonly admin: ReturnType<typeof fakeAdmin>
  readonly store: StateStore
  readonly metrics: Metrics
  readonly log: Logger & { readonly entries: LogEntry[] }
  /** Hands records to the consumer's onBatch as one batch of `orders` partition 0, numbered on from the last. */
  readonly onBatch: (records: readonly Omit<InRecord, 'offset'>[]) => Promise<void>
  /**
   * Hands the consumer's onBatch exactly this batch (a redelivery keeps its offsets); `behind` records left
   * in the partition after it (default 0: the batch reaches the end).
   */
  readonly deliver: (records: readonly InRecord[], behind?: number) => Promise<void>
  /** Numbers records as the next batch of `orders` partition 0 would be numbered. */
  readonly number: (records: readonly Omit<InRecord, 'offset'>[]) => InRecord[]
}

/** A started processor for dc1 on a real in-memory store, over fake Kafka ports where both inputs exist. */
export async function rig (options: RigOptions = {}): Promise<Rig> {
  const real = memoryStore()
  const store = options.layer?.(real) ?? real
  const plans = ordersPlans(store)
  const producer = new FakeProducer()
  const consumers: FakeConsumer[] = []
  const admin = fakeAdmin(options.topics ?? new Map([['orders', 1], ['dc2.orders', 1]]))
  const seenAdmin = options.adminLayer?.(admin) ?? admin
  const metrics = new Metrics()
  const sent = new SentAccounting(metrics, plans)
  const log = recordingLogger()
  const processor = new Processor({
    plans,
    engine: new Engine(store, plans),
    store,
    admin: seenAdmin,
    metrics,
    log,
    outbox: new OutboxFlusher(store, producer, records => sent.sent(records)),
    newConsumer: async () => {
      const consumer = new FakeConsumer()
      consumers.push(consumer)
      return consumer
    },
    discoveryIntervalMs: options.discoveryIntervalMs ?? 60_000,
    ...(options.maxUnsentRecords === undefined ? {} : { maxUnsentRecords: options.maxUnsentRecords }),
    ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    ...(options.commitWindow === undefined ? {} : { commitWindow: options.commitWindow }),
    ...(options.readiness === undefined ? {} : { readiness: options.readiness })
  })
  await processor.start()
  let offset = 0
  const number = (records: readonly Omit<InRecord, 'offset'>[]): InRecord[] => records.map((r, i) => ({ ...r, offset: String(offset + i) }))
  const deliver = (records: readonly InRecord[], behind = 0): Promise<void> => {
    const last = records[records.length - 1]
    if (last !== undefined) offset = Math.max(offset, Number(last.offset) + 1)
    const highWatermark = last === undefined ? undefined : String(Number(last.offset) + 1 + behind)
    return consumers[consumers.length - 1]!.options!.onBatch({ topic: 'orders', partition: 0, records, ...(highWatermark === undefined ? {} : { highWatermark }) })
  }
  return { processor, producer, consumer: consumers[0]!, consumers, admin, store, metrics, log, onBatch: records => deliver(number(records)), deliver, number }
}

/** `n` writes by dc1 to new entities `<prefix>-<i>`: each changes the merged state and is emitted. */
export const writes = (prefix: string, n: number, ts = 1_700_000_000_000): Array<Omit<InRecord, 'offset'>> => Array.from({ length: n }, (_, i) => ({
  timestamp: String(ts),
  key: Buffer.from(suffixedKey(`${prefix}-${i}`, 'dc1')),
  value: Buffer.from(`v${i}`),
  headers: { [H.originDc]: 'dc1', [H.originTs]: String(ts + i), [H.eventId]: `${prefix}-${i}` }
}))

export const keys = (records: readonly OutRecord[]): string[] => records.map(r => String(r.key))
