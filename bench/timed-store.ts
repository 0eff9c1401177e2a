import type { BatchCommit, EntityRow, PendingOutput, StateStore, Watermark } from '../src/store/state-store.ts'

/** Milliseconds spent in the store's calls, by what SQLite does in them. */
export interface StoreTimes {
  /** `getEntity`: the point reads of state the window does not hold yet. */
  read: number
  /** `commit` and `purgeDeleted` inside the window's transaction: the upserts, the outbox rows, offsets, watermarks, the purge. */
  write: number
  /** From the end of the transaction's function to the end of `atomically`: SQLite's COMMIT (its WAL writes, the auto-checkpoint). */
  commit: number
}

/**
 * A store layer for the engine benchmark's breakdown, as metering layers wrap a store: passes every call to
 * the store below and, while `timing` is on, adds the time of the calls the engine's hot path makes to
 * `times`, so that the native time is attributed to the statements that cause it. Off, it adds nothing but
 * a branch per call.
 */
export class TimedStore implements StateStore {
  readonly #inner: StateStore
  timing = false
  readonly times: StoreTimes = { read: 0, write: 0, commit: 0 }

  constructor (inner: StateStore) { this.#inner = inner }

  getEntity (topicId: number, entity: string): EntityRow | undefined {
    if (!this.timing) return this.#inner.getEntity(topicId, entity)
    const start = performance.now()
    try {
      return this.#inner.getEntity(topicId, entity)
    } finally {
      this.times.read += performance.now() - start
    }
  }

  commit (batch: BatchCommit): void {
    this.#timeWrite(() => { this.#inner.commit(batch) })
  }

  purgeDeleted (topicId: number, beforeTs: number, limit: number): number {
    return this.#timeWrite(() => this.#inner.purgeDeleted(topicId, beforeTs, limit))
  }

  atomically<T> (fn: () => T): T {
    if (!this.timing) return this.#inner.atomically(fn)
    let end = 0
    try {
      return this.#inner.atomically(() => {
        const result = fn()
        end = performance.now()
        return result
      })
    } finally {
      if (end > 0) this.times.commit += performance.now() - end
    }
  }

  #timeWrite<T> (fn: () => T): T {
    if (!this.timing) return fn()
    const start = performance.now()
    try {
      return fn()
    } finally {
      this.times.write += performance.now() - start
    }
  }

  topicId (name: string, stateFormat: string): number { return this.#inner.topicId(name, stateFormat) }
  offsets (): Map<string, number> { return this.#inner.offsets() }
  pending (afterSeq: number, limit: number): PendingOutput[] { return this.#inner.pending(afterSeq, limit) }
  pendingCount (): number { return this.#inner.pendingCount() }
  acknowledge (seq: number): void { this.#inner.acknowledge(seq) }
  entities (topicId: number): Map<string, EntityRow> { return this.#inner.entities(topicId) }
  watermarks (topicId: number): Watermark[] { return this.#inner.watermarks(topicId) }
  pageCount (): number { return this.#inner.pageCount() }
  close (): void { this.#inner.close() }
}
