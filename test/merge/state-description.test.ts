import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { policies } from '../../src/merge/index.ts'
import type { BindContext, DeleteRule, Merger, Write } from '../../src/merge/policy.ts'
import { toJson, type StateDescription } from '../../src/merge/state-description.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { deliveriesArb, writesArb } from './arbitraries.ts'

const T = 1_700_000_000_000
const contextFor = (codec: Codec, deleteRule: DeleteRule = 'lww', modules: ReadonlyMap<string, unknown> = new Map()): BindContext =>
  ({ dcs: ['dc1', 'dc2', 'dc3'], deleteRule, conflictWindowMs: 10_000, codec, path: 'topics[0].policy', modules })
const bind = (policy: string, options: Record<string, unknown>, codec: Codec = codecs.msgpack, deleteRule: DeleteRule = 'lww', modules?: ReadonlyMap<string, unknown>): Merger =>
  policies.get(policy)!.bind(options, contextFor(codec, deleteRule, modules))

const stamp = (dc: string, ts: number, eventId = `${dc}@${ts}`): Stamp => ({ ts, counter: 0, dc, eventId })
const put = (dc: string, ts: number, value: unknown, codec: Codec = codecs.msgpack): Write => {
  const bytes = codec.encode(value)
  return { stamp: stamp(dc, ts), value: bytes, decoded: codec.decode(bytes) }
}
const del = (dc: string, ts: number): Write => ({ stamp: stamp(dc, ts), value: null })

function describeAfter (merger: Merger, writes: readonly Write[]): StateDescription {
  let state: unknown
  for (const w of writes) {
    const r = merger.absorb(state, w)
    if (r.outcome === 'applied') state = r.state
  }
  assert.ok(state !== undefined, 'no write was applied')
  // Described as the store would hand it back: encoded and decoded again.
  return merger.describeState(merger.decodeState(merger.encodeState(state)))
}

/** JSON data survives a round trip through its text unchanged. */
const assertJson = (d: unknown): void => assert.deepEqual(JSON.parse(JSON.stringify(d)), d)

describe('toJson', () => {
  test('keeps what JSON holds exactly and refuses the rest', () => {
    assert.deepEqual(toJson({ a: [1, 'x', null, true, { b: 2.5 }] }), { a: [1, 'x', null, true, { b: 2.5 }] })
    for (const v of [Buffer.from('ab'), 1n, 2 ** 60, Number.NaN, Infinity, undefined, new Date(0), [1, Buffer.alloc(1)], { a: 2n }, () => 1]) {
      assert.equal(toJson(v), undefined, `${String(v)} is no JSON`)
    }
  })

  test('keeps a key named __proto__ as a key', () => {
    const v = JSON.parse('{"__proto__": 1, "a": 2}') as unknown
    const j = toJson(v)
    assert.equal(JSON.stringify(j), '{"__proto__":1,"a":2}')
  })
})

