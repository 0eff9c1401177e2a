/**
 * The batch engine without Kafka: records in, one store transaction out. Each test builds a processor for one
 * DC on an in-memory store and reads the results back from the store (outbox, merged stamps, offsets), so what
 * is checked is what the outbox flusher would send and what a restart would resume from.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { policies } from '../../src/merge/index.ts'
import { validateConfig } from '../../src/config/validate.ts'
import type { InRecord, RecordHeaders } from '../../src/model/record.ts'
import { DLQ, MAX_EVENT_ID_BYTES } from '../../src/wire/contract.ts'
import { Engine, type BatchResult, type RecordOutcome } from '../../src/processor/engine.ts'
import { planTopics, type TopicPlan } from '../../src/processor/plan.ts'
import { resolvedEntities } from './rig.ts'
import type { SiblingState } from '../../src/merge/sibling-state.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import type { StateStore } from '../../src/store/state-store.ts'
import { batches } from './batches.ts'

const T = 1_700_000_000_000
type Dc = 'dc1' | 'dc2'
const PEER: Readonly<Record<Dc, Dc>> = { dc1: 'dc2', dc2: 'dc1' }

/** A record before it is given an offset. */
type Raw = Omit<InRecord, 'offset'>

interface Rig {
  readonly dc: Dc
  readonly store: StateStore
  readonly engine: Engine
  readonly plan: TopicPlan
  readonly topicId: number
  /** Next offset to hand out per "topic:partition". */
  readonly next: Map<string, number>
}

/** A processor for `dc` consuming `orders` and its peer's `<peer>.orders`; `topic` overrides topic settings. */
function rig (dc: Dc, topic: Record<string, unknown> = {}): Rig {
  const config = validateConfig({
    dc,
    peers: [PEER[dc]],
    kafka: { brokers: ['127.0.0.1:19092'] },
    topics: [{ name: 'orders', policy: 'lww', codec: 'raw', ...topic }]
  }, { policies })
  // validateConfig resolves store.dir to an absolute path (':memory:' would become <cwd>/:memory:), so the
  // throwaway store is opened directly.
  const store = new SqliteStateStore(openDatabase({ dir: ':memory:', synchronous: 'normal', cacheMb: 16 }))
  const plans = planTopics(config, (name, format) => store.topicId(name, format))
  return { dc, store, engine: new Engine(store, plans), plan: plans.topics[0]!, topicId: plans.topics[0]!.id, next: new Map() }
}

/** Processes one batch, numbering its records from where the previous batch of that topic-partition ended. */
function feed (r: Rig, topic: string, raws: readonly Raw[], partition = 0): BatchResult {
  const at = `${topic}:${partition}`
  let offset = r.next.get(at) ?? 0
  const records = raws.map(raw => ({ ...raw, offset: String(offset++) }))
  r.next.set(at, offset)
  return r.engine.process({ topic, partition, records })
}

const bytes = (v: string | Buffer | null): Buffer | null => typeof v === 'string' ? Buffer.from(v) : v

/** A record as the wire contract has it: key `<entity>-<dc>`, x-origin-dc, x-origin-ts, x-event-id. */
function write (entity: string, dc: string, ts: number | string, eventId: string, value: string | Buffer | null): Raw {
  return {
    timestamp: String(T),
    key: Buffer.from(`${entity}-${dc}`),
    value: bytes(value),
    headers: { 'x-origin-dc': dc, 'x-origin-ts': String(ts), 'x-event-id': eventId }
  }
}

/** A record with exactly the given parts. */
function raw (key: string | Buffer | null, value: string | Buffer | null, headers: RecordHeaders, timestamp = String(T)): Raw {
  return { timestamp, key: bytes(key), value: bytes(value), headers }
}

interface Out {
  readonly topic: string
  readonly partition: number
  readonly key: string | null
  readonly value: Buffer | null
  readonly headers: Record<string, string | string[]>
}

const text = (v: string | Buffer): string => typeof v === 'string' ? v : v.toString('utf8')

/** The outbox in seq order, keys and header values as UTF-8 strings. */
function outbox (r: Rig): Out[] {
  const batches = r.store.pending(0, 100_000)
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.seq > batches[i - 1]!.seq, 'outbox out of seq order')
  return batches.flatMap(b => b.records).map(o => ({
    topic: o.topic,
    partition: o.partition,
    key: o.key === null ? null : o.key.toString('utf8'),
    value: o.value,
    headers: Object.fromEntries(Object.entries(o.headers).map(([k, v]) =>
      [k, Array.isArray(v) ? v.map(text) : text(v as string | Buffer)]))
  }))
}

