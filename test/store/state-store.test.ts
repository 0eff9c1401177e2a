/**
 * The state store: schema migrations, the two blob codecs, the atomic batch commit and the outbox queue.
 * In-memory stores where the disk does not matter; temp directories where it does (removed at the end).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { StoreError } from '../../src/errors.ts'
import type { HeaderValue, RecordHeaders } from '../../src/model/record.ts'
import type { Version } from '../../src/model/version.ts'
import { decodeHeaders, encodeHeaders } from '../../src/store/headers-codec.ts'
import { decodeOutbox, encodeOutbox } from '../../src/store/outbox-codec.ts'
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate.ts'
import { openDatabase } from '../../src/store/open.ts'
import { decodeSiblings, encodeSiblings } from '../../src/store/siblings-codec.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import type { StateStore, BatchCommit, EntityWrite, OffsetWrite, OutboxRecord } from '../../src/store/state-store.ts'

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
    assert.deepEqual(applied(db)[0], { version: 1, name: '001-initial.sql' })
    for (const table of ['entities', 'offsets', 'outbox', 'topics']) assert.ok(tables(db).includes(table), table)
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

  test('applies a new migration in its own transaction, and one that fails leaves no trace', () => {
    const dir = migrationsCopy()
    const db = memory()
    writeFileSync(join(dir, '002-extra.sql'), 'CREATE TABLE extra (x INTEGER);\n')
    assert.equal(migrate(db, dir), 1)
    assert.equal(migrate(db, dir), 0)
    writeFileSync(join(dir, '003-broken.sql'), 'CREATE TABLE broken (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n')
    assert.throws(() => migrate(db, dir), /no such table: nowhere/)
    assert.deepEqual(applied(db).map(m => m.version), [1, 2])
    assert.ok(tables(db).includes('extra'))
    assert.ok(!tables(db).includes('broken'), 'the failed migration\'s first statement was rolled back')
    db.close()
  })

  test('refuses a store whose schema has a version this code does not know (migrated by a newer concord)', () => {
    const newer = migrationsCopy()
    writeFileSync(join(newer, '002-from-the-future.sql'), 'CREATE TABLE future (x INTEGER);\n')
    const dir = tempDir()
    const db = onDisk(dir)
    assert.equal(migrate(db, newer), 1)
    assert.throws(() => migrate(db), isStoreError(/schema versions 2 are unknown here/))
    db.close()
    assert.throws(() => onDisk(dir), isStoreError(/schema versions 2 are unknown here/))
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
// Blob codecs.

const bufferArb = fc.uint8Array({ maxLength: 40 }).map(a => Buffer.from(a))

/** Any version the codec can hold: full-range ts and counter, unicode DC and event id, deletes and empty values. */
const versionArb: fc.Arbitrary<Version> = fc.record({
  stamp: fc.record({
    ts: fc.maxSafeNat(),
    counter: fc.maxSafeNat(),
    dc: fc.string({ unit: 'binary', maxLength: 16 }),
    eventId: fc.string({ unit: 'binary', maxLength: 64 })
  }, { noNullPrototype: true }),
  value: fc.option(bufferArb, { nil: null, freq: 3 })
}, { noNullPrototype: true })

const version = (dc: string, eventId: string, value: string | null): Version =>
  ({ stamp: { ts: T, counter: 0, dc, eventId }, value: value === null ? null : Buffer.from(value) })

describe('siblings codec', () => {
  test('decodes what it encodes: any versions, deletes, empty values, unicode DC ids and event ids', () => {
    fc.assert(fc.property(fc.array(versionArb, { maxLength: 8 }), siblings => {
      assert.deepEqual(decodeSiblings(encodeSiblings(siblings)), siblings)
    }), { numRuns: 300 })
  })

  test('keeps a delete apart from an empty value', () => {
    const decoded = decodeSiblings(encodeSiblings([version('dc1', 'a', null), version('dc2', 'b', '')]))
    assert.equal(decoded[0]?.value, null)
    assert.deepEqual(decoded[1]?.value, Buffer.alloc(0))
  })

  test('throws rather than write a corrupt blob when a count or length outgrows its field', () => {
    assert.throws(() => encodeSiblings(Array.from({ length: 256 }, (_, i) => version('dc1', `e${i}`, 'v'))), RangeError)
    assert.throws(() => encodeSiblings([version('d'.repeat(256), 'e', 'v')]), RangeError)
    assert.throws(() => encodeSiblings([version('dc1', 'é'.repeat(32_768), 'v')]), RangeError)
    assert.equal(decodeSiblings(encodeSiblings(Array.from({ length: 255 }, (_, i) => version('dc1', `e${i}`, null)))).length, 255)
  })
})

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

