/**
 * The state store: schema migrations, the headers and outbox blob codecs, the atomic batch commit, topic
 * layouts, watermarks, the purge of deleted entities and the outbox queue. In-memory stores where the disk
 * does not matter; temp directories where it does (removed at the end). The migration of a version-1 store
 * is tested in migration-v1.test.ts.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import { StoreError } from '../../src/errors.ts'
import { lww } from '../../src/merge/lww.ts'
import { decodeSiblingState } from '../../src/merge/sibling-codec.ts'
import type { SiblingState } from '../../src/merge/sibling-state.ts'
import type { HeaderValue, RecordHeaders } from '../../src/model/record.ts'
import type { Version } from '../../src/model/version.ts'
import { decodeHeaders, encodeHeaders } from '../../src/store/headers-codec.ts'
import { decodeOutbox, encodeOutbox } from '../../src/store/outbox-codec.ts'
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import type { StateStore, BatchCommit, EntityWrite, OffsetWrite, OutboxRecord, Watermark } from '../../src/store/state-store.ts'
import { referenceMax } from '../merge/arbitraries.ts'

const T = 1_700_000_000_000
const temps: string[] = []
after(() => { for (const dir of temps) rmSync(dir, { recursive: true, force: true }) })

function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-store-test-'))
  temps.push(dir)
  return dir
}

const memory = (): ReturnType<typeof openDatabase> => openDatabase({ dir: ':memory:', synchronous: 'normal', cacheMb: 16 })
const onDisk = (dir: string): ReturnType<typeof openDatabase> => openDatabase({ dir, synchronous: 'full', cacheMb: 16 })

/** A copy of the released migrations that a test may edit. */
function migrationsCopy (): string {
  const dir = tempDir()
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  return dir
}

function applied (db: ReturnType<typeof openDatabase>): Array<{ version: number, name: string }> {
  return db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{ version: number, name: string }>
}

function tables (db: ReturnType<typeof openDatabase>): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map(r => r.name)
}

const isStoreError = (pattern: RegExp) => (err: unknown): boolean =>
  err instanceof StoreError && err.code === 'CONCORD_ERR_STORE' && pattern.test(err.message)

describe('migrate', () => {
  test('applies every released migration once, and migrating again or reopening a store on disk applies nothing', () => {
    const released = readdirSync(MIGRATIONS_DIR).filter(f => f.endsWith('.sql')).sort()
    const db = memory()
    assert.deepEqual(applied(db).map(m => m.name), released)
    assert.deepEqual(applied(db).slice(0, 2), [{ version: 1, name: '001-initial.sql' }, { version: 2, name: '002-policy-state.sql' }])
    for (const table of ['entity_state', 'offsets', 'outbox', 'topics', 'watermarks']) assert.ok(tables(db).includes(table), table)
    assert.ok(!tables(db).includes('entities'), 'version 2 replaced the entities table with entity_state')
    assert.equal(migrate(db), 0)
    assert.deepEqual(applied(db).map(m => m.name), released)
    db.close()

    const dir = tempDir()
    onDisk(dir).close()
    const reopened = onDisk(dir)
    assert.equal(migrate(reopened), 0)
    assert.deepEqual(applied(reopened).map(m => m.name), released)
    reopened.close()
  })

  test('refuses a migration whose text changed after it was applied', () => {
    const dir = migrationsCopy()
    const db = memory()
    assert.equal(migrate(db, dir), 0, 'an unchanged copy is the same migration')
    appendFileSync(join(dir, '001-initial.sql'), '\n-- a harmless-looking edit\n')
    assert.throws(() => migrate(db, dir), isStoreError(/migration 001-initial\.sql was edited after it was applied/))
    db.close()
  })

  test('refuses two migration files with the same number, naming both, before applying anything', () => {
    const dir = migrationsCopy()
    writeFileSync(join(dir, '2-other.sql'), 'CREATE TABLE other (x INTEGER);\n')
    const db = memory()
    assert.throws(() => migrate(db, dir), isStoreError(/^migrations 002-policy-state\.sql and 2-other\.sql share version 2: each needs its own number$/))
    assert.ok(!tables(db).includes('other'))
    db.close()
  })

  test('applies a new migration in its own transaction, and one that fails leaves no trace', () => {
    const dir = migrationsCopy()
    const db = memory()
    writeFileSync(join(dir, '003-extra.sql'), 'CREATE TABLE extra (x INTEGER);\n')
    assert.equal(migrate(db, dir), 1)
    assert.equal(migrate(db, dir), 0)
    writeFileSync(join(dir, '004-broken.sql'), 'CREATE TABLE broken (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n')
    assert.throws(() => migrate(db, dir), /no such table: nowhere/)
    assert.deepEqual(applied(db).map(m => m.version), [1, 2, 3])
    assert.ok(tables(db).includes('extra'))
    assert.ok(!tables(db).includes('broken'), 'the failed migration\'s first statement was rolled back')
    db.close()
  })

  test('refuses a store whose schema has a version this code does not know (migrated by a newer concord)', () => {
    const newer = migrationsCopy()
    writeFileSync(join(newer, '003-from-the-future.sql'), 'CREATE TABLE future (x INTEGER);\n')
    const dir = tempDir()
    const db = onDisk(dir)
    assert.equal(migrate(db, newer), 1)
    assert.throws(() => migrate(db), isStoreError(/schema versions 3 are unknown here/))
    db.close()
    assert.throws(() => onDisk(dir), isStoreError(/schema versions 3 are unknown here/))
  })

  test('refuses a migration file not named <number>-<name>.sql', () => {
    const dir = migrationsCopy()
    writeFileSync(join(dir, 'two.sql'), 'SELECT 1;\n')
    const db = memory()
    assert.throws(() => migrate(db, dir), isStoreError(/"two\.sql" must be named <number>-<name>\.sql/))
    db.close()
  })
})

