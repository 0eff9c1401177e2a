import type { Database, Statement } from 'better-sqlite3'
import { StoreError } from '../errors.ts'
import { partitionKey } from '../model/record.ts'
import { decodeOutbox, encodeOutbox } from './outbox-codec.ts'
import type { BatchCommit, EntityEntry, EntityRow, PendingOutput, StateReader, StateStore, StoredTopic, Watermark } from './state-store.ts'

/** Outbox records per outbox row at most: a large commit is kept in rows a producer call can take a few of. */
const OUTBOX_ROW_RECORDS = 1000

/**
 * The state store on better-sqlite3 (schema in migrations/), its queries prepared once. The only writer of
 * entity state, watermarks, offsets and the outbox.
 *
 * Under normal locking (open.ts) a point read outside a transaction takes and releases the WAL's shared-
 * memory read lock and the file's shared lock each time: the engine reads a batch's states inside one
 * `atomically`, which pays that once per batch.
 */
export class SqliteStateStore implements StateStore, StateReader {
  readonly #db: Database
  readonly #getEntity: Statement<[number, string], EntityRow>
  readonly #topic: Statement<[string], { id: number, state_format: string }>
  readonly #firstPage: Statement<[number, number], EntityEntry>
  readonly #nextPage: Statement<[number, string, number], EntityEntry>
  readonly #putEntity: Statement
  readonly #putOffset: Statement
  readonly #putWatermark: Statement
  readonly #putOutbox: Statement
  readonly #readOutbox: Statement<[number, number], { seq: number, records: Buffer }>
  readonly #deleteOutbox: Statement<[number]>
  readonly #countOutbox: Statement<[], { n: number }>
  readonly #purge: Statement<[number, number, number]>
  readonly #commit: (batch: BatchCommit) => void
  readonly #atomically: (fn: () => unknown) => unknown

