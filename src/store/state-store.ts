import type { OutRecord, RecordHeaders } from '../model/record.ts'

/** What the store holds for one entity: its home partition and its policy's encoded state. */
export interface EntityRow {
  /** The entity's home partition: where its first version arrived. */
  readonly partition: number
  /** The policy's state, as the policy encoded it (the store never reads it). */
  readonly state: Buffer
}

export interface EntityWrite extends EntityRow {
  readonly topicId: number
  readonly entity: string
  /** While the entity resolves deleted by a delete: that delete's time, for garbage collection. */
  readonly deletedTs: number | undefined
}

/** The greatest write time seen from one writer DC on one input partition of a topic. */
export interface Watermark {
  readonly dc: string
  readonly partition: number
  readonly ts: number
}

/** An output record as the outbox keeps it: bytes only, the partition chosen, the headers present. */
export interface OutboxRecord extends OutRecord {
  readonly partition: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeaders
}

/** One outbox row: part of a commit's output (up to 1,000 records), not acknowledged by Kafka yet. */
export interface PendingOutput {
  readonly seq: number
  readonly records: readonly OutboxRecord[]
}

export interface OffsetWrite {
  readonly topic: string
  readonly partition: number
  readonly nextOffset: number
}

/** Everything one consumed batch changes, committed in one synchronous transaction. */
export interface BatchCommit {
  readonly entities: readonly EntityWrite[]
  readonly outbox: readonly OutboxRecord[]
  readonly offsets: readonly OffsetWrite[]
  /** Watermarks that moved. */
  readonly watermarks: ReadonlyArray<Watermark & { readonly topicId: number }>
}

/**
 * The store port: what the engine, the processor and the outbox flusher need of the state store. Every
 * method is synchronous, so that a batch's reads and its commit can run in one transaction with no `await`
 * in between. The SQLite implementation is `SqliteStateStore`; metering, fault injection and the like wrap a
 * store as layers implementing this same interface, as Kafka Streams wraps its stores.
 */
export interface StateStore {
  /**
   * The numeric id of a configured topic, assigned on first use with the layout of its policy's state;
   * throws StoreError when the topic has state of another layout.
   */
  topicId (name: string, stateFormat: string): number
  getEntity (topicId: number, entity: string): EntityRow | undefined
  /**
   * Runs `fn` (synchronous) in one transaction: reads inside it skip a lock round each, and a `commit` inside
   * it becomes a savepoint of it. When `fn` throws, nothing it wrote is kept.
   */
  atomically<T> (fn: () => T): T
  /** Writes the batch's state, outbox records and consumed offsets atomically: all of it or, if it throws, none. */
  commit (batch: BatchCommit): void
  /** Next offset to consume per "topic:partition", as committed. */
  offsets (): Map<string, number>
  /** Up to `limit` outbox rows after `afterSeq`, oldest first. */
  pending (afterSeq: number, limit: number): PendingOutput[]
  /** Number of outbox records not acknowledged yet. */
  pendingCount (): number
  /** Forgets the outbox rows up to and including `seq`, once Kafka acknowledged them. */
  acknowledge (seq: number): void
  /** Every entity of a topic, for verification and state queries. */
  entities (topicId: number): Map<string, EntityRow>
  /** The topic's watermarks as committed. */
  watermarks (topicId: number): Watermark[]
  /** Deletes up to `limit` entities deleted by a delete older than `beforeTs`; returns how many. */
  purgeDeleted (topicId: number, beforeTs: number, limit: number): number
  /** Size of the store in pages (of `PRAGMA page_size` bytes, 4096 by default). */
  pageCount (): number
  close (): void
}

/** A configured topic as the store knows it: its id and the layout of its policy's state. */
export interface StoredTopic {
  readonly id: number
  readonly stateFormat: string
}

/** One entity of a page of a topic's entities. */
export interface EntityEntry extends EntityRow {
  readonly entity: string
}

/**
 * The read port: what state queries and verification need of a store, and nothing that writes. The processor's
 * store implements it (the HTTP state query reads through it), and so does the read-only store that
 * `concord inspect` and `concord verify` open beside a running processor (read-only-store.ts).
 */
export interface StateReader {
  /** The stored topic of that name, or undefined when the store has none (no entity of it was ever kept). */
  topic (name: string): StoredTopic | undefined
  getEntity (topicId: number, entity: string): EntityRow | undefined
  /**
   * Up to `limit` entities of a topic whose ids come after `after` (all when undefined), in UTF-8 byte order
   * of the ids: pages a scan can pause between, so that a large topic does not hold the event loop.
   */
  entityPage (topicId: number, after: string | undefined, limit: number): EntityEntry[]
  /**
   * Optional: begins a snapshot that the reads until the returned function is called all see (one read
   * transaction), so that a scan in pages reads one moment. Only a reader with a connection of its own has
   * it; nested calls share the outer snapshot.
   */
  snapshot? (): () => void
}