// ---------------------------------------------------------------------------------------------------------
// Blob codecs (the sibling state codec is tested with its policy code, in test/merge/sibling-codec.test.ts).

const bufferArb = fc.uint8Array({ maxLength: 40 }).map(a => Buffer.from(a))

/** A header value as kafkajs hands it over (Buffer) or as the engine writes it (string). */
const headerValueArb: fc.Arbitrary<HeaderValue> = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), bufferArb)

/**
 * Header names, avoiding those of Object.prototype (see the test below). fast-check draws `__proto__`,
 * `constructor` and the like on purpose, so the filter is needed for the general property.
 */
const headerKeyArb = fc.oneof(
  fc.constantFrom('x-origin-dc', 'x-origin-ts', '', '__connect.errors.offset'),
  fc.string({ unit: 'binary', maxLength: 12 })
).filter(k => !(k in Object.prototype))

/** Headers with repeated keys (an array value) and absent ones (undefined or an empty array). */
const headersArb: fc.Arbitrary<Record<string, HeaderValue | HeaderValue[] | undefined>> = fc.uniqueArray(
  fc.tuple(headerKeyArb, fc.oneof(
    headerValueArb,
    fc.array(headerValueArb, { maxLength: 4 }),
    fc.constant(undefined)
  )),
  { selector: ([k]) => k, maxLength: 8 }
).map(entries => Object.fromEntries(entries))

/** What the codec should give back: Buffers, one per key, an array where the key repeats, absent keys dropped. */
function expectedHeaders (headers: RecordHeaders): Record<string, Buffer | null | Array<Buffer | null>> {
  const out: Record<string, Buffer | null | Array<Buffer | null>> = {}
  for (const [k, raw] of Object.entries(headers)) {
    const values = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as HeaderValue[]
    const buffers = values.map(v => typeof v === 'string' ? Buffer.from(v, 'utf8') : v)
    if (buffers.length === 1) out[k] = buffers[0]!
    else if (buffers.length > 1) out[k] = buffers
  }
  return out
}

describe('headers codec', () => {
  test('decodes what it encodes: repeated keys in order, binary and empty values, unicode names', () => {
    fc.assert(fc.property(headersArb, headers => {
      assert.deepEqual(decodeHeaders(encodeHeaders(headers)), expectedHeaders(headers))
    }), { numRuns: 300 })
  })

  test('keeps a header named like an Object.prototype property (__proto__, constructor, toString)', () => {
    const headers = { ['__proto__']: 'a', constructor: 'b', toString: ['c', 'd'] }
    assert.deepEqual(Object.entries(decodeHeaders(encodeHeaders(headers))),
      [['__proto__', Buffer.from('a')], ['constructor', Buffer.from('b')], ['toString', [Buffer.from('c'), Buffer.from('d')]]])
  })

  test('keeps a null header value null', () => {
    const headers = { k: null } as unknown as RecordHeaders
    assert.deepEqual(decodeHeaders(encodeHeaders(headers)), { k: null })
  })
})