const merged = (r: Rig): Out[] => outbox(r).filter(o => o.topic === 'orders.merged')
const deadLetters = (r: Rig): Out[] => outbox(r).filter(o => o.topic === 'orders.dlq')

/** The merged record the engine should emit for a winner. */
function mergedOut (entity: string, dc: string, ts: string, eventId: string, value: string | Buffer | null, by: Dc, partition = 0): Out {
  return {
    topic: 'orders.merged',
    partition,
    key: entity,
    value: bytes(value),
    headers: { 'x-origin-dc': dc, 'x-origin-ts': ts, 'x-event-id': eventId, 'x-merged-by': by }
  }
}

function counts (some: Partial<Record<RecordOutcome, number>>): Record<RecordOutcome, number> {
  return { applied: 0, stale: 0, duplicate: 0, loop: 0, dead_lettered: 0, too_late: 0, ...some }
}

/** The siblings the store holds for one entity (lww keeps the sibling state). */
function siblingsOf (r: Rig, entity: string): SiblingState['siblings'] {
  const row = r.store.getEntity(r.topicId, entity)
  return row === undefined ? [] : (r.plan.merger.decodeState(row.state) as SiblingState).siblings
}

/** The merged stamp of one entity, as the policy resolves the stored state, as a plain object. */
function stampOf (r: Rig, entity: string): { dc: string, ts: number, counter: number, eventId: string, deleted: boolean } | undefined {
  const resolved = resolvedEntities(r.store, r.plan).get(entity)
  const s = resolved?.origin
  return s === undefined ? undefined : { dc: s.dc, ts: s.ts, counter: s.counter, eventId: s.eventId, deleted: resolved!.value === null }
}

