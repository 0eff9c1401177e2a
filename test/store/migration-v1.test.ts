/**
 * A store written by the previous code must migrate on start without losing state. Each test builds a
 * version-1 store as that code wrote it: the schema of 001-initial.sql alone (applied by `migrate` from a
 * folder holding only that file, so schema_migrations records it as a released store does), then its rows
 * with the version-1 columns: the `entities.siblings` blob in the version-1 layout, built here by hand from
 * the layout 001-initial.sql and src/merge/sibling-codec.ts document, the merged winner's stamp computed here
 * independently (the greatest stamp among the siblings: version 1's only policy was lww), and the `deleted`
 * flag. Then the current code opens it, and every entity must resolve as version 1 had merged it.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import { StoreError } from '../../src/errors.ts'
import { lww } from '../../src/merge/lww.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import type { Version } from '../../src/model/version.ts'
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate.ts'
import { openDatabase } from '../../src/store/open.ts'
import { encodeOutbox } from '../../src/store/outbox-codec.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import { referenceMax, referenceSiblings, writesArb } from '../merge/arbitraries.ts'

const T = 1_700_000_000_000
const MAX = Number.MAX_SAFE_INTEGER
const temps: string[] = []
after(() => { for (const dir of temps) rmSync(dir, { recursive: true, force: true }) })

function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-migration-test-'))
  temps.push(dir)
  return dir
}

/** The migrations folder of version 1: 001-initial.sql alone. */
const V1_MIGRATIONS = tempDir()
copyFileSync(join(MIGRATIONS_DIR, '001-initial.sql'), join(V1_MIGRATIONS, '001-initial.sql'))

const merger = lww.bind({}, { dcs: [], deleteRule: 'lww', conflictWindowMs: 10_000, codec: codecs.raw, path: 'topics[0].policy', modules: new Map() })

// ---------------------------------------------------------------------------------------------------------
// Version 1, by hand.

const u8 = (n: number): Buffer => Buffer.from([n])
const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }
const f64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleBE(n); return b }

/**
 * Version 1's `entities.siblings`: u8 count, then per sibling u8 dc length, dc (UTF-8), f64 ts, f64 counter,
 * u16 event id length, event id (UTF-8), i32 value length (-1 for a delete), value bytes; big-endian.
 */
function v1Blob (siblings: readonly Version[]): Buffer {
  return Buffer.concat([u8(siblings.length), ...siblings.flatMap(({ stamp, value }) => {
    const dc = Buffer.from(stamp.dc, 'utf8')
    const id = Buffer.from(stamp.eventId, 'utf8')
    return [u8(dc.length), dc, f64(stamp.ts), f64(stamp.counter), u16(id.length), id, i32(value === null ? -1 : value.length), value ?? Buffer.alloc(0)]
  })])
}

interface V1Entity {
  readonly topic: string
  readonly entity: string
  readonly partition: number
  /** One per writer DC, as version 1 kept them. */
  readonly siblings: readonly Version[]
  /** The merged version version 1 stored the stamp of. */
  readonly winner: Version
}

/** Opens a database as version 1's openDatabase did (the pragmas that shape the file) and applies its one migration. */
function v1Database (file: string): Database {
  const db = new BetterSqlite3(file)
  if (file !== ':memory:') db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  assert.equal(migrate(db, V1_MIGRATIONS), 1)
  return db
}