describe('outbox codec', () => {
  const recordArb = fc.record({
    topic: fc.string({ minLength: 1, maxLength: 249 }),
    partition: fc.nat({ max: 0xffffffff }),
    key: fc.option(bufferArb),
    value: fc.option(bufferArb),
    headers: headersArb
  })

  test('decodes what it encodes: every record of a batch in order, null keys and values kept null', () => {
    fc.assert(fc.property(fc.array(recordArb, { maxLength: 6 }), records => {
      assert.deepEqual(decodeOutbox(encodeOutbox(records)), records.map(r => ({ ...r, headers: expectedHeaders(r.headers) })))
    }), { numRuns: 300 })
  })

  test('refuses a blob with bytes after its records', () => {
    const blob = encodeOutbox([{ topic: 't', partition: 0, key: null, value: null, headers: {} }])
    assert.throws(() => decodeOutbox(Buffer.concat([blob, Buffer.from([0])])), /1 bytes after its 1 records/)
  })
})

// ---------------------------------------------------------------------------------------------------------
// The store.

type Db = ReturnType<typeof openDatabase>

/** lww (the policy of store version 1) bound as the engine binds it: it encodes and resolves the states written here. */
const merger = lww.bind({}, { dcs: ['dc1', 'dc2'], deleteRule: 'lww', conflictWindowMs: 10_000, codec: codecs.raw, path: 'topics[0].policy', modules: new Map() })

const version = (dc: string, eventId: string, value: string | null, ts = T): Version =>
  ({ stamp: { ts, counter: 0, dc, eventId }, value: value === null ? null : Buffer.from(value) })

/** The sibling state that absorbing the siblings alone builds: the greatest delete among them is the tombstone. */
function siblingState (siblings: readonly Version[]): SiblingState {
  const deletes = siblings.filter(s => s.value === null)
  return { siblings, tombstone: deletes.length === 0 ? undefined : referenceMax(deletes).stamp }
}

/** An entity write as the engine makes one: the encoded state and, while it resolves deleted, the delete's time. */
function entityWrite (topicId: number, entity: string, siblings: readonly Version[], partition = 0): EntityWrite {
  const state = siblingState(siblings)
  const resolved = merger.resolve(state)
  return { topicId, entity, partition, state: merger.encodeState(state), deletedTs: resolved.value === null ? resolved.tombstone?.ts : undefined }
}

/** A row whose state the store never reads: for tests of what the store does with rows, not with states. */
const row = (topicId: number, entity: string, deletedTs: number | undefined, partition = 0): EntityWrite =>
  ({ topicId, entity, partition, state: Buffer.from(`state of ${entity}`), deletedTs })

/** What a stored state resolves to under lww: the merged version's origin stamp and value. */
function resolvedOf (entity: { readonly state: Buffer } | undefined): { origin: unknown, value: string | null } {
  assert.ok(entity !== undefined, 'the entity has a row')
  const r = merger.resolve(merger.decodeState(entity.state))
  return { origin: r.origin, value: r.value === null ? null : r.value.toString() }
}

/** The delete times kept beside the states, which the port reads only through purgeDeleted. */
function deletedTimes (db: Db): Array<{ topic_id: number, entity: string, deleted_ts: number | null }> {
  return db.prepare('SELECT topic_id, entity, deleted_ts FROM entity_state ORDER BY topic_id, entity').all() as Array<{ topic_id: number, entity: string, deleted_ts: number | null }>
}

const layoutOf = (db: Db, topic: string): unknown => db.prepare('SELECT state_format FROM topics WHERE name = ?').pluck().get(topic)

const byKey = <V>(entries: Iterable<[string, V]>): Array<[string, V]> => [...entries].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
const sortedMarks = (marks: readonly Watermark[]): Watermark[] =>
  [...marks].sort((a, b) => a.dc < b.dc ? -1 : a.dc > b.dc ? 1 : a.partition - b.partition)
const noBatch: BatchCommit = { entities: [], outbox: [], offsets: [], watermarks: [] }

function outRecord (topic: string, n: number, value: string | null = `v${n}`): OutboxRecord {
  return { topic, partition: n % 3, key: n % 4 === 0 ? null : Buffer.from(`k${n}`), value: value === null ? null : Buffer.from(value), headers: { n: String(n), bin: Buffer.from([n & 0xff, 0]) } }
}

/** Everything a reader of the store can see, and the delete times beside the states. */
function snapshot (db: Db, store: StateStore, topicId: number, entities: readonly string[]): unknown {
  return {
    entities: byKey(store.entities(topicId)),
    rows: entities.map(e => store.getEntity(topicId, e)),
    deleted: deletedTimes(db),
    watermarks: sortedMarks(store.watermarks(topicId)),
    outbox: store.pending(0, 1_000_000),
    offsets: byKey(store.offsets())
  }
}

const ENTITY_POOL = ['a', 'b', 'kept', 'z']