describe('describeState: the sibling layout', () => {
  test('lww on raw values: every DC\'s latest version by DC, its stamp, base64 value, and the tombstone', () => {
    const m = bind('lww', {}, codecs.raw)
    const d = describeAfter(m, [
      { stamp: stamp('dc2', T + 2), value: Buffer.from('b') },
      { stamp: stamp('dc1', T + 1), value: Buffer.from('a') },
      del('dc3', T)
    ])
    assert.deepEqual(d, {
      layout: 'siblings',
      tombstone: { dc: 'dc3', ts: T, counter: 0, eventId: `dc3@${T}` },
      versions: [
        { stamp: { dc: 'dc1', ts: T + 1, counter: 0, eventId: `dc1@${T + 1}` }, deleted: false, live: true, value: { encoding: 'base64', value: 'YQ==' } },
        { stamp: { dc: 'dc2', ts: T + 2, counter: 0, eventId: `dc2@${T + 2}` }, deleted: false, live: true, value: { encoding: 'base64', value: 'Yg==' } },
        { stamp: { dc: 'dc3', ts: T, counter: 0, eventId: `dc3@${T}` }, deleted: true, live: false }
      ]
    })
    assertJson(d)
  })

  test('lww on msgpack values: values decoded to JSON; a version older than the delete is not live', () => {
    const d = describeAfter(bind('lww', {}), [put('dc1', T, { a: 1 }), del('dc2', T + 1), put('dc3', T + 2, ['x'])])
    assert.equal(d.layout, 'siblings')
    if (d.layout !== 'siblings') return
    assert.deepEqual(d.versions.map(v => [v.stamp.dc, v.deleted, v.live, v.value]), [
      ['dc1', false, false, { encoding: 'json', value: { a: 1 } }],
      ['dc2', true, false, undefined],
      ['dc3', false, true, { encoding: 'json', value: ['x'] }]
    ])
  })

  test('a value JSON cannot hold exactly (bytes, an int64 beyond 2^53) is shown as base64 of its bytes', () => {
    const big = put('dc1', T, { n: 2n ** 60n })
    const bin = put('dc2', T, { b: Buffer.from('zz') })
    const d = describeAfter(bind('lww', {}), [big, bin])
    if (d.layout !== 'siblings') assert.fail('sibling layout')
    assert.deepEqual(d.versions.map(v => v.value), [
      { encoding: 'base64', value: big.value!.toString('base64') },
      { encoding: 'base64', value: bin.value!.toString('base64') }
    ])
  })

  test('delete-wins: a version made within the conflict window after the delete is not live', () => {
    const d = describeAfter(bind('lww', {}, codecs.msgpack, 'delete-wins'), [del('dc1', T), put('dc2', T + 5, 1), put('dc3', T + 10_000, 2)])
    if (d.layout !== 'siblings') assert.fail('sibling layout')
    assert.deepEqual(d.versions.map(v => [v.stamp.dc, v.live]), [['dc1', false], ['dc2', false], ['dc3', true]])
  })

  test('counter, max, min, union and dc-priority describe the same layout; a version the policy refuses is not live', () => {
    const json = codecs.json
    const cases: Array<[string, Record<string, unknown>]> = [
      ['counter', { field: 'qty' }], ['max', { field: 'qty' }], ['min', { field: 'qty' }], ['union', { field: 'qty' }], ['dc-priority', { order: ['dc1', 'dc2', 'dc3'] }]
    ]
    for (const [policy, options] of cases) {
      const value = policy === 'union' ? { qty: ['a'] } : { qty: 3 }
      // State kept by lww before a switch to this policy: dc2's value is one the policy would refuse.
      const keptByLww = bind('lww', {}, json)
      let state: unknown
      for (const w of [put('dc1', T, value, json), put('dc2', T + 1, 'no map', json)]) {
        const r = keptByLww.absorb(state, w)
        if (r.outcome === 'applied') state = r.state
      }
      const m = bind(policy, options, json)
      const d = m.describeState(m.decodeState(keptByLww.encodeState(state)))
      if (d.layout !== 'siblings') assert.fail(`${policy}: sibling layout`)
      assert.deepEqual(d.versions.map(v => [v.stamp.dc, v.live, v.value]), [
        ['dc1', true, { encoding: 'json', value }],
        ['dc2', policy === 'dc-priority', { encoding: 'json', value: 'no map' }]
      ], policy)
    }
  })

  test('any delivery order, duplication included, describes alike (lists are in DC order)', () => {
    const m = bind('lww', {}, codecs.raw)
    fc.assert(fc.property(writesArb.chain(writes => fc.tuple(deliveriesArb(writes), deliveriesArb(writes))), ([a, b]) => {
      const da = describeAfter(m, a)
      assert.deepEqual(describeAfter(m, b), da)
      assertJson(da)
    }), { numRuns: 200 })
  })
})