describe('Engine: the wire contract', () => {
  test('a valid write is applied and emits one merged record keyed by entity id, with the value bytes unchanged and the winner\'s headers', () => {
    const r = rig('dc1')
    const value = Buffer.from([0x00, 0xff, 0x80, 0xc3, 0x28, 0x7b])
    const result = feed(r, 'orders', [raw(Buffer.from('order-7-dc1'), value, {
      'x-origin-dc': Buffer.from('dc1'),
      'x-origin-ts': Buffer.from(`${T}:2`),
      'x-event-id': Buffer.from('ev-1'),
      traceparent: Buffer.from('00-abc-01')
    })])
    const { latency, ahead, maxAheadMs, ...rest } = result
    assert.deepEqual(rest, {
      topic: 'orders', counts: counts({ applied: 1 }), emitted: 1, deadLetters: 0, conflicts: 0, purged: 0, partitionMismatches: 0
    })
    assert.equal(latency.count, 1, 'one applied record observed')
    assert.equal(ahead.count, 1, 'one valid record\'s skew observed')
    assert.ok(maxAheadMs < 0, 'a write from the past is behind the clock')
    assert.deepEqual(outbox(r), [mergedOut('order-7', 'dc1', `${T}:2`, 'ev-1', value, 'dc1')])
    assert.deepEqual(stampOf(r, 'order-7'), { dc: 'dc1', ts: T, counter: 2, eventId: 'ev-1', deleted: false })
  })

  test('a newer write from the other DC wins and emits the new winner', () => {
    const r = rig('dc1')
    feed(r, 'orders', [write('order-1', 'dc1', T, 'e1', 'v1')])
    const result = feed(r, 'dc2.orders', [write('order-1', 'dc2', T + 1, 'e2', 'v2')])
    assert.deepEqual(result.counts, counts({ applied: 1 }))
    assert.equal(result.emitted, 1)
    assert.deepEqual(merged(r), [
      mergedOut('order-1', 'dc1', String(T), 'e1', 'v1', 'dc1'),
      mergedOut('order-1', 'dc2', String(T + 1), 'e2', 'v2', 'dc1')
    ])
  })

  test('an older write of the same DC arriving late counts stale and emits nothing', () => {
    const r = rig('dc1')
    feed(r, 'orders', [write('order-1', 'dc1', T + 5, 'e2', 'new')])
    const before = outbox(r)
    const result = feed(r, 'orders', [write('order-1', 'dc1', T, 'e1', 'old')])
    assert.deepEqual(result.counts, counts({ stale: 1 }))
    assert.equal(result.emitted, 0)
    assert.deepEqual(outbox(r), before)
    assert.deepEqual(stampOf(r, 'order-1'), { dc: 'dc1', ts: T + 5, counter: 0, eventId: 'e2', deleted: false })
  })

  test('an older write of the other DC is kept as its sibling but emits nothing', () => {
    const r = rig('dc1', { conflictWindowMs: 0 })
    feed(r, 'orders', [write('order-1', 'dc1', T + 5, 'e2', 'new')])
    const before = outbox(r)
    const result = feed(r, 'dc2.orders', [write('order-1', 'dc2', T, 'e1', 'old')])
    assert.deepEqual(result.counts, counts({ applied: 1 }))
    assert.equal(result.emitted, 0)
    assert.deepEqual(outbox(r), before)
    assert.deepEqual(siblingsOf(r, 'order-1').map(s => s.stamp.dc).sort(), ['dc1', 'dc2'])
  })

  test('a redelivered record counts duplicate and emits nothing, in a later batch or in the same one', () => {
    const r = rig('dc1')
    const w = write('order-1', 'dc1', T, 'e1', 'v1')
    feed(r, 'orders', [w])
    const before = outbox(r)
    assert.deepEqual(feed(r, 'orders', [w]).counts, counts({ duplicate: 1 }))
    assert.deepEqual(feed(r, 'orders', [w, w]).counts, counts({ duplicate: 2 }))
    assert.deepEqual(outbox(r), before)

    const fresh = rig('dc1')
    const result = feed(fresh, 'dc2.orders', [write('order-2', 'dc2', T, 'e1', 'v'), write('order-2', 'dc2', T, 'e1', 'v')])
    assert.deepEqual(result.counts, counts({ applied: 1, duplicate: 1 }))
    assert.equal(merged(fresh).length, 1)
  })

  test('a tombstone newer than the write emits a merged record with a null value', () => {
    const r = rig('dc1')
    feed(r, 'orders', [write('order-1', 'dc1', T, 'e1', 'v1')])
    const result = feed(r, 'dc2.orders', [write('order-1', 'dc2', T + 1, 'del', null)])
    assert.deepEqual(result.counts, counts({ applied: 1 }))
    assert.deepEqual(merged(r).at(-1), mergedOut('order-1', 'dc2', String(T + 1), 'del', null, 'dc1'))
    assert.equal(stampOf(r, 'order-1')?.deleted, true)
  })

  test('a tombstone older than the write changes nothing that is visible', () => {
    const r = rig('dc1')
    feed(r, 'orders', [write('order-1', 'dc1', T + 5, 'e2', 'v')])
    const before = outbox(r)
    // Applied, as the greatest delete (the tombstone) hides older versions of every DC; the write is newer.
    assert.deepEqual(feed(r, 'orders', [write('order-1', 'dc1', T, 'e1', null)]).counts, counts({ applied: 1 }))
    assert.equal(feed(r, 'dc2.orders', [write('order-1', 'dc2', T + 4, 'e3', null)]).emitted, 0)
    assert.deepEqual(outbox(r), before)
    assert.deepEqual(stampOf(r, 'order-1'), { dc: 'dc1', ts: T + 5, counter: 0, eventId: 'e2', deleted: false })
  })

  test('a newer write after a delete revives the entity', () => {
    const r = rig('dc1')
    feed(r, 'orders', [write('order-1', 'dc1', T, 'e1', 'v1')])
    feed(r, 'dc2.orders', [write('order-1', 'dc2', T + 1, 'e2', null)])
    const result = feed(r, 'orders', [write('order-1', 'dc1', T + 2, 'e3', 'v3')])
    assert.equal(result.emitted, 1)
    assert.deepEqual(merged(r).map(o => o.value?.toString() ?? null), ['v1', null, 'v3'])
    assert.equal(stampOf(r, 'order-1')?.deleted, false)
  })

  test('equal timestamps are decided by counter, then DC, then event id, whatever the arrival order', () => {
    /** [loser, winner] pairs that differ from the previous level of the order only where they must. */
    const cases: Array<[string, [Dc, string, string], [Dc, string, string]]> = [
      ['counter beats DC', ['dc2', `${T}:1`, 'z'], ['dc1', `${T}:2`, 'a']],
      ['DC beats event id', ['dc1', `${T}:3`, 'z'], ['dc2', `${T}:3`, 'a']],
      ['event id decides last', ['dc1', `${T}:3`, 'e-a'], ['dc1', `${T}:3`, 'e-b']],
      ['no counter equals counter 0', ['dc1', `${T}:0`, 'e-a'], ['dc1', String(T), 'e-b']]
    ]
    for (const [name, loser, winner] of cases) {
      for (const [label, arrival] of [['loser first', [loser, winner]], ['winner first', [winner, loser]]] as const) {
        const r = rig('dc1')
        for (const [dc, ts, id] of arrival) feed(r, dc === 'dc1' ? 'orders' : 'dc2.orders', [write('x', dc, ts, id, `${dc}/${id}`)])
        assert.equal(merged(r).at(-1)?.value?.toString(), `${winner[0]}/${winner[2]}`, `${name}, ${label}`)
        assert.equal(stampOf(r, 'x')?.eventId, winner[2], `${name}, ${label}`)
      }
    }
  })

  test('a record on the remote topic dc2.orders written by the local DC dc1 counts loop and emits nothing', () => {
    const r = rig('dc1')
    const withHeader = write('order-1', 'dc1', T, 'e1', 'v')
    const keyOnly = raw('order-2-dc1', 'v', { 'x-origin-ts': String(T) })
    const result = feed(r, 'dc2.orders', [withHeader, keyOnly])
    assert.deepEqual(result.counts, counts({ loop: 2 }))
    assert.equal(result.emitted, 0)
    assert.deepEqual(outbox(r), [])
    assert.equal(r.store.entities(r.topicId).size, 0)
    assert.equal(r.store.offsets().get('dc2.orders:0'), 2)
  })

  test('invalid records go to orders.dlq with their key, value and headers plus the error context, and the good records around them are applied', () => {
    const r = rig('dc1', { maxValueBytes: 16 })
    const ok = (entity: string): Raw => write(entity, 'dc1', T, `ev-${entity}`, 'fine')
    const ts = { 'x-origin-ts': String(T) }
    const bad: Array<[Raw, RegExp]> = [
      [raw(null, 'v', { ...ts, 'x-origin-dc': 'dc1' }), /no key/],
      [raw('justakey', 'v', ts), /no "-<dc>" suffix/],
      [raw('order-dc9', 'v', ts), /"dc9", which is not a configured DC/],
      [raw('order-dc1', 'v', { ...ts, 'x-origin-dc': 'dc2' }), /x-origin-dc "dc2" disagrees with the key's DC suffix "dc1"/],
      [raw('order-dc1', 'v', { ...ts, 'x-origin-dc': 'dc9' }), /x-origin-dc "dc9" is not a configured DC/],
      [raw('order-dc1', 'v', { 'x-event-id': 'e' }), /no x-origin-ts header/],
      [raw('order-dc1', 'v', { 'x-origin-ts': '12a' }), /"12a" is not <milliseconds>\[:<counter>\]/],
      [raw('order-dc1', 'v', { 'x-origin-ts': Buffer.from('-5') }), /"-5" is not <milliseconds>\[:<counter>\]/],
      [raw('order-dc1', 'seventeen bytes!!', ts), /17 bytes exceeds maxValueBytes \(16\)/],
      [raw('order-dc2', 'v', { ...ts, 'x-origin-dc': 'dc2', trace: Buffer.from([0xfe, 0x01]) }), /record on orders was written by dc2, but this topic carries only writes of dc1/]
    ]
    // Good records first, between the bad ones, and last.
    const records: Raw[] = [ok('a')]
    bad.forEach(([record], i) => { records.push(record); if (i === 4) records.push(ok('b')) })
    records.push(ok('c'))
    const partition = 3
    const result = feed(r, 'orders', records, partition)

    assert.deepEqual(result.counts, counts({ applied: 3, dead_lettered: bad.length }))
    assert.equal(result.deadLetters, bad.length)
    assert.equal(result.emitted, 3)
    assert.deepEqual(merged(r).map(o => o.key).sort(), ['a', 'b', 'c'])
    assert.equal(r.store.offsets().get(`orders:${partition}`), records.length)

    const letters = deadLetters(r)
    assert.equal(letters.length, bad.length)
    letters.forEach((letter, i) => {
      const [record, reason] = bad[i]!
      const offset = records.indexOf(record)
      const { [DLQ.message]: message, ...rest } = letter.headers
      assert.match(String(message), reason)
      const original = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]))
      assert.deepEqual({ ...letter, headers: rest }, {
        topic: 'orders.dlq',
        partition: 0,
        key: record.key === null ? null : record.key.toString('utf8'),
        value: record.value,
        headers: {
          ...original,
          [DLQ.topic]: 'orders',
          [DLQ.partition]: String(partition),
          [DLQ.offset]: String(offset),
          [DLQ.exceptionClass]: 'RecordError',
          [DLQ.stage]: 'parse',
          [DLQ.dc]: 'dc1'
        }
      })
    })
    // The one binary header survives byte for byte.
    const forged = r.store.pending(0, 1000).flatMap(b => b.records).find(o => o.topic === 'orders.dlq' && o.key?.toString() === 'order-dc2')
    assert.deepEqual(forged?.headers.trace, Buffer.from([0xfe, 0x01]))
  })

  test('a plain-key topic takes the writer DC from x-origin-dc and keeps the key whole as the entity id', () => {
    const r = rig('dc1', { keyFormat: 'plain' })
    const result = feed(r, 'dc2.orders', [
      raw('order-dc1', 'v', { 'x-origin-dc': 'dc2', 'x-origin-ts': String(T), 'x-event-id': 'e1' }),
      raw('order-2', 'v', { 'x-origin-ts': String(T) }),
      raw('order-3', 'v', { 'x-origin-dc': 'dc1', 'x-origin-ts': String(T) })
    ])
    assert.deepEqual(result.counts, counts({ applied: 1, dead_lettered: 1, loop: 1 }))
    assert.deepEqual(merged(r), [mergedOut('order-dc1', 'dc2', String(T), 'e1', 'v', 'dc1')])
    assert.match(String(deadLetters(r)[0]?.headers[DLQ.message]), /no writer DC/)
    const forged = feed(r, 'orders', [raw('order-4', 'v', { 'x-origin-dc': 'dc2', 'x-origin-ts': String(T) })])
    assert.deepEqual(forged.counts, counts({ dead_lettered: 1 }))
  })

  test('timestampSource value reads the timestamp field of a msgpack value, ignores x-origin-ts, and dead-letters undecodable values', () => {
    const r = rig('dc1', { timestampSource: 'value', codec: 'msgpack' })
    const later = { 'x-origin-ts': String(T + 100) }
    const result = feed(r, 'orders', [
      raw('a-dc1', encodeMsgpack({ timestamp: T + 5, item: 'x' }), later),
      raw('b-dc1', encodeMsgpack({ timestamp: `${T}:3` }), {}),
      raw('c-dc1', null, { 'x-origin-ts': String(T + 7) }),
      raw('d-dc1', Buffer.from([0xc1]), later),
      raw('e-dc1', encodeMsgpack(42), later),
      raw('f-dc1', encodeMsgpack({ other: 1 }), later),
      raw('g-dc1', encodeMsgpack({ timestamp: -1 }), later),
      raw('h-dc1', null, {})
    ])
    assert.deepEqual(result.counts, counts({ applied: 3, dead_lettered: 5 }))
    assert.deepEqual([stampOf(r, 'a')?.ts, stampOf(r, 'a')?.counter], [T + 5, 0])
    assert.deepEqual([stampOf(r, 'b')?.ts, stampOf(r, 'b')?.counter], [T, 3])
    assert.deepEqual([stampOf(r, 'c')?.ts, stampOf(r, 'c')?.deleted], [T + 7, true])
    assert.match(stampOf(r, 'a')?.eventId ?? '', /^sha1:[0-9a-f]{40}$/, 'without x-event-id a content hash stands in')
    assert.deepEqual(deadLetters(r).map(o => o.key), ['d-dc1', 'e-dc1', 'f-dc1', 'g-dc1', 'h-dc1'])
    assert.match(String(deadLetters(r)[0]?.headers[DLQ.message]), /not valid msgpack/)
    // The winner's time is the value's, so a header claiming a later time does not make an older value win.
    const stale = feed(r, 'orders', [raw('a-dc1', encodeMsgpack({ timestamp: T + 4 }), { 'x-origin-ts': String(T + 999) })])
    assert.deepEqual(stale.counts, counts({ stale: 1 }))
    assert.deepEqual(merged(r).find(o => o.key === 'a')?.headers['x-origin-ts'], String(T + 5))
  })

  test('timestampSource value reads the timestamp field of a JSON value and dead-letters invalid JSON', () => {
    const r = rig('dc1', { timestampSource: 'value', codec: 'json' })
    const result = feed(r, 'orders', [
      raw('a-dc1', `{"timestamp":${T + 5},"item":"x"}`, { 'x-origin-ts': String(T) }),
      raw('b-dc1', '{"timestamp":', {})
    ])
    assert.deepEqual(result.counts, counts({ applied: 1, dead_lettered: 1 }))
    assert.equal(stampOf(r, 'a')?.ts, T + 5)
    assert.equal(merged(r)[0]?.value?.toString(), `{"timestamp":${T + 5},"item":"x"}`)
    assert.match(String(deadLetters(r)[0]?.headers[DLQ.message]), /not valid json/)
  })

  test('timestampSource kafka takes the time from the record timestamp', () => {
    const r = rig('dc1', { timestampSource: 'kafka' })
    feed(r, 'orders', [raw('a-dc1', 'first', { 'x-origin-ts': String(T + 50), 'x-event-id': 'e1' }, String(T + 9))])
    assert.deepEqual(stampOf(r, 'a'), { dc: 'dc1', ts: T + 9, counter: 0, eventId: 'e1', deleted: false })
    const result = feed(r, 'dc2.orders', [raw('a-dc2', 'second', { 'x-origin-ts': String(T), 'x-event-id': 'e2' }, String(T + 10))])
    assert.deepEqual(result.counts, counts({ applied: 1 }))
    assert.deepEqual(merged(r).at(-1), mergedOut('a', 'dc2', String(T + 10), 'e2', 'second', 'dc1'))
  })

  test('offsets are committed as the last offset of the batch plus one, per topic-partition, whatever the records were', () => {
    const r = rig('dc1')
    const at = (offset: number, x: Raw): InRecord => ({ ...x, offset: String(offset) })
    r.engine.process({ topic: 'orders', partition: 2, records: [41, 42, 43].map(o => at(o, write(`e${o}`, 'dc1', T, 'i', 'v'))) })
    assert.equal(r.store.offsets().get('orders:2'), 44)
    // Only a dead letter and a loop: the offset still moves.
    r.engine.process({ topic: 'orders', partition: 2, records: [at(44, raw(null, 'v', {}))] })
    r.engine.process({ topic: 'dc2.orders', partition: 2, records: [at(7, write('x', 'dc1', T, 'i', 'v'))] })
    r.engine.process({ topic: 'orders', partition: 0, records: [] })
    assert.deepEqual(r.store.offsets(), new Map([['orders:2', 45], ['dc2.orders:2', 8]]))
  })

  test('several writes to one entity in a batch give one merged record, carrying the final winner', () => {
    const r = rig('dc1')
    const result = feed(r, 'orders', [
      write('order-1', 'dc1', T, 'e1', 'v1'),
      write('order-1', 'dc1', T + 2, 'e3', 'v3'),
      write('order-2', 'dc1', T, 'e4', 'w'),
      write('order-1', 'dc1', T + 1, 'e2', 'v2')
    ])
    assert.deepEqual(result.counts, counts({ applied: 3, stale: 1 }))
    assert.equal(result.emitted, 2)
    assert.deepEqual(merged(r), [
      mergedOut('order-1', 'dc1', String(T + 2), 'e3', 'v3', 'dc1'),
      mergedOut('order-2', 'dc1', String(T), 'e4', 'w', 'dc1')
    ])
  })

  test('an x-event-id of up to 1,024 UTF-8 bytes is accepted and a longer one is dead-lettered instead of failing the batch', () => {
    const r = rig('dc1')
    const atLimit = 'é'.repeat(MAX_EVENT_ID_BYTES / 2) // 2 bytes each in UTF-8: exactly the limit
    const over = 'x'.repeat(MAX_EVENT_ID_BYTES) + 'é' // one character past it, by bytes not characters
    const result = feed(r, 'orders', [write('a', 'dc1', T, atLimit, 'v'), write('b', 'dc1', T, over, 'v'), write('c', 'dc1', T, 'x'.repeat(70_000), 'v')])
    assert.deepEqual(result.counts, counts({ applied: 1, dead_lettered: 2 }))
    assert.equal(stampOf(r, 'a')?.eventId, atLimit)
    assert.match(String(deadLetters(r)[0]?.headers[DLQ.message]), /x-event-id of 1026 bytes exceeds 1024/)
    assert.equal(r.store.offsets().get('orders:0'), 3)
  })

  test('a batch from a topic the plan does not consume is refused before anything is written', () => {
    const r = rig('dc1')
    assert.throws(() => r.engine.process({ topic: 'dc1.orders', partition: 0, records: [] }), { name: 'InternalError', message: 'no plan for input topic dc1.orders' })
    assert.deepEqual(r.store.offsets(), new Map())
  })
})