const watermarkArb = fc.record({ dc: fc.constantFrom('dc1', 'dc2'), partition: fc.nat({ max: 1 }), ts: fc.integer({ min: T - 5, max: T + 5 }) })

/** A batch that can be committed, plus one poisoned statement placed anywhere in it. */
const poisonedArb = fc.record({
  entities: fc.uniqueArray(fc.constantFrom(...ENTITY_POOL), { maxLength: 4 }),
  outbox: fc.integer({ min: 0, max: 4 }),
  offsets: fc.uniqueArray(fc.record({ topic: fc.constantFrom('orders', 'dc2.orders'), partition: fc.nat({ max: 2 }), nextOffset: fc.nat({ max: 1000 }) }),
    { selector: o => `${o.topic}:${o.partition}`, maxLength: 3 }),
  watermarks: fc.array(watermarkArb, { maxLength: 4 }),
  poison: fc.constantFrom('entity', 'outbox', 'offset', 'watermark'),
  /** Where the poison goes: entities are written sorted by name, so the name decides (first, middle, last). */
  poisonEntity: fc.constantFrom('0-first', 'c-middle', '~-last'),
  at: fc.nat()
})

function insertAt<X> (list: readonly X[], at: number, x: X): X[] {
  const i = at % (list.length + 1)
  return [...list.slice(0, i), x, ...list.slice(i)]
}

/** The watermarks expected after committing `marks` over `held`: the greatest ts per DC and partition. */
function raised (held: readonly Watermark[], marks: readonly Watermark[]): Watermark[] {
  const top = new Map<string, Watermark>()
  for (const m of [...held, ...marks]) {
    const key = `${m.dc}:${m.partition}`
    const had = top.get(key)
    if (had === undefined || m.ts > had.ts) top.set(key, { dc: m.dc, partition: m.partition, ts: m.ts })
  }
  return sortedMarks([...top.values()])
}

