import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'

/**
 * What SQLite alone does with the engine's access pattern, without concord: a table of `rows` entities
 * (the entity_state shape, WITHOUT ROWID), then `updates` random point reads + upserts of rows of about
 * `rowBytes` bytes (sizes varying ±50, contents changing), sorted per transaction of `txn`, WAL with
 * synchronous=NORMAL, exclusive locking, a `cacheMb` page cache; with `outbox` on, each transaction also
 * writes and deletes one ~300 KB blob per 1,000 updates, as concord's outbox does. Prints updates/s.
 *
 *   node_modules/.bin/node bench/sqlite-ceiling.ts [rows=1000000] [updates=300000] [rowBytes=400] [txn=50000] [cacheMb=64] [outbox=1]
 */
const [rows = 1_000_000, updates = 300_000, rowBytes = 400, txn = 50_000, cacheMb = 64, outbox = 1] = process.argv.slice(2).map(Number)
const dir = mkdtempSync(join(tmpdir(), 'concord-sqlite-ceiling-'))
try {
  const db = new BetterSqlite3(join(dir, 'x.db'))
  db.pragma('locking_mode = EXCLUSIVE')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('wal_autocheckpoint = 10000')
  db.pragma(`cache_size = ${-cacheMb * 1024}`)
  db.exec('CREATE TABLE t (topic_id INTEGER, entity TEXT, partition INTEGER, state BLOB, PRIMARY KEY (topic_id, entity)) WITHOUT ROWID')
  db.exec('CREATE TABLE o (seq INTEGER PRIMARY KEY, count INTEGER, records BLOB)')
  const get = db.prepare('SELECT partition, state FROM t WHERE topic_id = ? AND entity = ?')
  const put = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?) ON CONFLICT (topic_id, entity) DO UPDATE SET state = excluded.state')
  const putOutbox = db.prepare('INSERT INTO o (count, records) VALUES (?, ?)')
  const clearOutbox = db.prepare('DELETE FROM o')
  let seed = 1
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
  const row = (): Buffer => {
    const b = Buffer.alloc(rowBytes - 50 + Math.floor(rand() * 100), 7)
    b.writeUInt32LE(Math.floor(rand() * 4e9), 0)
    return b
  }
  const blob = Buffer.alloc(300_000, 3)
  const fill = db.transaction((from: number, to: number) => { for (let i = from; i < to; i++) put.run(1, `order-${i}`, 0, row()) })
  for (let i = 0; i < rows; i += 20_000) fill(i, Math.min(rows, i + 20_000))
  const window = db.transaction((keys: string[]) => {
    for (const k of keys) get.get(1, k)
    keys.sort()
    for (const k of keys) put.run(1, k, 0, row())
    if (outbox === 1) {
      for (let i = 0; i < keys.length; i += 1000) putOutbox.run(1000, blob)
      clearOutbox.run()
    }
  })
  const start = performance.now()
  for (let done = 0; done < updates; done += txn) window(Array.from({ length: Math.min(txn, updates - done) }, () => `order-${Math.floor(rand() * rows)}`))
  const seconds = (performance.now() - start) / 1000
  console.log(`${rows.toLocaleString('en-US')} rows of ~${rowBytes} bytes, ${txn.toLocaleString('en-US')} updates per transaction, cache ${cacheMb} MiB, outbox ${outbox === 1 ? 'on' : 'off'}: ${Math.round(updates / seconds).toLocaleString('en-US')} read+upserts/s`)
  db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
