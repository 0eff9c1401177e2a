import type { KafkaAdmin } from '../kafka/admin.ts'
import type { Logger } from '../log/logger.ts'
import { sleep as realSleep, type Sleep } from './sleep.ts'

/** What one look found among the wanted topics. */
export interface TopicsFound {
  /** The wanted topics that exist, in the order wanted. */
  readonly existing: readonly string[]
  readonly missing: readonly string[]
  /** Partition count of each existing topic. */
  readonly counts: ReadonlyMap<string, number>
}

export interface TopicDiscoveryOptions {
  readonly admin: Pick<KafkaAdmin, 'partitionCounts'>
  /** The input topics to look for. */
  readonly topics: readonly string[]
  /**
   * Called when the set of existing topics differs from the one last handled (at first: none). The change
   * counts as handled once this resolves; if it throws, the next look hands it over again.
   */
  readonly onChange: (found: TopicsFound) => Promise<void>
  readonly log: Logger
  /** How often to look once started, in ms (default 5,000). */
  readonly intervalMs?: number | undefined
  readonly sleep?: Sleep | undefined
}

/**
 * Looks for input topics that appear (or disappear): concord starts with the topics that exist and picks up
 * the others when they are created, e.g. a peer's remote copy that MirrorMaker 2 creates on its first record.
 */
export class TopicDiscovery {
  readonly #o: TopicDiscoveryOptions
  readonly #abort = new AbortController()
  #handled: ReadonlySet<string> = new Set()
  #loop: Promise<void> | undefined

  constructor (options: TopicDiscoveryOptions) {
    this.#o = options
  }

  /** One look; throws what the admin or `onChange` threw. */
  async check (): Promise<void> {
    const { admin, topics, onChange } = this.#o
    const counts = await admin.partitionCounts(topics)
    const existing = topics.filter(t => counts.has(t))
    if (existing.length === this.#handled.size && existing.every(t => this.#handled.has(t))) return
    await onChange({ existing, missing: topics.filter(t => !counts.has(t)), counts })
    this.#handled = new Set(existing)
  }

  /** Looks again every interval until `stop()`; a failed look is logged and tried again at the next. */
  start (): void {
    this.#loop ??= this.#run()
  }

  /** Ends the waiting at once; resolves when a look in progress has finished. */
  async stop (): Promise<void> {
    this.#abort.abort()
    await this.#loop
  }

  async #run (): Promise<void> {
    const { signal } = this.#abort
    const sleep = this.#o.sleep ?? realSleep
    const interval = this.#o.intervalMs ?? 5_000
    while (!signal.aborted) {
      await sleep(interval, signal)
      if (signal.aborted) return
      try {
        await this.check()
      } catch (err) {
        this.#o.log.warn({ err }, 'could not look for new input topics; will retry')
      }
    }
  }
}