describe('SqliteStateStore', () => {
  test('commit is atomic: when any statement of a batch fails, none of the batch is visible and the next batch commits', () => {
    fc.assert(fc.property(poisonedArb, p => {
      const db = memory()
      const store = new SqliteStateStore(db)
      const id = store.topicId('orders', 'siblings')
      const base = [{ dc: 'dc1', partition: 0, ts: T }]
      store.commit({
        entities: [entityWrite(id, 'kept', [version('dc1', 'e0', 'old')])],
        outbox: [outRecord('orders.merged', 0)],
        offsets: [{ topic: 'orders', partition: 0, nextOffset: 5 }],
        watermarks: base.map(w => ({ topicId: id, ...w }))
      })
      const names = [...ENTITY_POOL, p.poisonEntity]
      const before = snapshot(db, store, id, names)

      const good: BatchCommit = {
        entities: p.entities.map((e, i) => entityWrite(id, e, [version('dc1', `e${i + 1}`, `new-${e}`), version('dc2', 'x', null)])),
        outbox: Array.from({ length: p.outbox }, (_, i) => outRecord(i % 2 === 0 ? 'orders.merged' : 'orders.dlq', i + 1)),
        offsets: p.offsets,
        watermarks: p.watermarks.map(w => ({ topicId: id, ...w }))
      }
      const poisoned: BatchCommit = {
        entities: p.poison === 'entity'
          ? insertAt(good.entities, p.at, { ...row(id, p.poisonEntity, undefined), state: null as unknown as Buffer })
          : good.entities,
        outbox: p.poison === 'outbox'
          ? insertAt(good.outbox, p.at, { ...outRecord('x', 9), topic: null as unknown as string })
          : good.outbox,
        offsets: p.poison === 'offset'
          ? insertAt(good.offsets, p.at, { topic: 'poison', partition: 0, nextOffset: Number.NaN } satisfies OffsetWrite)
          : good.offsets,
        watermarks: p.poison === 'watermark'
          ? insertAt(good.watermarks, p.at, { topicId: id, dc: null as unknown as string, partition: 0, ts: T + 100 })
          : good.watermarks
      }
      assert.throws(() => store.commit(poisoned))
      assert.deepEqual(snapshot(db, store, id, names), before)

      store.commit(good)
      const after = store.offsets()
      for (const o of good.offsets) assert.equal(after.get(`${o.topic}:${o.partition}`), o.nextOffset)
      assert.equal(store.pendingCount(), 1 + good.outbox.length)
      assert.deepEqual(sortedMarks(store.watermarks(id)), raised(base, p.watermarks))
      for (const e of p.entities) {
        assert.equal(decodeSiblingState(store.getEntity(id, e)!.state).siblings[0]?.value?.toString(), `new-${e}`)
        // dc2's delete wins the tie on ts by its DC id: the entity is deleted at T.
        assert.deepEqual(resolvedOf(store.getEntity(id, e)), { origin: { ts: T, counter: 0, dc: 'dc2', eventId: 'x' }, value: null })
        assert.equal(deletedTimes(db).find(r => r.entity === e)?.deleted_ts, T)
      }
      store.close()
    }), { numRuns: 100 })
  })

  test('pending returns each batch\'s output whole, oldest first, in pages after a seq, and acknowledge forgets up to a seq', () => {
    const store = new SqliteStateStore(memory())
    const batches = [[1, 2], [3], [], [4, 5, 6]]
    for (const b of batches) store.commit({ ...noBatch, outbox: b.map(n => outRecord(`t${n % 2}`, n, n === 5 ? null : `v${n}`)) })
    const all = store.pending(0, 100)
    assert.deepEqual(all.map(p => p.records.map(r => r.headers.n?.toString())), [['1', '2'], ['3'], ['4', '5', '6']], 'a batch without output has no row')
    assert.equal(store.pendingCount(), 6)
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.seq > all[i - 1]!.seq)
    assert.deepEqual(all[2]!.records[0], { ...outRecord('t0', 4), headers: { n: Buffer.from('4'), bin: Buffer.from([4, 0]) } })
    assert.equal(all[2]!.records[1]!.value, null)
    assert.equal(all[2]!.records[0]!.key, null)

    assert.deepEqual(store.pending(all[0]!.seq, 1), all.slice(1, 2))
    assert.deepEqual(store.pending(all[2]!.seq, 10), [])

    store.acknowledge(all[0]!.seq)
    assert.deepEqual(store.pending(0, 100), all.slice(1))
    store.acknowledge(all[0]!.seq)
    assert.deepEqual(store.pending(0, 100), all.slice(1), 'acknowledging again changes nothing')
    assert.equal(store.pendingCount(), 4)
    store.commit({ ...noBatch, outbox: [outRecord('t1', 7)] })
    const later = store.pending(0, 100)
    assert.deepEqual(later.slice(0, 2), all.slice(1))
    assert.ok(later[2]!.seq > all[2]!.seq, 'output committed while other output waits comes after it')
    store.acknowledge(later[2]!.seq)
    assert.deepEqual(store.pending(0, 100), [])
    assert.equal(store.pendingCount(), 0)
    store.close()
  })

  test('getEntity returns the home partition and the state committed, and the latest state after an update; the delete time follows', () => {
    const db = memory()
    const store = new SqliteStateStore(db)
    const id = store.topicId('orders', 'siblings')
    assert.equal(store.getEntity(id, 'order-1'), undefined)
    const older = version('dc1', 'e1', 'v1')
    const newer: Version = { stamp: { ts: T + 5, counter: 2, dc: 'dc2', eventId: 'e2' }, value: null }
    const first = entityWrite(id, 'order-1', [older], 1)
    store.commit({ ...noBatch, entities: [first] })
    assert.deepEqual(store.getEntity(id, 'order-1'), { partition: 1, state: first.state })
    assert.deepEqual(decodeSiblingState(store.getEntity(id, 'order-1')!.state), { siblings: [older], tombstone: undefined })
    assert.deepEqual(resolvedOf(store.getEntity(id, 'order-1')), { origin: older.stamp, value: 'v1' })
    assert.deepEqual(deletedTimes(db), [{ topic_id: id, entity: 'order-1', deleted_ts: null }])

    // A delete has no value but its stamp is kept, as the tombstone, so the engine can compare against it.
    store.commit({ ...noBatch, entities: [entityWrite(id, 'order-1', [older, newer], 1)] })
    assert.deepEqual(decodeSiblingState(store.getEntity(id, 'order-1')!.state), { siblings: [older, newer], tombstone: newer.stamp })
    assert.deepEqual(resolvedOf(store.getEntity(id, 'order-1')), { origin: { ts: T + 5, counter: 2, dc: 'dc2', eventId: 'e2' }, value: null })
    assert.deepEqual(deletedTimes(db), [{ topic_id: id, entity: 'order-1', deleted_ts: T + 5 }])

    // A newer write revives it; the home partition stays where the first version arrived.
    const revived = version('dc1', 'e3', 'v3', T + 6)
    store.commit({ ...noBatch, entities: [entityWrite(id, 'order-1', [revived, newer], 4)] })
    assert.equal(store.getEntity(id, 'order-1')?.partition, 1)
    assert.deepEqual(resolvedOf(store.getEntity(id, 'order-1')), { origin: revived.stamp, value: 'v3' })
    assert.deepEqual(decodeSiblingState(store.getEntity(id, 'order-1')!.state).tombstone, newer.stamp, 'the tombstone outlives the revival')
    assert.deepEqual(deletedTimes(db), [{ topic_id: id, entity: 'order-1', deleted_ts: null }])
    store.close()
  })

  test('entities lists every entity of a topic with its home partition and state, and none of another topic', () => {
    const store = new SqliteStateStore(memory())
    const orders = store.topicId('orders', 'siblings')
    const payments = store.topicId('payments', 'siblings')
    assert.deepEqual(store.entities(orders), new Map())
    const writes = [
      entityWrite(orders, 'o1', [version('dc1', 'e1', 'a')], 0),
      entityWrite(orders, 'ö2', [version('dc1', 'e2', 'b'), version('dc2', 'e3', null)], 3),
      entityWrite(payments, 'o1', [version('dc2', 'e4', 'c')], 1)
    ]
    store.commit({ ...noBatch, entities: writes })
    assert.deepEqual(byKey(store.entities(orders)), [['o1', { partition: 0, state: writes[0]!.state }], ['ö2', { partition: 3, state: writes[1]!.state }]])
    assert.deepEqual([...store.entities(payments)], [['o1', { partition: 1, state: writes[2]!.state }]])
    assert.deepEqual(store.entities(orders + payments + 1), new Map(), 'a topic id never assigned has no entities')
    store.close()
  })

  test('a store on disk keeps its topics, entities, delete times, watermarks, outbox and offsets across close and reopen', () => {
    const dir = tempDir()
    const firstDb = onDisk(dir)
    const first = new SqliteStateStore(firstDb)
    const id = first.topicId('orders', 'siblings')
    const other = first.topicId('payments', 'siblings')
    const siblings = [version('dc1', 'e1', 'v1'), { stamp: { ts: T + 1, counter: 3, dc: 'dc2', eventId: 'é' }, value: null }]
    first.commit({
      entities: [entityWrite(id, 'order-1', siblings, 2), entityWrite(other, 'p', [version('dc1', 'e', '')])],
      outbox: [outRecord('orders.merged', 1), outRecord('orders.dlq', 2, null)],
      offsets: [{ topic: 'orders', partition: 2, nextOffset: 42 }, { topic: 'dc2.orders', partition: 0, nextOffset: 7 }],
      watermarks: [{ topicId: id, dc: 'dc1', partition: 2, ts: T }, { topicId: id, dc: 'dc2', partition: 2, ts: T + 1 }, { topicId: other, dc: 'dc1', partition: 0, ts: T }]
    })
    const before = { orders: snapshot(firstDb, first, id, ['order-1']), payments: snapshot(firstDb, first, other, ['p']) }
    first.close()
    assert.ok(existsSync(join(dir, 'concord.db')))

    const db = onDisk(dir)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    const second = new SqliteStateStore(db)
    assert.equal(second.topicId('orders', 'siblings'), id)
    assert.equal(second.topicId('payments', 'siblings'), other)
    assert.deepEqual({ orders: snapshot(db, second, id, ['order-1']), payments: snapshot(db, second, other, ['p']) }, before)
    assert.equal(second.getEntity(id, 'order-1')?.partition, 2)
    assert.deepEqual(resolvedOf(second.getEntity(id, 'order-1')), { origin: { dc: 'dc2', ts: T + 1, counter: 3, eventId: 'é' }, value: null })
    assert.deepEqual(resolvedOf(second.getEntity(other, 'p')), { origin: { dc: 'dc1', ts: T, counter: 0, eventId: 'e' }, value: '' })
    assert.deepEqual(sortedMarks(second.watermarks(id)), [{ dc: 'dc1', partition: 2, ts: T }, { dc: 'dc2', partition: 2, ts: T + 1 }])
    second.close()
  })
})

