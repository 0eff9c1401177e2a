/**
 * The engine's policy-independent features: value validation (no poison value is ever merged), the conflict
 * feed, too-late writes and garbage collection of deleted entities. Expected results are written out here,
 * never computed with concord's own code.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { policies } from '../../src/merge/index.ts'
import type { InRecord } from '../../src/model/record.ts'
import { Engine, type BatchResult } from '../../src/processor/engine.ts'
import { planTopics, type TopicPlan } from '../../src/processor/plan.ts'
import type { OutboxRecord } from '../../src/store/state-store.ts'
import { DLQ, H } from '../../src/wire/contract.ts'
import { memoryStore } from './rig.ts'

const T = 1_700_000_000_000

interface Rig {
  readonly engine: Engine
  readonly store: ReturnType<typeof memoryStore>
  readonly plan: TopicPlan
  readonly next: Map<string, number>
}

function rig (dc: 'dc1' | 'dc2', topic: Record<string, unknown> = {}): Rig {
  const config = validateConfig({
    dc, peers: [dc === 'dc1' ? 'dc2' : 'dc1'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy: 'lww', ...topic }]
  }, { policies })
  const store = memoryStore()
  const plans = planTopics(config, (name, format) => store.topicId(name, format))
  const plan = plans.topics[0]!
  plan.inputPartitions = 1
  return { engine: new Engine(store, plans), store, plan, next: new Map() }
}

const write = (entity: string, dc: string, ts: number, eventId: string, value: Buffer | null): Omit<InRecord, 'offset'> => ({
  timestamp: String(ts),
  key: Buffer.from(`${entity}-${dc}`),
  value,
  headers: { [H.originDc]: dc, [H.originTs]: String(ts), [H.eventId]: eventId }
})

/** The input topic a write of `dc` arrives on at the rig's DC. */
const inputOf = (r: Rig, dc: string): string => dc === r.plan.inputs[0]!.sourceDc ? 'orders' : `${dc}.orders`

function feed (r: Rig, records: ReadonlyArray<Omit<InRecord, 'offset'>>): BatchResult {
  const topic = inputOf(r, String(records[0]!.headers[H.originDc]))
  let offset = r.next.get(topic) ?? 0
  const numbered = records.map(rec => ({ ...rec, offset: String(offset++) }))
  r.next.set(topic, offset)
  return r.engine.process({ topic, partition: 0, records: numbered })
}

const out = (r: Rig, topic: string): OutboxRecord[] => r.store.pending(0, 100_000).flatMap(b => b.records).filter(o => o.topic === topic)
const doc = (o: Record<string, unknown>): Buffer => encodeMsgpack(o)

describe('Engine: no poison value is ever merged', () => {
  test('a value that is not msgpack is dead-lettered with the reason, even with a newer timestamp, and the good value stays merged', () => {
    const r = rig('dc1')
    feed(r, [write('order-1', 'dc1', T, 'e1', doc({ status: 'paid' }))])
    const result = feed(r, [write('order-1', 'dc1', T + 5, 'e2', Buffer.from([0xc1, 0xc1]))])
    assert.equal(result.counts.dead_lettered, 1)
    assert.equal(result.emitted, 0)
    const [dlq] = out(r, 'orders.dlq')
    assert.match(String(dlq!.headers[DLQ.message]), /^value is not valid msgpack: /)
    assert.deepEqual(dlq!.value, Buffer.from([0xc1, 0xc1]))
    const merged = out(r, 'orders.merged')
    assert.equal(merged.length, 1)
    assert.deepEqual(merged[0]!.value, doc({ status: 'paid' }))
  })

  test('json values are parsed, raw values are never checked, and validateValues: false lets anything through', () => {
    const json = rig('dc1', { codec: 'json' })
    assert.equal(feed(json, [write('a', 'dc1', T, 'e1', Buffer.from('{"ok":'))]).counts.dead_lettered, 1)
    assert.equal(feed(json, [write('b', 'dc1', T, 'e2', Buffer.from('{"ok":true}'))]).counts.applied, 1)
    assert.equal(feed(rig('dc1', { codec: 'raw' }), [write('a', 'dc1', T, 'e1', Buffer.from([0xc1]))]).counts.applied, 1)
    assert.equal(feed(rig('dc1', { validateValues: false }), [write('a', 'dc1', T, 'e1', Buffer.from([0xc1]))]).counts.applied, 1)
  })
})