function entityWrite (topicId: number, entity: string, siblings: readonly Version[], partition = 0): EntityWrite {
  const merged = siblings.reduce((a, b) => (b.stamp.ts > a.stamp.ts ? b : a))
  return { topicId, entity, partition, siblings, merged }
}

function outRecord (topic: string, n: number, value: string | null = `v${n}`): OutboxRecord {
  return { topic, partition: n % 3, key: n % 4 === 0 ? null : Buffer.from(`k${n}`), value: value === null ? null : Buffer.from(value), headers: { n: String(n), bin: Buffer.from([n & 0xff, 0]) } }
}

/** Everything a reader of the store can see. */
function snapshot (store: StateStore, topicId: number, entities: readonly string[]): unknown {
  return {
    merged: [...store.mergedStamps(topicId)].sort(([a], [b]) => a < b ? -1 : 1),
    siblings: entities.map(e => store.getEntity(topicId, e)),
    outbox: store.pending(0, 1_000_000),
    offsets: [...store.offsets()].sort(([a], [b]) => a < b ? -1 : 1)
  }
}

const ENTITY_POOL = ['a', 'b', 'kept', 'z']

/** A batch that can be committed, plus one poisoned statement placed anywhere in it. */
const poisonedArb = fc.record({
  entities: fc.uniqueArray(fc.constantFrom(...ENTITY_POOL), { maxLength: 4 }),
  outbox: fc.integer({ min: 0, max: 4 }),
  offsets: fc.uniqueArray(fc.record({ topic: fc.constantFrom('orders', 'dc2.orders'), partition: fc.nat({ max: 2 }), nextOffset: fc.nat({ max: 1000 }) }),
    { selector: o => `${o.topic}:${o.partition}`, maxLength: 3 }),
  poison: fc.constantFrom('entity', 'outbox', 'offset'),
  /** Where the poison goes: entities are written sorted by name, so the name decides (first, middle, last). */
  poisonEntity: fc.constantFrom('0-first', 'c-middle', '~-last'),
  at: fc.nat()
})

function insertAt<X> (list: readonly X[], at: number, x: X): X[] {
  const i = at % (list.length + 1)
  return [...list.slice(0, i), x, ...list.slice(i)]
}