/** A refusal of `topic`'s layout change: a StoreError naming the topic, the layout it has and the one asked for. */
const layoutRefusal = (topic: string, held: string, asked: string) => (err: unknown): boolean =>
  err instanceof StoreError && err.code === 'CONCORD_ERR_STORE' &&
  err.message.includes(`topic "${topic}"`) && err.message.includes(`"${held}" layout`) && err.message.includes(`as "${asked}"`)

describe('SqliteStateStore topics and their state layout', () => {
  test('topicId assigns an id on first use, one per name, and returns it again for the same name and layout', () => {
    const db = memory()
    const store = new SqliteStateStore(db)
    const orders = store.topicId('orders', 'siblings')
    const payments = store.topicId('payments', 'fields')
    assert.notEqual(orders, payments)
    assert.equal(store.topicId('orders', 'siblings'), orders)
    assert.equal(store.topicId('payments', 'fields'), payments)
    assert.equal(layoutOf(db, 'orders'), 'siblings')
    assert.equal(layoutOf(db, 'payments'), 'fields')
    assert.equal(db.prepare('SELECT count(*) FROM topics').pluck().get(), 2)
    store.close()
  })

  test('topicId refuses another layout while the topic has entities, naming the topic and both layouts, and changes nothing', () => {
    const db = memory()
    const store = new SqliteStateStore(db)
    const orders = store.topicId('orders', 'siblings')
    const payments = store.topicId('payments', 'siblings')
    store.commit({ ...noBatch, entities: [entityWrite(orders, 'o1', [version('dc1', 'e1', 'v')])] })
    assert.throws(() => store.topicId('orders', 'fields'), layoutRefusal('orders', 'siblings', 'fields'))
    assert.equal(layoutOf(db, 'orders'), 'siblings')
    assert.throws(() => store.topicId('orders', 'fields'), layoutRefusal('orders', 'siblings', 'fields'), 'refused again: the refusal did not switch it')
    assert.equal(store.topicId('orders', 'siblings'), orders)
    // A deleted entity not purged yet is state too.
    store.commit({ ...noBatch, entities: [row(payments, 'p1', T)] })
    assert.throws(() => store.topicId('payments', 'custom'), layoutRefusal('payments', 'siblings', 'custom'))
    store.close()
  })

  test('topicId accepts another layout for a topic with no entities (none yet, or all purged), and keeps the new one', () => {
    const db = memory()
    const store = new SqliteStateStore(db)
    const orders = store.topicId('orders', 'siblings')
    const other = store.topicId('other', 'siblings')
    store.commit({ ...noBatch, entities: [row(other, 'x', undefined)] })
    assert.equal(store.topicId('orders', 'fields'), orders, 'another topic\'s entities do not count')
    assert.equal(layoutOf(db, 'orders'), 'fields')
    store.commit({ ...noBatch, entities: [row(orders, 'o1', T)] })
    assert.throws(() => store.topicId('orders', 'siblings'), layoutRefusal('orders', 'fields', 'siblings'))
    assert.equal(store.purgeDeleted(orders, T + 1, 10), 1)
    assert.equal(store.topicId('orders', 'siblings'), orders)
    assert.equal(layoutOf(db, 'orders'), 'siblings')
    assert.equal(layoutOf(db, 'other'), 'siblings')
    store.close()
  })
})

