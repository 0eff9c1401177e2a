import type { KafkaAdmin } from '../kafka/admin.ts'
import type { Logger } from '../log/logger.ts'
import { partitionKey, type TopicPartition } from '../model/record.ts'
import type { StateStore } from '../store/state-store.ts'
import { sleep as realSleep, type Sleep } from './sleep.ts'

/** Where the lag of each partition is published (the `concord_consumer_lag_records` gauge). */
export interface LagGauge {
  reset (): void
  set (labels: { topic: string, partition: string }, records: number): void
}

export interface LagMonitorOptions {
  readonly admin: Pick<KafkaAdmin, 'logOffsets'>
  readonly store: Pick<StateStore, 'offsets'>
  readonly gauge: LagGauge
  readonly log: Logger
  /** Called after each reading that completed. */
  readonly onChange?: () => void
  /** How often to read the lag once started, in ms (default 5,000). */
  readonly intervalMs?: number | undefined
  readonly sleep?: Sleep | undefined
}

/**
 * The lag of the input partitions assigned to this instance: each one's log end offset (high watermark)
 * minus its committed position in the state store (the position a restart resumes from; a partition with
 * none is read from its log start offset). Read on an interval, and at once when the assignment changes. An
 * observation for the metrics and readiness, never used to decide what to consume.
 */
export class LagMonitor {
  readonly #o: LagMonitorOptions
  readonly #abort = new AbortController()
  #assigned: readonly TopicPartition[] = []
  /** Bumped at each assignment, so that a reading of an older assignment is not taken for the new one. */
  #generation = 0
  /** Lag per partition of the current assignment, for those read since they were assigned. */
  #lag: ReadonlyMap<string, number> = new Map()
  #queue: Promise<void> = Promise.resolve()
  #failing = false
  #started = false

  constructor (options: LagMonitorOptions) {
    this.#o = options
  }

  /**
   * The partitions to watch from now on. The lag of those still assigned is kept (a rebalance that takes
   * partitions away leaves the others' readings); that of new ones is unknown until the reading this starts
   * completes (no reading is made once stopped).
   */
  assign (partitions: Iterable<TopicPartition>): void {
    this.#assigned = [...partitions]
    this.#generation++
    const keys = new Set(this.#assigned.map(partitionKey))
    this.#lag = new Map([...this.#lag].filter(([key]) => keys.has(key)))
    this.#publish()
    if (this.#lag.size < keys.size && !this.#abort.signal.aborted) this.refresh().catch(() => {})
  }

  /** Sum of the lag of every assigned partition at the last reading; undefined while one is unknown. */
  get total (): number | undefined {
    let sum = 0
    for (const p of this.#assigned) {
      const n = this.#lag.get(partitionKey(p))
      if (n === undefined) return undefined
      sum += n
    }
    return sum
  }

  /** Reads the lag now (after a reading in progress); a failure is logged, and the last reading kept. */
  refresh (): Promise<void> {
    this.#queue = this.#queue.then(() => this.#read()).catch((err: unknown) => {
      if (this.#abort.signal.aborted) return
      if (!this.#failing) this.#o.log.warn({ err }, 'could not read the lag of the input partitions; keeping the last reading, will retry')
      this.#failing = true
    })
    return this.#queue
  }

  /** Reads the lag every interval until `stop()`. */
  start (): void {
    if (this.#started) return
    this.#started = true
    this.#run().catch(() => {}) // refresh() never rejects, nor does the sleep
  }

  /**
   * Stops reading. Does not wait for a reading in flight (a cluster that does not answer must not hold up a
   * stop): its result is dropped when it comes.
   */
  stop (): void {
    this.#abort.abort()
  }

  async #run (): Promise<void> {
    const { signal } = this.#abort
    const sleep = this.#o.sleep ?? realSleep
    while (!signal.aborted) {
      await this.refresh()
      await sleep(this.#o.intervalMs ?? 5_000, signal)
    }
  }

  async #read (): Promise<void> {
    const { admin, store, onChange } = this.#o
    const generation = this.#generation
    const assigned = this.#assigned
    const topics = [...new Set(assigned.map(p => p.topic))]
    const { signal } = this.#abort
    if (signal.aborted) return
    const ends = new Map(await Promise.all(topics.map(async t => [t, await admin.logOffsets(t)] as const)))
    if (signal.aborted) return
    this.#failing = false
    if (generation !== this.#generation) return // the assignment changed meanwhile: its own reading follows
    // Positions after the ends: a commit in between makes a position newer than its end, read as no lag.
    const positions = store.offsets()
    const lag = new Map<string, number>()
    for (const p of assigned) {
      const end = ends.get(p.topic)?.get(p.partition)
      if (end === undefined) continue
      const key = partitionKey(p)
      const position = positions.get(key)
      const behind = Number(end.high - (position === undefined ? end.low : BigInt(position)))
      lag.set(key, Math.max(0, behind))
    }
    this.#lag = lag
    this.#publish()
    onChange?.()
  }

  #publish (): void {
    const { gauge } = this.#o
    gauge.reset()
    for (const p of this.#assigned) {
      const n = this.#lag.get(partitionKey(p))
      if (n !== undefined) gauge.set({ topic: p.topic, partition: String(p.partition) }, n)
    }
  }
}
