/**
 * The state query and the digests `concord verify` compares. Two DCs, each an engine on its own store,
 * consume the same writes in different orders and batch splits: their digests must be equal, and equal to
 * what an oracle computes from the set of writes by the format written down in src/query/digest.ts. A DC that
 * missed a write must differ in that entity's bucket, and only there.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { policies } from '../../src/merge/index.ts'
import type { InRecord } from '../../src/model/record.ts'
import { compareStamps, compareUtf8, type Stamp } from '../../src/model/stamp.ts'
import { Engine } from '../../src/processor/engine.ts'
import { planTopics } from '../../src/processor/plan.ts'
import { bucketOf } from '../../src/query/digest.ts'
import { StateQuery, type StateQueryOptions } from '../../src/query/state-query.ts'
import { H } from '../../src/wire/contract.ts'
import { memoryStore } from '../processor/rig.ts'

const T = 1_700_000_000_000
const DCS = ['dc1', 'dc2'] as const
type Dc = typeof DCS[number]
const MODULES: ReadonlyMap<string, unknown> = new Map([['./config/policies/tags.js', await import(new URL('../../config/policies/tags.js', import.meta.url).href)]])

interface W { readonly entity: string, readonly stamp: Stamp, readonly value: unknown }

const recordOf = (w: W, offset: number): InRecord => ({
  offset: String(offset),
  timestamp: String(T),
  key: Buffer.from(`${w.entity}-${w.stamp.dc}`),
  value: w.value === null ? null : codecs.msgpack.encode(w.value),
  headers: { [H.originDc]: w.stamp.dc, [H.originTs]: `${w.stamp.ts}:${w.stamp.counter}`, [H.eventId]: w.stamp.eventId }
})

/** One DC's store after consuming `writes` in this order, in batches of `size`: its own on `orders`, its peer's on `<peer>.orders`. */
function dcAfter (dc: Dc, policy: unknown, writes: readonly W[], size: number, options: StateQueryOptions = { pageSize: 3 }): { query: StateQuery, states: Map<string, Buffer> } {
  const peer = dc === 'dc1' ? 'dc2' : 'dc1'
  const config = validateConfig({ dc, peers: [peer], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy, codec: 'msgpack' }] }, { policies })
  const store = memoryStore()
  const plans = planTopics(config, (name, format) => store.topicId(name, format), MODULES)
  const engine = new Engine(store, plans)
  const offsets = new Map<string, number>()
  for (let i = 0; i < writes.length; i += size) {
    const byTopic = new Map<string, InRecord[]>()
    for (const w of writes.slice(i, i + size)) {
      const topic = w.stamp.dc === dc ? 'orders' : `${w.stamp.dc}.orders`
      const offset = offsets.get(topic) ?? 0
      offsets.set(topic, offset + 1)
      byTopic.set(topic, [...byTopic.get(topic) ?? [], recordOf(w, offset)])
    }
    for (const [topic, records] of byTopic) engine.process({ topic, partition: 0, records })
  }
  const id = plans.topics[0]!.id
  const states = new Map(store.entityPage(id, undefined, 1_000_000).map(e => [e.entity, e.state]))
  return { query: new StateQuery(plans.topics, store, options), states }
}

const stampArb = (dc: Dc): fc.Arbitrary<Stamp> => fc.record({
  ts: fc.integer({ min: T, max: T + 3 }), counter: fc.integer({ min: 0, max: 1 }), dc: fc.constant(dc), eventId: fc.uuid()
})
const writeArb = (value: fc.Arbitrary<unknown>): fc.Arbitrary<W> => fc.constantFrom(...DCS).chain(dc => fc.record({
  entity: fc.constantFrom('a', 'b', 'c', 'é', 'o-\u{1D400}', 'o-\uFF21', 'x y'),
  stamp: stampArb(dc),
  value: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: value })
}))
/** The writes, and each DC's delivery order and batch size. Each DC sees its own writes in their order (one log per DC). */
const historyArb = (value: fc.Arbitrary<unknown>) => fc.array(writeArb(value), { minLength: 1, maxLength: 25 }).chain(writes => fc.record({
  writes: fc.constant(writes),
  orders: fc.tuple(fc.shuffledSubarray(writes, { minLength: writes.length }), fc.shuffledSubarray(writes, { minLength: writes.length })),
  sizes: fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }))
}))