describe('Engine: provenance of built values', () => {
  test('a write that leaves a sum unchanged is still emitted as one of its sources, so both DCs end on the same record', () => {
    const a = write('stock-1', 'dc1', T, 'e1', doc({ qty: 5 }))
    const b = write('stock-1', 'dc2', T + 1, 'e2', doc({ qty: 0 }))
    const ends = (['dc1', 'dc2'] as const).map(dc => {
      const r = rig(dc, { policy: { type: 'counter', field: 'qty' } })
      for (const w of dc === 'dc1' ? [a, b] : [b, a]) feed(r, [w])
      const last = out(r, 'orders.merged').at(-1)!
      assert.equal(last.headers[H.originDc], undefined, 'a sum has no single origin')
      return { value: last.value, sources: JSON.parse(String(last.headers[H.mergedSources])) }
    })
    const expected = { value: doc({ qty: 5 }), sources: [{ dc: 'dc1', ts: String(T), eventId: 'e1' }, { dc: 'dc2', ts: String(T + 1), eventId: 'e2' }] }
    assert.deepEqual(ends, [expected, expected])
  })
})

describe('Engine: the conflict feed', () => {
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
  const a = write('order-1', 'dc1', T, 'e1', doc({ status: 'paid' }))
  const b = write('order-1', 'dc2', T + 3_000, 'e2', doc({ status: 'cancelled' }))

  test('two live writes of different DCs within the window give one conflict record, the same bytes in both DCs whatever the order', () => {
    const dc1 = rig('dc1')
    feed(dc1, [a])
    assert.equal(feed(dc1, [b]).conflicts, 1)
    const dc2 = rig('dc2')
    feed(dc2, [b])
    assert.equal(feed(dc2, [a]).conflicts, 1)
    const [c1] = out(dc1, 'orders.conflicts')
    const [c2] = out(dc2, 'orders.conflicts')
    assert.equal(String(c1!.key), 'order-1')
    assert.deepEqual(JSON.parse(String(c1!.value)), {
      topic: 'orders',
      entity: 'order-1',
      policy: 'lww',
      winner: { dc: 'dc2', ts: T + 3_000, counter: 0, eventId: 'e2', sha256: sha(doc({ status: 'cancelled' })) },
      loser: { dc: 'dc1', ts: T, counter: 0, eventId: 'e1', sha256: sha(doc({ status: 'paid' })) }
    })
    assert.deepEqual(c2!.value, c1!.value)
    assert.equal(String(c1!.headers[H.mergedBy]), 'dc1')
    assert.equal(String(c2!.headers[H.mergedBy]), 'dc2')
  })

  test('writes further apart than the window, of the same DC, or redelivered, give none; conflictValues: value carries the bytes', () => {
    const far = rig('dc1', { conflictWindowMs: 3_000 })
    feed(far, [a])
    assert.equal(feed(far, [b]).conflicts, 0, '3,000 ms apart is not within a 3,000 ms window')
    const same = rig('dc1')
    feed(same, [a])
    assert.equal(feed(same, [write('order-1', 'dc1', T + 1, 'e3', doc({ status: 'x' }))]).conflicts, 0)
    const bytes = rig('dc1', { conflictValues: 'value' })
    feed(bytes, [a])
    feed(bytes, [b])
    assert.equal(feed(bytes, [b]).conflicts, 0, 'a duplicate changes nothing')
    const body = JSON.parse(String(out(bytes, 'orders.conflicts')[0]!.value))
    assert.equal(body.winner.value, doc({ status: 'cancelled' }).toString('base64'))
    assert.equal(body.loser.value, doc({ status: 'paid' }).toString('base64'))
  })

  test('a delete is no live write: it is in no conflict', () => {
    const r = rig('dc1')
    feed(r, [a])
    assert.equal(feed(r, [write('order-1', 'dc2', T + 1, 'd1', null)]).conflicts, 0)
  })
})