// ---------------------------------------------------------------------------------------------------------
// Convergence of two processors.

interface GenWrite {
  readonly dc: Dc
  readonly entity: string
  readonly ts: number
  readonly counter: number
  readonly eventId: string
  readonly value: Buffer | null
  /** Wire variations that must not matter: `<ts>:0` for counter 0, no x-origin-dc header, Buffer headers. */
  readonly zeroCounter: boolean
  readonly dcHeader: boolean
  readonly bufferHeaders: boolean
}

/** One record delivered to one engine: `loop` marks a write of the engine's own DC on its peer's topic. */
interface Delivery { readonly w: GenWrite, readonly topic: string, readonly loop: boolean }

interface Scenario {
  readonly writes: readonly GenWrite[]
  readonly deliveries: Readonly<Record<Dc, readonly Delivery[]>>
  readonly batchSizes: Readonly<Record<Dc, readonly number[]>>
}

const ENTITIES = ['a', 'order-7', 'é']

const rawWriteArb = fc.record({
  dc: fc.constantFrom<Dc>('dc1', 'dc2'),
  entity: fc.constantFrom(...ENTITIES),
  ts: fc.constantFrom(T, T + 1, T + 2),
  counter: fc.constantFrom(0, 1),
  deleted: fc.integer({ min: 0, max: 4 }).map(n => n === 0),
  zeroCounter: fc.boolean(),
  dcHeader: fc.integer({ min: 0, max: 4 }).map(n => n !== 0),
  bufferHeaders: fc.boolean()
})