/** The order a DC's own writes have in its log: the order they were made (here, the generated order). */
const keepLogOrder = (writes: readonly W[], order: readonly W[]): W[] => {
  // Writes of one DC reach every DC in the order of that DC's log; only the interleaving of DCs differs.
  const byDc = new Map(DCS.map(dc => [dc, writes.filter(w => w.stamp.dc === dc)]))
  return order.map(w => byDc.get(w.stamp.dc as Dc)!.shift()!)
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')
const arr = (s: Stamp): unknown[] => [s.dc, s.ts, s.counter, s.eventId]

/** The oracle for lww: per entity the write with the greatest stamp; absent when it is a delete. Digests by the documented format. */
function lwwOracle (writes: readonly W[]): { entities: number, digest: string, buckets: string[] } {
  const winner = new Map<string, W>()
  for (const w of writes) {
    const held = winner.get(w.entity)
    if (held === undefined || compareStamps(w.stamp, held.stamp) > 0) winner.set(w.entity, w)
  }
  const live = [...winner.values()].filter(w => w.value !== null).sort((a, b) => compareUtf8(a.entity, b.entity))
  const lines: string[][] = Array.from({ length: 256 }, () => [])
  for (const w of live) {
    const bucket = createHash('sha256').update(w.entity, 'utf8').digest()[0]!
    const entityDigest = sha(JSON.stringify([w.entity, codecs.msgpack.encode(w.value).toString('base64'), arr(w.stamp), [arr(w.stamp)], null]))
    lines[bucket]!.push(`${JSON.stringify(w.entity)} ${entityDigest}\n`)
  }
  const buckets = lines.map(l => sha(l.join('')))
  return { entities: live.length, digest: sha(buckets.map(b => `${b}\n`).join('')), buckets }
}

const found = <T>(l: { found: true, value: T } | { found: false, reason: string }): T => {
  if (!l.found) assert.fail(l.reason)
  return l.value
}

describe('digests', () => {
  test('lww: two DCs fed the same writes in different orders digest alike, and as the oracle computes', async () => {
    await fc.assert(fc.asyncProperty(historyArb(fc.record({ n: fc.integer({ min: 0, max: 3 }) })), async h => {
      const [a, b] = DCS.map((dc, i) => dcAfter(dc, 'lww', keepLogOrder(h.writes, h.orders[i]!), h.sizes[i]!))
      const da = found(await a!.query.digest('orders'))
      const db = found(await b!.query.digest('orders'))
      assert.deepEqual({ entities: da.entities, digest: da.digest, buckets: da.buckets }, lwwOracle(h.writes))
      assert.deepEqual(db, da)
    }), { numRuns: 150 })
  })

  for (const [name, policy, value] of [
    ['counter', { type: 'counter', field: 'qty' }, fc.record({ qty: fc.integer({ min: -3, max: 3 }) })],
    ['union', { type: 'union', field: 'tags' }, fc.record({ tags: fc.array(fc.constantFrom('r', 'g', 'b'), { maxLength: 3 }) })],
    ['lww-fields', 'lww-fields', fc.dictionary(fc.constantFrom('p', 'q'), fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 })))],
    ['max', { type: 'max', field: 'qty' }, fc.record({ qty: fc.integer({ min: 0, max: 3 }) })],
    ['custom (tags.js)', { type: 'custom', module: './config/policies/tags.js' }, fc.record({ tags: fc.array(fc.constantFrom('r', 'g'), { maxLength: 2 }) })]
  ] as const) {
    test(`${name}: two DCs fed the same writes in different orders digest alike`, async () => {
      await fc.assert(fc.asyncProperty(historyArb(value as fc.Arbitrary<unknown>), async h => {
        const [a, b] = DCS.map((dc, i) => dcAfter(dc, policy, keepLogOrder(h.writes, h.orders[i]!), h.sizes[i]!))
        assert.deepEqual(found(await b!.query.digest('orders')), found(await a!.query.digest('orders')))
      }), { numRuns: 60 })
    })
  }

  test('the digest reads the resolution, not the stored bytes: states in another sibling order digest alike', async () => {
    const w1: W = { entity: 'o-1', stamp: { ts: T, counter: 0, dc: 'dc1', eventId: 'e1' }, value: { n: 1 } }
    const w2: W = { entity: 'o-1', stamp: { ts: T + 1, counter: 0, dc: 'dc2', eventId: 'e2' }, value: { n: 2 } }
    const a = dcAfter('dc1', 'lww', [w1, w2], 1)
    const b = dcAfter('dc2', 'lww', [w2, w1], 1)
    assert.notDeepEqual(a.states.get('o-1'), b.states.get('o-1'), 'the stored states differ in bytes')
    assert.deepEqual(found(await a.query.digest('orders')), found(await b.query.digest('orders')))
  })

  test('a DC that missed a write differs in that entity\'s bucket only, and the bucket\'s entity digests name it', async () => {
    const writes: W[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((entity, i) => ({ entity, stamp: { ts: T + i, counter: 0, dc: 'dc1', eventId: `e${i}` }, value: { n: i } }))
    const late: W = { entity: 'c', stamp: { ts: T + 10, counter: 0, dc: 'dc2', eventId: 'late' }, value: { n: 99 } }
    const a = dcAfter('dc1', 'lww', [...writes, late], 2)
    const b = dcAfter('dc2', 'lww', writes, 4)
    const da = found(await a.query.digest('orders'))
    const db = found(await b.query.digest('orders'))
    assert.notEqual(da.digest, db.digest)
    const differing = da.buckets.flatMap((d, i) => d === db.buckets[i] ? [] : [i])
    assert.deepEqual(differing, [bucketOf('c')])
    const ea = found(await a.query.entityDigests('orders', differing))
    const eb = found(await b.query.entityDigests('orders', differing))
    const ids = (e: typeof ea): string[] => e.entities.map(([id]) => id)
    assert.ok(ids(ea).includes('c') && ids(eb).includes('c'))
    const digestOf = (e: typeof ea, id: string): string | undefined => e.entities.find(([x]) => x === id)?.[1]
    assert.notEqual(digestOf(ea, 'c'), digestOf(eb, 'c'))
    for (const id of ids(ea).filter(x => x !== 'c')) assert.equal(digestOf(ea, id), digestOf(eb, id))
    assert.equal(found(a.query.entity('orders', 'c')).digest, digestOf(ea, 'c'), 'the state view shows the same digest')
  })

  test('a scan pauses between pages, and an unknown topic is named with the configured ones', async () => {
    const writes: W[] = Array.from({ length: 7 }, (_, i) => ({ entity: `e${i}`, stamp: { ts: T, counter: 0, dc: 'dc1', eventId: `e${i}` }, value: { n: i } }))
    let pauses = 0
    const dc = dcAfter('dc1', 'lww', writes, 7, { pageSize: 3, pause: async () => { pauses++ } })
    assert.equal(found(await dc.query.digest('orders')).entities, 7)
    assert.equal(pauses, 2, 'pages of 3, 3 and 1')
    assert.deepEqual(await dc.query.digest('nope'), { found: false, reason: 'no topic "nope" is configured (topics: orders)' })
    assert.deepEqual(dc.query.entity('nope', 'e1'), { found: false, reason: 'no topic "nope" is configured (topics: orders)' })
  })
})