describe('SqliteStateStore watermarks', () => {
  test('watermarks commit with their batch, per topic, DC and partition, and a lower ts never lowers one', () => {
    const store = new SqliteStateStore(memory())
    const orders = store.topicId('orders', 'siblings')
    const payments = store.topicId('payments', 'siblings')
    assert.deepEqual(store.watermarks(orders), [])
    store.commit({ ...noBatch, watermarks: [{ topicId: orders, dc: 'dc1', partition: 0, ts: T }, { topicId: orders, dc: 'dc2', partition: 0, ts: T + 3 }, { topicId: orders, dc: 'dc1', partition: 1, ts: T + 1 }] })
    assert.deepEqual(sortedMarks(store.watermarks(orders)), [{ dc: 'dc1', partition: 0, ts: T }, { dc: 'dc1', partition: 1, ts: T + 1 }, { dc: 'dc2', partition: 0, ts: T + 3 }])
    assert.deepEqual(store.watermarks(payments), [])
    store.commit({
      ...noBatch,
      watermarks: [{ topicId: orders, dc: 'dc1', partition: 0, ts: T - 100 }, { topicId: orders, dc: 'dc2', partition: 0, ts: T + 10 },
        { topicId: orders, dc: 'dc1', partition: 1, ts: T + 1 }, { topicId: payments, dc: 'dc1', partition: 0, ts: T - 7 }]
    })
    assert.deepEqual(sortedMarks(store.watermarks(orders)), [{ dc: 'dc1', partition: 0, ts: T }, { dc: 'dc1', partition: 1, ts: T + 1 }, { dc: 'dc2', partition: 0, ts: T + 10 }])
    assert.deepEqual(store.watermarks(payments), [{ dc: 'dc1', partition: 0, ts: T - 7 }])
    store.close()
  })

  test('a watermark is the greatest ts ever committed for it, whatever the order and grouping of the batches', () => {
    fc.assert(fc.property(fc.array(fc.array(watermarkArb, { maxLength: 4 }), { maxLength: 5 }), batches => {
      const store = new SqliteStateStore(memory())
      const id = store.topicId('orders', 'siblings')
      let expected: Watermark[] = []
      for (const marks of batches) {
        store.commit({ ...noBatch, watermarks: marks.map(m => ({ topicId: id, ...m })) })
        expected = raised(expected, marks)
        assert.deepEqual(sortedMarks(store.watermarks(id)), expected)
      }
      store.close()
    }), { numRuns: 100 })
  })

  test('watermarks roll back with their batch: a failing batch or a throwing atomically block leaves them as they were', () => {
    const store = new SqliteStateStore(memory())
    const id = store.topicId('orders', 'siblings')
    store.commit({ ...noBatch, watermarks: [{ topicId: id, dc: 'dc1', partition: 0, ts: T }] })
    const raise = [{ topicId: id, dc: 'dc1', partition: 0, ts: T + 50 }, { topicId: id, dc: 'dc2', partition: 0, ts: T + 50 }]
    assert.throws(() => store.commit({ ...noBatch, watermarks: raise, offsets: [{ topic: 'orders', partition: 0, nextOffset: Number.NaN }] }))
    assert.deepEqual(store.watermarks(id), [{ dc: 'dc1', partition: 0, ts: T }])
    assert.throws(() => store.atomically(() => {
      store.commit({ ...noBatch, watermarks: raise })
      assert.equal(store.watermarks(id).length, 2, 'visible inside the transaction')
      throw new Error('the batch failed after its commit')
    }), /the batch failed after its commit/)
    assert.deepEqual(store.watermarks(id), [{ dc: 'dc1', partition: 0, ts: T }])
    store.close()
  })
})