describe('describeState: the fields layout (lww-fields)', () => {
  test('per field in name order, each DC\'s latest entry by DC, a field delete shown as deleted', () => {
    const m = bind('lww-fields', {})
    const d = describeAfter(m, [put('dc2', T + 1, { status: 'paid', qty: null }), put('dc1', T, { qty: 1, status: 'new' }), del('dc3', T - 1)])
    assert.deepEqual(d, {
      layout: 'fields',
      tombstone: { dc: 'dc3', ts: T - 1, counter: 0, eventId: `dc3@${T - 1}` },
      fields: [
        {
          name: 'qty',
          entries: [
            { stamp: { dc: 'dc1', ts: T, counter: 0, eventId: `dc1@${T}` }, deleted: false, value: { encoding: 'json', value: 1 } },
            { stamp: { dc: 'dc2', ts: T + 1, counter: 0, eventId: `dc2@${T + 1}` }, deleted: true }
          ]
        },
        {
          name: 'status',
          entries: [
            { stamp: { dc: 'dc1', ts: T, counter: 0, eventId: `dc1@${T}` }, deleted: false, value: { encoding: 'json', value: 'new' } },
            { stamp: { dc: 'dc2', ts: T + 1, counter: 0, eventId: `dc2@${T + 1}` }, deleted: false, value: { encoding: 'json', value: 'paid' } }
          ]
        }
      ]
    })
    assertJson(d)
  })

  test('a field value JSON cannot hold is shown as base64 of that value alone, encoded with the codec', () => {
    const d = describeAfter(bind('lww-fields', {}), [put('dc1', T, { b: Buffer.from('x') })])
    if (d.layout !== 'fields') assert.fail('fields layout')
    assert.deepEqual(d.fields[0]!.entries[0]!.value, { encoding: 'base64', value: codecs.msgpack.encode(Buffer.from('x')).toString('base64') })
  })
})

describe('describeState: custom modules', () => {
  const sum = {
    absorb: (s: { n: number } | undefined, w: { value: { n: number } | null }) => ({ n: (s?.n ?? 0) + (w.value?.n ?? 0) }),
    resolve: (s: { n: number }) => s
  }
  const modules = (mod: unknown): ReadonlyMap<string, unknown> => new Map([['./m.js', mod]])
  const writes = [put('dc2', T + 1, { n: 2 }), put('dc1', T, { n: 1 })]
  const sources = [{ dc: 'dc1', ts: T, counter: 0, eventId: `dc1@${T}` }, { dc: 'dc2', ts: T + 1, counter: 0, eventId: `dc2@${T + 1}` }]

  test('without describe: the module\'s state itself, and the greatest stamp per DC by DC', () => {
    const d = describeAfter(bind('custom', { module: './m.js' }, codecs.msgpack, 'lww', modules(sum)), writes)
    assert.deepEqual(d, { layout: 'custom', sources, state: { encoding: 'json', value: { n: 3 } }, describedBy: 'state' })
  })

  test('with describe: what it returns', () => {
    const mod = { ...sum, describe: (s: { n: number }) => ({ total: s.n, words: ['three'] }) }
    const d = describeAfter(bind('custom', { module: './m.js' }, codecs.msgpack, 'lww', modules(mod)), writes)
    assert.deepEqual(d, { layout: 'custom', sources, state: { encoding: 'json', value: { total: 3, words: ['three'] } }, describedBy: 'module' })
  })

  test('a describe that throws or returns what JSON cannot hold: the state itself, with the reason', () => {
    for (const [describe, reason] of [
      [() => { throw new Error('boom') }, /custom policy \.\/m\.js: describe threw: boom/],
      [() => ({ n: 1n }), /describe returned what JSON cannot hold/]
    ] as const) {
      const d = describeAfter(bind('custom', { module: './m.js' }, codecs.msgpack, 'lww', modules({ ...sum, describe })), writes)
      if (d.layout !== 'custom') assert.fail('custom layout')
      assert.deepEqual(d.state, { encoding: 'json', value: { n: 3 } })
      assert.equal(d.describedBy, 'state')
      assert.match(d.describeError ?? '', reason)
    }
  })

  test('a describe export that is no function is refused when the policy is bound', () => {
    assert.throws(() => bind('custom', { module: './m.js' }, codecs.msgpack, 'lww', modules({ ...sum, describe: 1 })),
      /exporting describe \(number\), which must be a function when exported/)
  })
})