describe('scans in a snapshot', () => {
  test('a reader that offers snapshots reads each scan in one, ended after the last page or a failure', async () => {
    const events: string[] = []
    const lww = policies.get('lww')!.bind({}, { dcs: ['dc1'], deleteRule: 'lww', conflictWindowMs: 0, codec: codecs.raw, path: 'p', modules: new Map() })
    const state = lww.encodeState({ siblings: [{ stamp: { ts: T, counter: 0, dc: 'dc1', eventId: 'e' }, value: Buffer.from('v') }], tombstone: undefined })
    let broken = false
    const reader = {
      topic: () => ({ id: 1, stateFormat: 'siblings' }),
      getEntity: () => undefined,
      entityPage: (_id: number, after: string | undefined) => {
        events.push(`page after ${after ?? '-'}`)
        if (broken && after !== undefined) throw new Error('disk gone')
        return after === undefined ? [{ entity: 'a', partition: 0, state }, { entity: 'b', partition: 0, state }] : []
      },
      snapshot: () => { events.push('begin'); return () => { events.push('end') } }
    }
    const query = new StateQuery([{ config: { name: 'orders', codec: 'raw' }, id: 1, merger: lww }], reader, { pageSize: 2, pause: async () => { events.push('pause') } })
    assert.equal(found(await query.digest('orders')).entities, 2)
    assert.deepEqual(events, ['begin', 'page after -', 'pause', 'page after b', 'end'])
    events.length = 0
    broken = true
    await assert.rejects(query.digest('orders'), /disk gone/)
    assert.deepEqual(events, ['begin', 'page after -', 'pause', 'page after b', 'end'])
  })
})