/** Writes topics and entities with version 1's statements and columns; returns the topic ids. */
function writeV1 (db: Database, entities: readonly V1Entity[]): Map<string, number> {
  const ids = new Map<string, number>()
  const putTopic = db.prepare('INSERT INTO topics (name) VALUES (?) ON CONFLICT (name) DO NOTHING')
  const getTopic = db.prepare('SELECT id FROM topics WHERE name = ?').pluck()
  const putEntity = db.prepare(`INSERT INTO entities (topic_id, entity, partition, siblings, merged_dc, merged_ts, merged_counter, merged_event_id, deleted)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  db.transaction(() => {
    for (const e of entities) {
      putTopic.run(e.topic)
      const id = getTopic.get(e.topic) as number
      ids.set(e.topic, id)
      const w = e.winner.stamp
      putEntity.run(id, e.entity, e.partition, v1Blob(e.siblings), w.dc, w.ts, w.counter, w.eventId, e.winner.value === null ? 1 : 0)
    }
  })()
  return ids
}

/** A stamp as a plain object (generated ones may have a null prototype, which deepEqual tells apart). */
const plain = (s: Stamp): Stamp => ({ ts: s.ts, counter: s.counter, dc: s.dc, eventId: s.eventId })

interface MigratedRow { topic_id: number, entity: string, partition: number, state: Buffer, deleted_ts: number | null }

const migratedRow = (db: Database, topicId: number, entity: string): MigratedRow | undefined =>
  db.prepare('SELECT topic_id, entity, partition, state, deleted_ts FROM entity_state WHERE topic_id = ? AND entity = ?').get(topicId, entity) as MigratedRow | undefined

/** Checks one migrated entity against what version 1 stored: partition, state bytes, delete time, and the resolution. */
function assertMigrated (db: Database, store: SqliteStateStore, topicId: number, e: V1Entity): void {
  const label = `${e.topic}/${e.entity}`
  const migrated = migratedRow(db, topicId, e.entity)
  assert.ok(migrated !== undefined, `${label} was migrated`)
  assert.equal(migrated.partition, e.partition, `${label}: partition`)
  assert.ok(migrated.state.equals(v1Blob(e.siblings)), `${label}: the state is the version-1 siblings blob, unchanged`)
  const deleted = e.winner.value === null
  assert.equal(migrated.deleted_ts, deleted ? e.winner.stamp.ts : null, `${label}: deleted_ts is the old merged_ts exactly when it was deleted`)
  assert.deepEqual(store.getEntity(topicId, e.entity), { partition: e.partition, state: migrated.state })

  const resolved = merger.resolve(merger.decodeState(migrated.state))
  const winner = plain(e.winner.stamp)
  assert.deepEqual(resolved.origin, winner, `${label}: resolves to the old merged winner`)
  assert.deepEqual(resolved.value, e.winner.value, `${label}: with its bytes`)
  assert.deepEqual(resolved.tombstone, deleted ? winner : undefined, `${label}: deleted by the old winner exactly when it was deleted`)
}

// ---------------------------------------------------------------------------------------------------------
// Hand-picked entities: each tie-break, deletes winning, losing and repeated, empty values, extreme stamps.

const live = (dc: string, ts: number, counter: number, eventId: string, value: string): Version =>
  ({ stamp: { ts, counter, dc, eventId }, value: Buffer.from(value) })
const gone = (dc: string, ts: number, counter: number, eventId: string): Version =>
  ({ stamp: { ts, counter, dc, eventId }, value: null })

/** `winner` indexes `siblings`: chosen by hand, by the stamp order (ts, counter, dc by UTF-8 bytes, event id). */
function entity (topic: string, name: string, partition: number, siblings: Version[], winner: number): V1Entity {
  return { topic, entity: name, partition, siblings, winner: siblings[winner]! }
}

const CASES: readonly V1Entity[] = [
  entity('orders', 'one-writer', 0, [live('eu-west', T, 0, 'e1', 'a')], 0),
  entity('orders', 'newer-ts', 1, [live('eu-west', T, 5, 'e1', 'old'), live('us-east', T + 1, 0, 'e2', 'new')], 1),
  entity('orders', 'counter', 2, [live('eu-west', T, 2, 'e1', 'x'), live('us-east', T, 1, 'e9', 'y')], 0),
  // U+1D400 sorts after U+FF21 by UTF-8 bytes (the stamp order), before it by UTF-16 units; 'dc' is a prefix of both.
  entity('orders', 'dc-utf8', 0, [live('dc-\uFF21', T, 0, 'e1', 'fw'), live('dc-\u{1D400}', T, 0, 'e1', 'math'), live('dc', T, 0, 'e1', 'short')], 1),
  entity('orders', 'deleted', 3, [live('eu-west', T, 0, 'e1', 'a'), gone('us-east', T + 2, 0, 'e2')], 1),
  entity('orders', 'revived', 3, [gone('eu-west', T, 0, 'e1'), live('us-east', T + 1, 0, 'e2', 'back')], 1),
  entity('orders', 'deleted-twice', 4, [gone('eu-west', T + 3, 0, 'e1'), gone('us-east', T + 3, 1, 'e2'), live('ap-south', T + 2, 9, 'e3', 'v')], 1),
  entity('orders', 'only-delete', 5, [gone('eu-west', T, 0, 'é')], 0),
  entity('orders', 'empty-value', 6, [live('eu-west', T + 1, 0, 'e1', ''), live('us-east', T, 0, 'e2', 'full')], 0),
  entity('orders', 'extreme', 7, [gone('eu-west', MAX, MAX, 'é'.repeat(300)), live('us-east', 0, 0, '', 'v')], 0),
  entity('orders', 'ördér-ü', 11, [live('us-east', T, 0, 'e1', '\u{1F600}')], 0),
  entity('payments', 'one-writer', 2, [gone('eu-west', T + 9, 0, 'p1'), live('us-east', T + 8, 0, 'p2', 'pay')], 0),
  entity('payments', 'p-live', 0, [live('eu-west', T, 0, 'p3', 'ok')], 0)
]

const OFFSETS = [['orders', 0, 42], ['orders', 3, 7], ['dc2.orders', 1, 1_000_000]] as const

describe('migration of a version-1 store', () => {
  test('a version-1 store on disk migrates on open without losing state, and every entity resolves to its old merged winner', () => {
    const dir = tempDir()
    const v1 = v1Database(join(dir, 'concord.db'))
    const ids = writeV1(v1, CASES)
    for (const [topic, partition, next] of OFFSETS) v1.prepare('INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)').run(topic, partition, next)
    const outboxRecords = [
      { topic: 'orders.merged', partition: 1, key: Buffer.from('newer-ts'), value: Buffer.from('new'), headers: { 'x-origin-dc': Buffer.from('us-east') } },
      { topic: 'orders.merged', partition: 3, key: Buffer.from('deleted'), value: null, headers: {} }
    ]
    v1.prepare('INSERT INTO outbox (count, records) VALUES (?, ?)').run(outboxRecords.length, encodeOutbox(outboxRecords))
    const v1Migration = v1.prepare('SELECT * FROM schema_migrations').all()
    const v1Topics = v1.prepare('SELECT id, name FROM topics ORDER BY id').all()
    const v1Offsets = v1.prepare('SELECT * FROM offsets ORDER BY topic, partition').all()
    const v1Outbox = v1.prepare('SELECT * FROM outbox ORDER BY seq').all()
    v1.close()

    const db = openDatabase({ dir, synchronous: 'normal', cacheMb: 16 })
    try {
      const migrations = db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as Array<{ version: number, name: string }>
      assert.deepEqual(migrations.map(m => [m.version, m.name]), [[1, '001-initial.sql'], [2, '002-policy-state.sql']])
      assert.deepEqual(db.prepare('SELECT * FROM schema_migrations WHERE version = 1').all(), v1Migration, 'version 1\'s record is untouched')
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
      assert.ok(!tables.includes('entities'), 'the entities table is gone')
      assert.ok(tables.includes('entity_state') && tables.includes('watermarks'))

      assert.deepEqual(db.prepare('SELECT id, name FROM topics ORDER BY id').all(), v1Topics)
      assert.deepEqual(db.prepare('SELECT DISTINCT state_format FROM topics').pluck().all(), ['siblings'])
      assert.equal(db.prepare('SELECT count(*) FROM entity_state').pluck().get(), CASES.length, 'every entity, and no other')

      const store = new SqliteStateStore(db)
      for (const e of CASES) assertMigrated(db, store, ids.get(e.topic)!, e)
      assert.equal(store.entities(ids.get('orders')!).size, CASES.filter(e => e.topic === 'orders').length)

      assert.deepEqual(db.prepare('SELECT * FROM offsets ORDER BY topic, partition').all(), v1Offsets)
      assert.deepEqual(store.offsets(), new Map(OFFSETS.map(([topic, partition, next]) => [`${topic}:${partition}`, next])))
      assert.deepEqual(db.prepare('SELECT * FROM outbox ORDER BY seq').all(), v1Outbox)
      assert.deepEqual(store.pending(0, 10).map(p => p.records), [outboxRecords])
      assert.equal(store.pendingCount(), 2)
      assert.deepEqual(store.watermarks(ids.get('orders')!), [])

      assert.equal(store.topicId('orders', 'siblings'), ids.get('orders'))
      assert.equal(store.topicId('payments', 'siblings'), ids.get('payments'))
      assert.throws(() => store.topicId('orders', 'fields'), (err: unknown) =>
        err instanceof StoreError && /topic "orders"/.test(err.message) && /"siblings" layout/.test(err.message) && /as "fields"/.test(err.message))
    } finally {
      db.close()
    }

    // Opening again applies nothing and reads the same state.
    const again = openDatabase({ dir, synchronous: 'normal', cacheMb: 16 })
    try {
      assert.equal(migrate(again), 0)
      const store = new SqliteStateStore(again)
      for (const e of CASES) assertMigrated(again, store, ids.get(e.topic)!, e)
    } finally {
      again.close()
    }
  })

  test('a migrated state carries on: it absorbs a newer write, re-encodes its siblings byte for byte, and its deletes are collected', () => {
    const db = v1Database(':memory:')
    const ids = writeV1(db, CASES)
    migrate(db)
    const store = new SqliteStateStore(db)
    const orders = ids.get('orders')!

    const held = store.getEntity(orders, 'deleted')!
    const reEncoded = merger.encodeState(merger.decodeState(held.state))
    assert.ok(reEncoded.subarray(0, held.state.length).equals(held.state), 'the siblings part is the version-1 blob')

    const write = { stamp: { ts: T + 5, counter: 0, dc: 'eu-west', eventId: 'e7' }, value: Buffer.from('again') }
    const absorbed = merger.absorb(merger.decodeState(held.state), write)
    assert.equal(absorbed.outcome, 'applied')
    if (absorbed.outcome !== 'applied') return
    store.commit({ entities: [{ topicId: orders, entity: 'deleted', partition: held.partition, state: merger.encodeState(absorbed.state), deletedTs: undefined }], outbox: [], offsets: [], watermarks: [] })
    const revived = merger.resolve(merger.decodeState(store.getEntity(orders, 'deleted')!.state))
    assert.deepEqual([revived.origin, revived.value], [write.stamp, write.value])

    // Deleted at T (only-delete) and T + 3 (deleted-twice), not MAX (extreme), and 'deleted' was just revived.
    assert.equal(store.purgeDeleted(orders, T + 10, 100), 2)
    assert.deepEqual([...store.entities(orders).keys()].filter(e => e.includes('delete')).sort(), ['deleted'])
    store.close()
  })

  test('generated version-1 stores migrate so that every entity resolves to the greatest stamp among its siblings', () => {
    // Tiny stamp pools (ties on ts and counter, DC names whose UTF-8 and UTF-16 orders differ) and full-range ones.
    const wideSiblingsArb: fc.Arbitrary<Version[]> = fc.uniqueArray(fc.record({
      stamp: fc.record({ ts: fc.maxSafeNat(), counter: fc.maxSafeNat(), dc: fc.string({ unit: 'binary', maxLength: 12 }), eventId: fc.string({ unit: 'binary', maxLength: 20 }) }),
      value: fc.option(fc.uint8Array({ maxLength: 16 }).map(a => Buffer.from(a)), { nil: null, freq: 3 })
    }), { selector: v => v.stamp.dc, minLength: 1, maxLength: 6 })
    const siblingsArb = fc.oneof(writesArb.map(referenceSiblings), wideSiblingsArb)
    const entitiesArb = fc.uniqueArray(fc.record({
      topic: fc.constantFrom('orders', 'payments'),
      entity: fc.string({ maxLength: 10 }),
      partition: fc.nat({ max: 63 }),
      siblings: siblingsArb
    }), { selector: e => `${e.topic}\u0000${e.entity}`, minLength: 1, maxLength: 8 })

    fc.assert(fc.property(entitiesArb, generated => {
      const entities: V1Entity[] = generated.map(e => ({ ...e, winner: referenceMax(e.siblings) }))
      const db = v1Database(':memory:')
      const ids = writeV1(db, entities)
      assert.equal(migrate(db), 1)
      const store = new SqliteStateStore(db)
      for (const e of entities) assertMigrated(db, store, ids.get(e.topic)!, e)
      assert.equal(db.prepare('SELECT count(*) FROM entity_state').pluck().get(), entities.length)
      store.close()
    }), { numRuns: 50 })
  })
})
