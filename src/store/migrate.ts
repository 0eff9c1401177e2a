import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Database } from 'better-sqlite3'
import { StoreError } from '../errors.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

interface Migration { readonly version: number, readonly name: string, readonly sql: string, readonly checksum: string }

function readMigrations (dir: string): Migration[] {
  const migrations = readdirSync(dir).filter(f => f.endsWith('.sql')).sort().map(file => {
    const m = /^(\d+)-[\w-]+\.sql$/.exec(file)
    if (m === null) throw new StoreError(`migration file "${file}" must be named <number>-<name>.sql`)
    const sql = readFileSync(join(dir, file), 'utf8')
    return { version: Number(m[1]), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') }
  })
  const byVersion = new Map<number, string>()
  for (const m of migrations) {
    const other = byVersion.get(m.version)
    if (other !== undefined) throw new StoreError(`migrations ${other} and ${m.name} share version ${m.version}: each needs its own number`)
    byVersion.set(m.version, m.name)
  }
  return migrations
}

/**
 * Applies the migrations not applied yet, each in its own transaction, in version order. A released
 * migration must never change: one whose text differs from what was applied is refused.
 */
export function migrate (db: Database, dir = MIGRATIONS_DIR): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`)
  const applied = new Map((db.prepare('SELECT version, name, checksum FROM schema_migrations').all() as Array<{ version: number, name: string, checksum: string }>)
    .map(r => [r.version, r]))
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)')
  let count = 0
  for (const m of readMigrations(dir)) {
    const done = applied.get(m.version)
    if (done !== undefined) {
      if (done.checksum !== m.checksum) throw new StoreError(`migration ${m.name} was edited after it was applied (released migrations must never change)`)
      continue
    }
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, m.name, m.checksum, new Date().toISOString())
    })()
    count++
  }
  const known = new Set(readMigrations(dir).map(m => m.version))
  const unknown = [...applied.keys()].filter(v => !known.has(v))
  if (unknown.length > 0) throw new StoreError(`the store was migrated by a newer concord (schema versions ${unknown.join(', ')} are unknown here)`)
  return count
}

/** The schema version this concord's migrations bring a store to: the greatest migration number (0 for none). */
export function currentSchemaVersion (dir = MIGRATIONS_DIR): number {
  return readMigrations(dir).reduce((v, m) => Math.max(v, m.version), 0)
}
