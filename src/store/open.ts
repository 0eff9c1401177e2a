import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import { StoreError } from '../errors.ts'
import { migrate } from './migrate.ts'
import { acquireOwnerLock, type OwnerLock } from './owner-lock.ts'

export interface OpenOptions {
  /** Folder of the state file (`concord.db`); created if missing. ':memory:' for a throwaway store. */
  readonly dir: string
  /** 'normal' (default): WAL commits survive a process crash, the last ones may be lost on power loss; 'full': fsync each commit. */
  readonly synchronous: 'normal' | 'full'
  /** SQLite page cache in MiB. */
  readonly cacheMb: number
}

/**
 * Opens (or creates) the state store in WAL mode and brings its schema up to date. A store on disk is
 * locked to this process (owner-lock.ts) until `close()`.
 */
export function openDatabase (options: OpenOptions): Database {
  let db: Database
  let lock: OwnerLock | undefined
  try {
    if (options.dir === ':memory:') {
      db = new BetterSqlite3(':memory:')
    } else {
      mkdirSync(options.dir, { recursive: true })
      lock = acquireOwnerLock(options.dir)
      db = new BetterSqlite3(join(options.dir, 'concord.db'))
    }
  } catch (err) {
    lock?.release()
    if (err instanceof StoreError) throw err
    throw new StoreError(`cannot open the state store in ${options.dir}: ${(err as Error).message}`, { cause: err })
  }
  if (lock !== undefined) {
    const close = db.close.bind(db)
    const held = lock
    db.close = () => {
      close()
      held.release()
      return db
    }
  }
  try {
    // Exclusive locking lets WAL skip its shared-memory locks, which halves the cost of a point read
    // (measured: 9.6 -> 4.8 µs). It does not keep a second process out: the owner lock above does.
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = WAL')
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: a page updated by many batches is copied back once.
    db.pragma('wal_autocheckpoint = 10000')
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma(`cache_size = ${-options.cacheMb * 1024}`)
    db.pragma('temp_store = MEMORY')
    db.pragma('foreign_keys = ON')
    migrate(db)
  } catch (err) {
    db.close()
    if (err instanceof StoreError) throw err
    throw new StoreError(`cannot prepare the state store in ${options.dir}: ${(err as Error).message}`, { cause: err })
  }
  return db
}