  constructor (db: Database) {
    this.#db = db
    this.#getEntity = db.prepare('SELECT partition, state FROM entity_state WHERE topic_id = ? AND entity = ?')
    this.#topic = db.prepare('SELECT id, state_format FROM topics WHERE name = ?')
    this.#firstPage = db.prepare('SELECT entity, partition, state FROM entity_state WHERE topic_id = ? ORDER BY entity LIMIT ?')
    this.#nextPage = db.prepare('SELECT entity, partition, state FROM entity_state WHERE topic_id = ? AND entity > ? ORDER BY entity LIMIT ?')
    this.#putEntity = db.prepare(`INSERT INTO entity_state (topic_id, entity, partition, state, deleted_ts) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (topic_id, entity) DO UPDATE SET state = excluded.state, deleted_ts = excluded.deleted_ts`)
    this.#putOffset = db.prepare(`INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)
      ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset`)
    this.#putWatermark = db.prepare(`INSERT INTO watermarks (topic_id, dc, partition, ts) VALUES (?, ?, ?, ?)
      ON CONFLICT (topic_id, dc, partition) DO UPDATE SET ts = max(ts, excluded.ts)`)
    this.#putOutbox = db.prepare('INSERT INTO outbox (count, records) VALUES (?, ?)')
    this.#readOutbox = db.prepare('SELECT seq, records FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
    this.#deleteOutbox = db.prepare('DELETE FROM outbox WHERE seq <= ?')
    this.#countOutbox = db.prepare('SELECT coalesce(sum(count), 0) AS n FROM outbox')
    this.#purge = db.prepare(`DELETE FROM entity_state WHERE (topic_id, entity) IN (SELECT topic_id, entity FROM entity_state
      WHERE topic_id = ? AND deleted_ts IS NOT NULL AND deleted_ts < ? LIMIT ?)`)
    this.#atomically = db.transaction((fn: () => unknown) => fn())
    this.#commit = db.transaction((batch: BatchCommit) => {
      // Sorted by key so that each B-tree page is visited once per batch.
      const entities = [...batch.entities].sort((a, b) => a.topicId - b.topicId || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0))
      for (const e of entities) this.#putEntity.run(e.topicId, e.entity, e.partition, e.state, e.deletedTs ?? null)
      for (const w of batch.watermarks) this.#putWatermark.run(w.topicId, w.dc, w.partition, w.ts)
      for (let i = 0; i < batch.outbox.length; i += OUTBOX_ROW_RECORDS) {
        const records = batch.outbox.slice(i, i + OUTBOX_ROW_RECORDS)
        this.#putOutbox.run(records.length, encodeOutbox(records))
      }
      for (const o of batch.offsets) this.#putOffset.run(o.topic, o.partition, o.nextOffset)
    })
  }

  topicId (name: string, stateFormat: string): number {
    const held = this.#db.prepare('SELECT id, state_format FROM topics WHERE name = ?').get(name) as { id: number, state_format: string } | undefined
    if (held === undefined) {
      return Number(this.#db.prepare('INSERT INTO topics (name, state_format) VALUES (?, ?)').run(name, stateFormat).lastInsertRowid)
    }
    if (held.state_format !== stateFormat) {
      const entities = (this.#db.prepare('SELECT count(*) AS n FROM entity_state WHERE topic_id = ?').get(held.id) as { n: number }).n
      if (entities > 0) {
        throw new StoreError(`topic "${name}" has the state of ${entities} ${entities === 1 ? 'entity' : 'entities'} in the "${held.state_format}" layout, which its policy now keeps as "${stateFormat}": choose a policy of the same layout, or start this topic from an empty state folder`)
      }
      this.#db.prepare('UPDATE topics SET state_format = ? WHERE id = ?').run(stateFormat, held.id)
    }
    return held.id
  }

  getEntity (topicId: number, entity: string): EntityRow | undefined {
    return this.#getEntity.get(topicId, entity)
  }

  topic (name: string): StoredTopic | undefined {
    const row = this.#topic.get(name)
    return row === undefined ? undefined : { id: row.id, stateFormat: row.state_format }
  }

  entityPage (topicId: number, after: string | undefined, limit: number): EntityEntry[] {
    return after === undefined ? this.#firstPage.all(topicId, limit) : this.#nextPage.all(topicId, after, limit)
  }

  entities (topicId: number): Map<string, EntityRow> {
    const rows = this.#db.prepare('SELECT entity, partition, state FROM entity_state WHERE topic_id = ?')
      .all(topicId) as Array<{ entity: string, partition: number, state: Buffer }>
    return new Map(rows.map(r => [r.entity, { partition: r.partition, state: r.state }]))
  }

  watermarks (topicId: number): Watermark[] {
    return this.#db.prepare('SELECT dc, partition, ts FROM watermarks WHERE topic_id = ?').all(topicId) as Watermark[]
  }

  purgeDeleted (topicId: number, beforeTs: number, limit: number): number {
    return this.#purge.run(topicId, beforeTs, limit).changes
  }

  atomically<T> (fn: () => T): T {
    return this.#atomically(fn) as T
  }

  commit (batch: BatchCommit): void {
    this.#commit(batch)
  }

  offsets (): Map<string, number> {
    const rows = this.#db.prepare('SELECT topic, partition, next_offset FROM offsets').all() as Array<{ topic: string, partition: number, next_offset: number }>
    return new Map(rows.map(r => [partitionKey(r), r.next_offset]))
  }

  pending (afterSeq: number, limit: number): PendingOutput[] {
    return this.#readOutbox.all(afterSeq, limit).map(r => ({ seq: r.seq, records: decodeOutbox(r.records) }))
  }

  pendingCount (): number {
    return this.#countOutbox.get()!.n
  }

  acknowledge (seq: number): void {
    this.#deleteOutbox.run(seq)
  }

  pageCount (): number {
    return this.#db.pragma('page_count', { simple: true }) as number
  }

  close (): void {
    this.#db.close()
  }
}
