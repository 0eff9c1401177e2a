import { existsSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database, Statement } from 'better-sqlite3'
import { StoreError } from '../errors.ts'
import { currentSchemaVersion, MIGRATIONS_DIR } from './migrate.ts'
import type { EntityEntry, EntityRow, StateReader, StoredTopic } from './state-store.ts'

/** How long a read waits for a lock before it gives up (a processor's checkpoint or WAL reset holds one for moments). */
const BUSY_TIMEOUT_MS = 2000

/**
 * A state folder opened for reading only, beside the processor that owns it (`concord inspect`, `concord
 * verify`): no owner lock (owner-lock.ts), no migration, no write. SQLite opens the file read-only, so
 * nothing here can change the state even by mistake.
 *
 * It can read while a processor runs because the processor keeps its database in WAL mode with normal
 * locking (open.ts): WAL readers never block the writer, nor the writer them; each read sees the last commit
 * made before it began. A long scan (verify on a large store) keeps the processor's checkpoints from
 * restarting the WAL until it ends, so the WAL grows meanwhile; it shrinks back after.
 *
 * A store of another schema version is refused rather than misread: one older than this concord's must be
 * opened (migrated) by this concord's processor first, one newer needs a newer concord.
 */
export class ReadOnlyStateStore implements StateReader {
  readonly #db: Database
  readonly #topic: Statement<[string], { id: number, state_format: string }>
  readonly #getEntity: Statement<[number, string], EntityRow>
  readonly #first: Statement<[number, number], EntityEntry>
  readonly #next: Statement<[number, string, number], EntityEntry>

  constructor (db: Database) {
    this.#db = db
    this.#topic = db.prepare('SELECT id, state_format FROM topics WHERE name = ?')
    this.#getEntity = db.prepare('SELECT partition, state FROM entity_state WHERE topic_id = ? AND entity = ?')
    this.#first = db.prepare('SELECT entity, partition, state FROM entity_state WHERE topic_id = ? ORDER BY entity LIMIT ?')
    this.#next = db.prepare('SELECT entity, partition, state FROM entity_state WHERE topic_id = ? AND entity > ? ORDER BY entity LIMIT ?')
  }

  topic (name: string): StoredTopic | undefined {
    const row = this.#topic.get(name)
    return row === undefined ? undefined : { id: row.id, stateFormat: row.state_format }
  }

  getEntity (topicId: number, entity: string): EntityRow | undefined {
    return this.#getEntity.get(topicId, entity)
  }

  entityPage (topicId: number, after: string | undefined, limit: number): EntityEntry[] {
    return after === undefined ? this.#first.all(topicId, limit) : this.#next.all(topicId, after, limit)
  }

  snapshot (): () => void {
    if (this.#db.inTransaction) return () => {}
    this.#db.exec('BEGIN')
    return () => { if (this.#db.inTransaction) this.#db.exec('COMMIT') }
  }

  close (): void {
    this.#db.close()
  }
}

/**
 * Opens the state store in `dir` read-only. Throws StoreError when the folder holds no state store, when
 * the store cannot be read (held exclusively by a concord older than read-only access), or when its schema
 * version is not this concord's, naming both versions.
 */
export function openReadOnly (dir: string, migrationsDir = MIGRATIONS_DIR): ReadOnlyStateStore {
  const file = join(dir, 'concord.db')
  if (!existsSync(file)) throw new StoreError(`no state store in ${dir} (${file} does not exist)`)
  let db: Database
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  } catch (err) {
    throw new StoreError(`cannot open the state store in ${dir} for reading: ${(err as Error).message}`, { cause: err })
  }
  try {
    const stored = storedVersion(db, dir)
    const current = currentSchemaVersion(migrationsDir)
    if (stored !== current) {
      throw new StoreError(stored < current
        ? `the state store in ${dir} has schema version ${stored}, this concord reads version ${current}: start this concord's processor on it once to migrate it, then read it`
        : `the state store in ${dir} has schema version ${stored}, newer than version ${current} that this concord reads: use the concord that wrote it`)
    }
    return new ReadOnlyStateStore(db)
  } catch (err) {
    db.close()
    if (err instanceof StoreError) throw err
    throw new StoreError(`cannot read the state store in ${dir}: ${(err as Error).message}`, { cause: err })
  }
}

function storedVersion (db: Database, dir: string): number {
  let row: { v: number | null } | undefined
  try {
    row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null } | undefined
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'SQLITE_BUSY') {
      throw new StoreError(`the state store in ${dir} is locked by the process that owns it, which holds it exclusively (a concord older than read-only access): query that process over HTTP (GET /v1/state), or stop it`, { cause: err })
    }
    if (/no such table/.test((err as Error).message)) throw new StoreError(`${join(dir, 'concord.db')} is no concord state store (it has no schema_migrations table)`, { cause: err })
    throw err
  }
  return row?.v ?? 0
}
