import type { OutRecord, RecordHeaders } from '../model/record.ts'
import type { Stamp } from '../model/stamp.ts'
import type { Version } from '../model/version.ts'

/** An entity's siblings and home partition, as the merge needs them. */
export interface EntitySiblings {
  /** The entity's home partition: where its first version arrived. */
  readonly partition: number
  readonly siblings: readonly Version[]
}

/** What the store holds for one entity: its siblings, and the stamp of the merged version written with them. */
export interface EntityState extends EntitySiblings {
  /** The merged winner's stamp as last committed (the policy's merge of `siblings` at that commit). */
  readonly merged: Stamp
}

export interface EntityWrite extends EntitySiblings {
  readonly topicId: number
  readonly entity: string
  /** Stored beside the siblings for queries and verification. */
  readonly merged: Version
}

/** An output record as the outbox keeps it: bytes only, the partition chosen, the headers present. */
export interface OutboxRecord extends OutRecord {
  readonly partition: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeaders
}

/** The output of one committed batch, not acknowledged by Kafka yet. */
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
}

/**
 * The store port: what the engine, the processor and the outbox flusher need of the state store. Every
 * method is synchronous, so that a batch's reads and its commit can run in one transaction with no `await`
 * in between. The SQLite implementation is `SqliteStateStore`; metering, fault injection and the like wrap a
 * store as layers implementing this same interface, as Kafka Streams wraps its stores.
 */
export interface StateStore {
  /** The numeric id of a configured topic, assigned on first use. */
  topicId (name: string): number
  getEntity (topicId: number, entity: string): EntityState | undefined
  /**
   * Runs `fn` (synchronous) in one transaction: reads inside it skip a lock round each, and a `commit` inside
   * it becomes a savepoint of it. When `fn` throws, nothing it wrote is kept.
   */
  atomically<T> (fn: () => T): T
  /** Writes the batch's state, outbox records and consumed offsets atomically: all of it or, if it throws, none. */
  commit (batch: BatchCommit): void
  /** Next offset to consume per "topic:partition", as committed. */
  offsets (): Map<string, number>
  /** The output of up to `limit` committed batches after `afterSeq`, oldest first. */
  pending (afterSeq: number, limit: number): PendingOutput[]
  /** Number of outbox records not acknowledged yet. */
  pendingCount (): number
  /** Forgets the output of the batches up to and including `seq`, once Kafka acknowledged it. */
  acknowledge (seq: number): void
  /** Merged stamp and deletion flag of every entity of a topic, for verification and state queries. */
  mergedStamps (topicId: number): Map<string, Stamp & { deleted: boolean }>
  /** Size of the store in pages (of `PRAGMA page_size` bytes, 4096 by default). */
  pageCount (): number
  close (): void
}