describe('Engine: too-late writes and garbage collection', () => {
  const grace = 60_000

  test('a write more than gcGraceMs behind an earlier write of its DC on its partition is dead-lettered as too late', () => {
    const r = rig('dc1', { gcGraceMs: grace })
    feed(r, [write('a', 'dc1', T + grace + 1, 'e1', doc({}))])
    const result = feed(r, [write('b', 'dc1', T, 'e2', doc({})), write('c', 'dc1', T + 1, 'e3', doc({}))])
    assert.equal(result.counts.too_late, 1, 'T is more than the grace behind; T + 1 is exactly the grace behind')
    assert.equal(result.counts.applied, 1)
    assert.match(String(out(r, 'orders.dlq')[0]!.headers[DLQ.message]), /more than gcGraceMs \(60000 ms\) behind an earlier write of dc1 on partition 0/)
    assert.equal(feed(r, [write('d', 'dc2', T, 'e4', doc({}))]).counts.applied, 1, 'another DC has its own watermark')
  })

  test('a deleted entity is purged once every DC\'s watermark is gcGraceMs past its delete, not before, and a later write starts it anew', () => {
    const r = rig('dc1', { gcGraceMs: grace })
    feed(r, [write('gone', 'dc1', T, 'e1', doc({ v: 1 }))])
    feed(r, [write('gone', 'dc2', T + 1, 'd1', null)])
    assert.equal(feed(r, [write('other', 'dc1', T + grace + 10, 'e2', doc({}))]).purged, 0, 'dc2\'s watermark is still at the delete')
    assert.ok(r.store.getEntity(r.plan.id, 'gone') !== undefined)
    assert.equal(feed(r, [write('other', 'dc2', T + grace + 1, 'e3', doc({}))]).purged, 0, 'exactly the grace past the delete is not past it')
    assert.equal(feed(r, [write('other', 'dc2', T + grace + 2, 'e4', doc({}))]).purged, 1)
    assert.equal(r.store.getEntity(r.plan.id, 'gone'), undefined)
    assert.equal(out(r, 'orders.merged').filter(o => String(o.key) === 'gone').at(-1)!.value, null, 'the changelog ends on a Kafka tombstone')
    const revived = feed(r, [write('gone', 'dc1', T + grace + 20, 'e5', doc({ v: 2 }))])
    assert.equal(revived.emitted, 1)
    assert.deepEqual(out(r, 'orders.merged').at(-1)!.value, doc({ v: 2 }))
  })

  test('under delete-wins the purge also waits for the conflict window', () => {
    const r = rig('dc1', { gcGraceMs: grace, deleteRule: 'delete-wins', conflictWindowMs: 1_000 })
    feed(r, [write('gone', 'dc1', T, 'd1', null)])
    feed(r, [write('x', 'dc2', T + grace + 500, 'e1', doc({}))])
    assert.equal(feed(r, [write('x', 'dc1', T + grace + 600, 'e2', doc({}))]).purged, 0)
    assert.equal(feed(r, [write('x', 'dc2', T + grace + 1_001, 'e3', doc({}))]).purged, 0)
    assert.equal(feed(r, [write('x', 'dc1', T + grace + 1_001, 'e4', doc({}))]).purged, 1)
  })

  test('watermarks survive a restart of the engine on the same store', () => {
    const r = rig('dc1', { gcGraceMs: grace })
    feed(r, [write('a', 'dc1', T + grace + 1, 'e1', doc({}))])
    const again = new Engine(r.store, { localDc: 'dc1', dcs: new Set(['dc1', 'dc2']), topics: [r.plan], inputs: new Map(r.plan.inputs.map(i => [i.topic, i])) })
    const result = again.process({ topic: 'orders', partition: 0, records: [{ ...write('b', 'dc1', T, 'e2', doc({})), offset: '1' }] })
    assert.equal(result.counts.too_late, 1)
  })
})