/** 1 to 14 writes with unique event ids drawn from a tiny alphabet, so equal stamps up to the event id occur. */
const writesArb: fc.Arbitrary<GenWrite[]> = fc.array(rawWriteArb, { minLength: 1, maxLength: 14 }).chain(raws =>
  fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', 'é'), minLength: 1, maxLength: 4 }),
    { minLength: raws.length, maxLength: raws.length })
    .map(ids => raws.map(({ deleted, ...w }, i): GenWrite => {
      const eventId = ids[i]!
      return { ...w, eventId, value: deleted ? null : Buffer.from(`${w.dc}|${w.entity}|${w.ts}:${w.counter}|${eventId}`) }
    })))

/**
 * What engine `dc` consumes: every write 1 to 3 times on the topic that carries it there (own writes on
 * `orders`, the peer's on `<peer>.orders`), some own writes again on the peer's topic (a replication loop),
 * all in one arbitrary order.
 */
function deliveriesArb (dc: Dc, writes: readonly GenWrite[]): fc.Arbitrary<Delivery[]> {
  const n = writes.length
  return fc.tuple(
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
    fc.array(fc.integer({ min: 0, max: 3 }).map(k => k === 0), { minLength: n, maxLength: n })
  ).chain(([copies, loops]) => {
    const all: Delivery[] = writes.flatMap((w, i) => {
      const topic = w.dc === dc ? 'orders' : `${w.dc}.orders`
      const list: Delivery[] = Array.from({ length: copies[i]! }, () => ({ w, topic, loop: false }))
      if (w.dc === dc && loops[i] === true) list.push({ w, topic: `${PEER[dc]}.orders`, loop: true })
      return list
    })
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
  })
}

const batchSizesArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 })

const scenarioArb: fc.Arbitrary<Scenario> = writesArb.chain(writes => fc.record({
  writes: fc.constant(writes),
  deliveries: fc.record({ dc1: deliveriesArb('dc1', writes), dc2: deliveriesArb('dc2', writes) }),
  batchSizes: fc.record({ dc1: batchSizesArb, dc2: batchSizesArb })
}))

function toRaw (w: GenWrite): Raw {
  const ts = w.counter === 0 && !w.zeroCounter ? String(w.ts) : `${w.ts}:${w.counter}`
  const headers: Record<string, string> = { 'x-origin-ts': ts, 'x-event-id': w.eventId }
  if (w.dcHeader) headers['x-origin-dc'] = w.dc
  return {
    timestamp: String(T),
    key: Buffer.from(`${w.entity}-${w.dc}`),
    value: w.value === null ? null : Buffer.from(w.value),
    headers: w.bufferHeaders ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])) : headers
  }
}

/** The stamp order, written here independently: (ts, counter, dc, eventId), strings by UTF-8 bytes. */
function order (a: GenWrite, b: GenWrite): number {
  if (a.ts !== b.ts) return a.ts - b.ts
  if (a.counter !== b.counter) return a.counter - b.counter
  return Buffer.compare(Buffer.from(a.dc), Buffer.from(b.dc)) || Buffer.compare(Buffer.from(a.eventId), Buffer.from(b.eventId))
}