describe('SqliteStateStore purgeDeleted', () => {
  const purgeArb = fc.record({
    rows: fc.uniqueArray(fc.record({
      topic: fc.constantFrom('orders', 'payments'),
      entity: fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'),
      deletedTs: fc.option(fc.integer({ min: T - 2, max: T + 2 }), { nil: undefined })
    }), { selector: r => `${r.topic}/${r.entity}`, maxLength: 12 }),
    beforeTs: fc.integer({ min: T - 3, max: T + 3 }),
    limit: fc.nat({ max: 6 })
  })

  test('deletes only entities of that topic deleted before the bound, at most limit of them, and returns how many', () => {
    fc.assert(fc.property(purgeArb, ({ rows, beforeTs, limit }) => {
      const store = new SqliteStateStore(memory())
      const ids = { orders: store.topicId('orders', 'siblings'), payments: store.topicId('payments', 'siblings') }
      store.commit({ ...noBatch, entities: rows.map(r => row(ids[r.topic], r.entity, r.deletedTs)) })
      const ofTopic = (topic: 'orders' | 'payments'): string[] => rows.filter(r => r.topic === topic).map(r => r.entity).sort()
      const due: string[] = rows.filter(r => r.topic === 'orders' && r.deletedTs !== undefined && r.deletedTs < beforeTs).map(r => r.entity)

      const purged = store.purgeDeleted(ids.orders, beforeTs, limit)
      assert.equal(purged, Math.min(limit, due.length))
      const left = [...store.entities(ids.orders).keys()].sort()
      const gone = ofTopic('orders').filter(e => !left.includes(e))
      assert.equal(gone.length, purged)
      for (const e of gone) assert.ok(due.includes(e), `${e} was purged but not due`)
      assert.deepEqual([...store.entities(ids.payments).keys()].sort(), ofTopic('payments'), 'another topic is untouched')
      assert.equal(store.purgeDeleted(ids.orders, beforeTs, 100), due.length - purged, 'a second pass takes the rest')
      store.close()
    }), { numRuns: 200 })
  })

  test('never purges a live entity, nor one deleted at the bound itself', () => {
    const store = new SqliteStateStore(memory())
    const id = store.topicId('orders', 'siblings')
    store.commit({ ...noBatch, entities: [row(id, 'live', undefined), row(id, 'at-bound', T), row(id, 'before', T - 1)] })
    assert.equal(store.purgeDeleted(id, T, 0), 0, 'limit 0 purges nothing')
    assert.equal(store.purgeDeleted(id, T, 10), 1)
    assert.deepEqual([...store.entities(id).keys()].sort(), ['at-bound', 'live'])
    assert.equal(store.purgeDeleted(id, Number.MAX_SAFE_INTEGER, 10), 1)
    assert.deepEqual([...store.entities(id).keys()], ['live'])
    store.close()
  })
})
