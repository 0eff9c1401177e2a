import type { Logger } from '../log/logger.ts'
import type { StateStore } from '../store/state-store.ts'
import type { OutboxFlusher } from './outbox.ts'
import { sleep as realSleep, type Sleep } from './sleep.ts'

/**
 * Committed output not yet acknowledged by Kafka, in records, above which consumption waits for the producer.
 * Below it, a batch's output is produced while the next batches are consumed and committed.
 */
export const MAX_UNSENT_RECORDS = 20_000

/** The wait between attempts to produce committed output that Kafka refused. */
export interface Backoff {
  /** The first wait, and the step by which each next one grows, in ms. */
  readonly baseMs: number
  /** The longest wait, in ms. */
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({ baseMs: 250, maxMs: 5_000 })

/** The wait after failed attempt `attempt` (1, 2, ...): `baseMs` longer each time, up to `maxMs`. */
export function backoffDelay (attempt: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.baseMs * attempt)
}

export interface BackgroundFlushOptions {
  readonly outbox: Pick<OutboxFlusher, 'flush'>
  readonly store: Pick<StateStore, 'pendingCount'>
  /** Set to the unsent record count after each attempt (the `concord_outbox_pending` gauge). */
  readonly pending: { set (records: number): void }
  readonly log: Logger
  /** Unsent records from which `committed()` waits for the producer (default MAX_UNSENT_RECORDS). */
  readonly maxUnsentRecords?: number | undefined
  readonly backoff?: Backoff | undefined
  readonly sleep?: Sleep | undefined
}

/**
 * Produces committed output in the background, in commit order, while the next batches are processed. One
 * flush runs at a time; output committed meanwhile is taken by one more round of it. Committed output must
 * go out, so a refused flush is retried with a growing back-off for as long as it takes, and consumption
 * waits (back-pressure) once the unsent output reaches the bound rather than piling it up.
 */
export class BackgroundFlush {
  readonly #o: BackgroundFlushOptions
  readonly #max: number
  readonly #backoff: Backoff
  readonly #sleep: Sleep
  /** The flush, while one runs; `#dirty` asks it for one more round. */
  #flushing: Promise<void> | undefined
  #dirty = false
  #stopping = false

  constructor (options: BackgroundFlushOptions) {
    this.#o = options
    this.#max = options.maxUnsentRecords ?? MAX_UNSENT_RECORDS
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF
    this.#sleep = options.sleep ?? realSleep
  }

  /**
   * Call after committing a batch with output. Resolves at once while the unsent output is under the bound;
   * from the bound on, once the flush has sent everything (or, while stopping, failed).
   */
  async committed (): Promise<void> {
    const flushing = this.#flush()
    // While stopping, a failure reaches stop() through its own last flush.
    if (this.#o.store.pendingCount() >= this.#max) await flushing
    else flushing.catch(() => {})
  }

  /**
   * Stops retrying: waits for the running flush to succeed or fail once more, then sends what is left in one
   * last attempt, which throws if Kafka refuses it (the output stays committed, for the next start).
   */
  async stop (): Promise<void> {
    this.#stopping = true
    await this.#flushing?.catch(() => {})
    await this.#o.outbox.flush()
  }

  /** Starts the flush, or asks the running one for another round; resolves when it ends. */
  #flush (): Promise<void> {
    this.#dirty = true
    this.#flushing ??= (async () => {
      try {
        while (this.#dirty) {
          this.#dirty = false
          await this.#untilSent()
        }
      } finally {
        this.#flushing = undefined
      }
    })()
    return this.#flushing
  }

  async #untilSent (): Promise<void> {
    const { outbox, store, pending, log } = this.#o
    for (let attempt = 1; ; attempt++) {
      try {
        await outbox.flush()
        pending.set(store.pendingCount())
        return
      } catch (err) {
        pending.set(store.pendingCount())
        if (this.#stopping) throw err
        log.error({ err, attempt }, 'could not produce committed output; retrying')
        await this.#sleep(backoffDelay(attempt, this.#backoff))
      }
    }
  }
}