function maxBy<K> (writes: readonly GenWrite[], key: (w: GenWrite) => K): Map<K, GenWrite> {
  const best = new Map<K, GenWrite>()
  for (const w of writes) {
    const held = best.get(key(w))
    if (held === undefined || order(w, held) > 0) best.set(key(w), w)
  }
  return best
}

/** The outcome counts one engine must report: a per-(entity, writer DC) maximum walked in delivery order. */
function expectedCounts (deliveries: readonly Delivery[]): Record<RecordOutcome, number> {
  const c = counts({})
  const held = new Map<string, GenWrite>()
  // The greatest delete per entity: a delete older than its DC's latest write still hides older versions of other DCs.
  const tombstones = new Map<string, GenWrite>()
  for (const { w, loop } of deliveries) {
    if (loop) { c.loop++; continue }
    const k = `${w.entity}\u0000${w.dc}`
    const h = held.get(k)
    const o = h === undefined ? 1 : order(w, h)
    const t = tombstones.get(w.entity)
    const d = w.value !== null ? -1 : t === undefined ? 1 : order(w, t)
    if (o > 0) held.set(k, w)
    if (d > 0) tombstones.set(w.entity, w)
    if (o > 0 || d > 0) c.applied++; else if (o === 0 || d === 0) c.duplicate++; else c.stale++
  }
  return c
}