describe('the state view', () => {
  test('shows the merged value as JSON, its provenance, the per-DC state, and the digest', () => {
    const w1: W = { entity: 'o-1', stamp: { ts: T, counter: 0, dc: 'dc1', eventId: 'e1' }, value: { n: 1 } }
    const w2: W = { entity: 'o-1', stamp: { ts: T + 5, counter: 2, dc: 'dc2', eventId: 'e2' }, value: { n: 2 } }
    const view = found(dcAfter('dc1', 'lww', [w1, w2], 2).query.entity('orders', 'o-1'))
    const s2 = { dc: 'dc2', ts: T + 5, counter: 2, eventId: 'e2' }
    assert.deepEqual({ ...view, digest: typeof view.digest }, {
      topic: 'orders',
      entity: 'o-1',
      policy: 'lww',
      codec: 'msgpack',
      partition: 0,
      deleted: false,
      value: { encoding: 'json', value: { n: 2 } },
      origin: s2,
      sources: [s2],
      tombstone: null,
      digest: 'string',
      state: {
        layout: 'siblings',
        tombstone: null,
        versions: [
          { stamp: { dc: 'dc1', ts: T, counter: 0, eventId: 'e1' }, deleted: false, live: true, value: { encoding: 'json', value: { n: 1 } } },
          { stamp: s2, deleted: false, live: true, value: { encoding: 'json', value: { n: 2 } } }
        ]
      }
    })
  })

  test('a deleted entity: no value, its tombstone, no digest; an unknown entity is not found', () => {
    const w1: W = { entity: 'o-1', stamp: { ts: T, counter: 0, dc: 'dc1', eventId: 'e1' }, value: { n: 1 } }
    const d: W = { entity: 'o-1', stamp: { ts: T + 1, counter: 0, dc: 'dc2', eventId: 'd1' }, value: null }
    const { query } = dcAfter('dc1', 'lww', [w1, d], 2)
    const view = found(query.entity('orders', 'o-1'))
    assert.equal(view.deleted, true)
    assert.equal(view.value, null)
    assert.equal(view.digest, null)
    assert.deepEqual(view.tombstone, { dc: 'dc2', ts: T + 1, counter: 0, eventId: 'd1' })
    assert.deepEqual(query.entity('orders', 'o-2'), { found: false, reason: 'topic "orders" has no entity "o-2"' })
  })
})