describe('SqliteStateStore', () => {
  test('commit is atomic: when any statement of a batch fails, none of the batch is visible and the next batch commits', () => {
    fc.assert(fc.property(poisonedArb, p => {
      const store = new SqliteStateStore(memory())
      const id = store.topicId('orders')
      store.commit({
        entities: [entityWrite(id, 'kept', [version('dc1', 'e0', 'old')])],
        outbox: [outRecord('orders.merged', 0)],
        offsets: [{ topic: 'orders', partition: 0, nextOffset: 5 }]
      })
      const names = [...ENTITY_POOL, p.poisonEntity]
      const before = snapshot(store, id, names)

      const good: BatchCommit = {
        entities: p.entities.map((e, i) => entityWrite(id, e, [version('dc1', `e${i + 1}`, `new-${e}`), version('dc2', 'x', null)])),
        outbox: Array.from({ length: p.outbox }, (_, i) => outRecord(i % 2 === 0 ? 'orders.merged' : 'orders.dlq', i + 1)),
        offsets: p.offsets
      }
      const poisoned: BatchCommit = {
        entities: p.poison === 'entity'
          ? insertAt(good.entities, p.at, entityWrite(id, p.poisonEntity, Array.from({ length: 256 }, (_, i) => version('dc1', `e${i}`, 'v'))))
          : good.entities,
        outbox: p.poison === 'outbox'
          ? insertAt(good.outbox, p.at, { ...outRecord('x', 9), topic: null as unknown as string })
          : good.outbox,
        offsets: p.poison === 'offset'
          ? insertAt(good.offsets, p.at, { topic: 'poison', partition: 0, nextOffset: Number.NaN } satisfies OffsetWrite)
          : good.offsets
      }
      assert.throws(() => store.commit(poisoned))
      assert.deepEqual(snapshot(store, id, names), before)

      store.commit(good)
      const after = store.offsets()
      for (const o of good.offsets) assert.equal(after.get(`${o.topic}:${o.partition}`), o.nextOffset)
      assert.equal(store.pendingCount(), 1 + good.outbox.length)
      for (const e of p.entities) assert.equal(store.getEntity(id, e)?.siblings[0]?.value?.toString(), `new-${e}`)
      store.close()
    }), { numRuns: 100 })
  })

  test('pending returns each batch\'s output whole, oldest first, in pages after a seq, and acknowledge forgets up to a seq', () => {
    const store = new SqliteStateStore(memory())
    const batches = [[1, 2], [3], [], [4, 5, 6]]
    for (const b of batches) store.commit({ entities: [], outbox: b.map(n => outRecord(`t${n % 2}`, n, n === 5 ? null : `v${n}`)), offsets: [] })
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
    store.commit({ entities: [], outbox: [outRecord('t1', 7)], offsets: [] })
    const later = store.pending(0, 100)
    assert.deepEqual(later.slice(0, 2), all.slice(1))
    assert.ok(later[2]!.seq > all[2]!.seq, 'output committed while other output waits comes after it')
    store.acknowledge(later[2]!.seq)
    assert.deepEqual(store.pending(0, 100), [])
    assert.equal(store.pendingCount(), 0)
    store.close()
  })

  test('getEntity returns the merged stamp committed with the siblings, and the latest one after an update', () => {
    const store = new SqliteStateStore(memory())
    const id = store.topicId('orders')
    assert.equal(store.getEntity(id, 'order-1'), undefined)
    const older = version('dc1', 'e1', 'v1')
    const newer: Version = { stamp: { ts: T + 5, counter: 2, dc: 'dc2', eventId: 'e2' }, value: null }
    store.commit({ entities: [entityWrite(id, 'order-1', [older], 1)], outbox: [], offsets: [] })
    assert.deepEqual(store.getEntity(id, 'order-1'), { partition: 1, siblings: [older], merged: older.stamp })
    // A delete has no value but its stamp is kept like any other, so the engine can compare against it.
    store.commit({ entities: [entityWrite(id, 'order-1', [older, newer], 1)], outbox: [], offsets: [] })
    assert.deepEqual(store.getEntity(id, 'order-1')?.merged, { ts: T + 5, counter: 2, dc: 'dc2', eventId: 'e2' })
    store.close()
  })

  test('a store on disk keeps its topics, entities, outbox and offsets across close and reopen', () => {
    const dir = tempDir()
    const first = new SqliteStateStore(onDisk(dir))
    const id = first.topicId('orders')
    const other = first.topicId('payments')
    const siblings = [version('dc1', 'e1', 'v1'), { stamp: { ts: T + 1, counter: 3, dc: 'dc2', eventId: 'é' }, value: null }]
    first.commit({
      entities: [entityWrite(id, 'order-1', siblings, 2), entityWrite(other, 'p', [version('dc1', 'e', '')])],
      outbox: [outRecord('orders.merged', 1), outRecord('orders.dlq', 2, null)],
      offsets: [{ topic: 'orders', partition: 2, nextOffset: 42 }, { topic: 'dc2.orders', partition: 0, nextOffset: 7 }]
    })
    const before = { orders: snapshot(first, id, ['order-1']), payments: snapshot(first, other, ['p']) }
    first.close()
    assert.ok(existsSync(join(dir, 'concord.db')))

    const db = onDisk(dir)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    const second = new SqliteStateStore(db)
    assert.equal(second.topicId('orders'), id)
    assert.equal(second.topicId('payments'), other)
    assert.deepEqual({ orders: snapshot(second, id, ['order-1']), payments: snapshot(second, other, ['p']) }, before)
    assert.equal(second.getEntity(id, 'order-1')?.partition, 2)
    assert.deepEqual(second.mergedStamps(id).get('order-1'), { dc: 'dc2', ts: T + 1, counter: 3, eventId: 'é', deleted: true })
    second.close()
  })
})
