import type { Database, Statement } from 'better-sqlite3'
import { partitionKey } from '../model/record.ts'
import type { Stamp } from '../model/stamp.ts'
import { decodeOutbox, encodeOutbox } from './outbox-codec.ts'
import { decodeSiblings, encodeSiblings } from './siblings-codec.ts'
import type { BatchCommit, EntityState, PendingOutput, StateStore } from './state-store.ts'

interface EntityRow {
  partition: number
  siblings: Buffer
  merged_dc: string
  merged_ts: number
  merged_counter: number
  merged_event_id: string
}

/**
 * The state store on better-sqlite3 (schema in migrations/), its queries prepared once. The only writer of
 * entity state, offsets and the outbox.
 */
export class SqliteStateStore implements StateStore {
  readonly #db: Database
  readonly #getEntity: Statement<[number, string], EntityRow>
  readonly #putEntity: Statement
  readonly #putOffset: Statement
  readonly #putOutbox: Statement
  readonly #readOutbox: Statement<[number, number], { seq: number, records: Buffer }>
  readonly #deleteOutbox: Statement<[number]>
  readonly #countOutbox: Statement<[], { n: number }>
  readonly #commit: (batch: BatchCommit) => void
  readonly #atomically: (fn: () => unknown) => unknown

  constructor (db: Database) {
    this.#db = db
    this.#getEntity = db.prepare(`SELECT partition, siblings, merged_dc, merged_ts, merged_counter, merged_event_id
      FROM entities WHERE topic_id = ? AND entity = ?`)
    this.#putEntity = db.prepare(`INSERT INTO entities (topic_id, entity, partition, siblings, merged_dc, merged_ts, merged_counter, merged_event_id, deleted)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (topic_id, entity) DO UPDATE SET siblings = excluded.siblings, merged_dc = excluded.merged_dc,
        merged_ts = excluded.merged_ts, merged_counter = excluded.merged_counter,
        merged_event_id = excluded.merged_event_id, deleted = excluded.deleted`)
    this.#putOffset = db.prepare(`INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)
      ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset`)
    this.#putOutbox = db.prepare('INSERT INTO outbox (count, records) VALUES (?, ?)')
    this.#readOutbox = db.prepare('SELECT seq, records FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
    this.#deleteOutbox = db.prepare('DELETE FROM outbox WHERE seq <= ?')
    this.#countOutbox = db.prepare('SELECT coalesce(sum(count), 0) AS n FROM outbox')
    this.#atomically = db.transaction((fn: () => unknown) => fn())
    this.#commit = db.transaction((batch: BatchCommit) => {
      // Sorted by key so that each B-tree page is visited once per batch.
      const entities = [...batch.entities].sort((a, b) => a.topicId - b.topicId || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0))
      for (const e of entities) {
        const w = e.merged.stamp
        this.#putEntity.run(e.topicId, e.entity, e.partition, encodeSiblings(e.siblings), w.dc, w.ts, w.counter, w.eventId, e.merged.value === null ? 1 : 0)
      }
      if (batch.outbox.length > 0) this.#putOutbox.run(batch.outbox.length, encodeOutbox(batch.outbox))
      for (const o of batch.offsets) this.#putOffset.run(o.topic, o.partition, o.nextOffset)
    })
  }

  topicId (name: string): number {
    this.#db.prepare('INSERT INTO topics (name) VALUES (?) ON CONFLICT (name) DO NOTHING').run(name)
    return (this.#db.prepare('SELECT id FROM topics WHERE name = ?').get(name) as { id: number }).id
  }

  getEntity (topicId: number, entity: string): EntityState | undefined {
    const row = this.#getEntity.get(topicId, entity)
    if (row === undefined) return undefined
    return {
      partition: row.partition,
      siblings: decodeSiblings(row.siblings),
      merged: { dc: row.merged_dc, ts: row.merged_ts, counter: row.merged_counter, eventId: row.merged_event_id }
    }
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

  mergedStamps (topicId: number): Map<string, Stamp & { deleted: boolean }> {
    const rows = this.#db.prepare('SELECT entity, merged_dc, merged_ts, merged_counter, merged_event_id, deleted FROM entities WHERE topic_id = ?')
      .all(topicId) as Array<{ entity: string, merged_dc: string, merged_ts: number, merged_counter: number, merged_event_id: string, deleted: number }>
    return new Map(rows.map(r => [r.entity, { dc: r.merged_dc, ts: r.merged_ts, counter: r.merged_counter, eventId: r.merged_event_id, deleted: r.deleted === 1 }]))
  }

  pageCount (): number {
    return this.#db.pragma('page_count', { simple: true }) as number
  }

  close (): void {
    this.#db.close()
  }
}
