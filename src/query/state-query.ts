import { codecs, type ValueCodecName } from '../codec/value-codec.ts'
import type { Merger } from '../merge/policy.ts'
import type { StateReader } from '../store/state-store.ts'
import { bucketOf, DIGEST_FORMAT, DigestBuilder, entityDigest } from './digest.ts'
import { entityView, type EntityView, type ViewedTopic } from './entity-view.ts'

/**
 * A configured topic as the query needs it: what the processor's plan holds (src/processor/plan.ts's
 * TopicPlan fits), its store id being -1 when the store has no state of it yet.
 */
export interface QueryPlan {
  readonly config: { readonly name: string, readonly codec: ValueCodecName }
  readonly id: number
  readonly merger: Merger
}

/** A query's answer, or why there is none (an unknown topic or entity: HTTP 404). */
export type Lookup<T> = { readonly found: true, readonly value: T } | { readonly found: false, readonly reason: string }

export interface TopicDigest {
  readonly topic: string
  readonly format: string
  /** Entities with a value (deleted entities count as absent). */
  readonly entities: number
  readonly digest: string
  /** One digest per bucket, bucket 0 first. */
  readonly buckets: readonly string[]
}

export interface EntityDigests {
  readonly topic: string
  readonly format: string
  /** The buckets asked for. */
  readonly buckets: readonly number[]
  /** [entity id, entity digest] of every entity with a value in those buckets, in UTF-8 byte order of the ids. */
  readonly entities: ReadonlyArray<readonly [string, string]>
}

export interface StateQueryOptions {
  /** Entities read per page of a scan. */
  readonly pageSize?: number
  /** Awaited between pages, so that a scan leaves the event loop to the processor; default: one setImmediate. */
  readonly pause?: () => Promise<void>
}

const nextTurn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/**
 * The state query: one entity's view, and the digests that `concord verify` compares, over a store's read
 * port. Nothing here writes. A digest scans the topic page by page with a pause between pages. Over a
 * read-only store (a state folder opened beside its processor) the pages are read in one snapshot; over the
 * processor's own store they are read between its commits, so a digest taken while writes flow mixes moments
 * (verify can compare again while they differ).
 */
export class StateQuery {
  readonly #topics: ReadonlyMap<string, ViewedTopic & { readonly id: number }>
  readonly #reader: StateReader
  readonly #pageSize: number
  readonly #pause: () => Promise<void>

  constructor (plans: readonly QueryPlan[], reader: StateReader, options: StateQueryOptions = {}) {
    this.#topics = new Map(plans.map(p => [p.config.name, { name: p.config.name, id: p.id, merger: p.merger, codec: codecs[p.config.codec] }]))
    this.#reader = reader
    this.#pageSize = options.pageSize ?? 1000
    this.#pause = options.pause ?? nextTurn
  }

  /** The configured topics, in configuration order. */
  topics (): string[] {
    return [...this.#topics.keys()]
  }

  entity (topic: string, entity: string): Lookup<EntityView> {
    const t = this.#topics.get(topic)
    if (t === undefined) return this.#unknownTopic(topic)
    const row = t.id < 0 ? undefined : this.#reader.getEntity(t.id, entity)
    if (row === undefined) return { found: false, reason: `topic "${topic}" has no entity ${JSON.stringify(entity)}` }
    return { found: true, value: entityView(t, entity, row) }
  }

  async digest (topic: string): Promise<Lookup<TopicDigest>> {
    const t = this.#topics.get(topic)
    if (t === undefined) return this.#unknownTopic(topic)
    const builder = new DigestBuilder()
    await this.#scan(t, (entity, digest) => builder.add(entity, digest))
    return { found: true, value: { topic, format: DIGEST_FORMAT, ...builder.finish() } }
  }

  async entityDigests (topic: string, buckets: readonly number[]): Promise<Lookup<EntityDigests>> {
    const t = this.#topics.get(topic)
    if (t === undefined) return this.#unknownTopic(topic)
    const wanted = new Set(buckets)
    const entities: Array<readonly [string, string]> = []
    await this.#scan(t, (entity, digest) => { if (wanted.has(bucketOf(entity))) entities.push([entity, digest]) })
    return { found: true, value: { topic, format: DIGEST_FORMAT, buckets: [...wanted].sort((a, b) => a - b), entities } }
  }

  /** Every entity with a value and its digest, in UTF-8 byte order of the ids. */
  async #scan (t: ViewedTopic & { readonly id: number }, each: (entity: string, digest: string) => void): Promise<void> {
    if (t.id < 0) return
    // A reader with a connection of its own reads every page at one moment; the processor's store reads
    // each page between its commits.
    const end = this.#reader.snapshot?.()
    try {
      let after: string | undefined
      for (;;) {
        const page = this.#reader.entityPage(t.id, after, this.#pageSize)
        for (const row of page) {
          const digest = entityDigest(row.entity, t.merger.resolve(t.merger.decodeState(row.state)))
          if (digest !== null) each(row.entity, digest)
        }
        if (page.length < this.#pageSize) return
        after = page[page.length - 1]!.entity
        await this.#pause()
      }
    } finally {
      end?.()
    }
  }

  #unknownTopic (topic: string): { found: false, reason: string } {
    return { found: false, reason: `no topic "${topic}" is configured (topics: ${this.topics().join(', ')})` }
  }
}