function runEngine (dc: Dc, deliveries: readonly Delivery[], sizes: readonly number[]): { r: Rig, counts: Record<RecordOutcome, number> } {
  const r = rig(dc)
  const total = counts({})
  for (const b of batches(deliveries, sizes)) {
    const result = feed(r, b.topic, b.items.map(d => toRaw(d.w)))
    for (const k of Object.keys(total) as RecordOutcome[]) total[k] += result.counts[k]
  }
  return { r, counts: total }
}

const formatTs = (w: GenWrite): string => w.counter === 0 ? String(w.ts) : `${w.ts}:${w.counter}`
const stampKey = (w: { dc: string, ts: number, counter: number, eventId: string }): string => JSON.stringify([w.dc, w.ts, w.counter, w.eventId])

describe('Engine: two datacenters converge', () => {
  test('any interleaving, batching, redelivery and looping of the same writes leaves both stores on the max-stamp version per entity, and each changelog ends on it', () => {
    fc.assert(fc.property(scenarioArb, ({ writes, deliveries, batchSizes }) => {
      const winners = maxBy(writes, w => w.entity)
      const perDc = maxBy(writes, w => `${w.entity}\u0000${w.dc}`)
      const byStamp = new Map(writes.map(w => [stampKey(w), w]))
      const oracle = new Map([...winners].map(([entity, w]) =>
        [entity, { dc: w.dc, ts: w.ts, counter: w.counter, eventId: w.eventId, deleted: w.value === null }]))

      const states = (['dc1', 'dc2'] as const).map(dc => {
        const { r, counts: got } = runEngine(dc, deliveries[dc], batchSizes[dc])
        assert.deepEqual(got, expectedCounts(deliveries[dc]), `${dc}: outcome counts`)

        const state = new Map([...r.store.entities(r.topicId).keys()].map(e => [e, stampOf(r, e)]))
        assert.deepEqual(state, oracle, `${dc}: merged state`)

        for (const entity of winners.keys()) {
          const siblings = siblingsOf(r, entity).map(s => stampKey(s.stamp)).sort()
          const expected = [...perDc].filter(([k]) => k.startsWith(`${entity}\u0000`)).map(([, w]) => stampKey(w)).sort()
          assert.deepEqual(siblings, expected, `${dc}: siblings of ${entity}`)
        }

        const out = outbox(r).filter(o => o.topic !== 'orders.conflicts')
        assert.ok(out.every(o => o.topic === 'orders.merged' && o.partition === 0), `${dc}: only merged records and conflicts`)
        for (const [entity, winner] of winners) {
          const changelog = out.filter(o => o.key === entity).map(o => {
            const [ts, counter] = String(o.headers['x-origin-ts']).split(':')
            const w = byStamp.get(stampKey({ dc: String(o.headers['x-origin-dc']), ts: Number(ts), counter: Number(counter ?? 0), eventId: String(o.headers['x-event-id']) }))
            assert.ok(w !== undefined, `${dc}: ${entity} emitted a stamp nobody wrote: ${JSON.stringify(o.headers)}`)
            assert.deepEqual(o.value, w.value, `${dc}: ${entity} emitted other bytes than the write's`)
            return w
          })
          for (let i = 1; i < changelog.length; i++) {
            assert.ok(order(changelog[i]!, changelog[i - 1]!) > 0, `${dc}: changelog of ${entity} went back in time`)
          }
          assert.deepEqual(out.filter(o => o.key === entity).at(-1),
            mergedOut(entity, winner.dc, formatTs(winner), winner.eventId, winner.value, dc), `${dc}: last record of ${entity}`)
        }
        assert.deepEqual(new Set(out.map(o => o.key)), new Set(winners.keys()))

        const delivered = new Map<string, number>()
        for (const d of deliveries[dc]) delivered.set(`${d.topic}:0`, (delivered.get(`${d.topic}:0`) ?? 0) + 1)
        assert.deepEqual(r.store.offsets(), delivered, `${dc}: committed offsets`)
        r.store.close()
        return state
      })
      assert.deepEqual(states[0], states[1])
    }), { numRuns: 200 })
  })
})
