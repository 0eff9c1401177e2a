import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { ConfigError, PolicyError } from '../../src/errors.ts'
import { custom, type CustomPolicyModule, type CustomState } from '../../src/merge/custom.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import type { BindContext, Merger, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { deliveriesArb, stampKey, writesArb } from './arbitraries.ts'

/** The example module, as a user's test would load it. */
const tags = await import(new URL('../../config/policies/tags.js', import.meta.url).href) as CustomPolicyModule
const T = 1_700_000_000_000

const contextFor = (modules: ReadonlyMap<string, unknown>, codec: Codec = codecs.msgpack): BindContext =>
  ({ dcs: ['dc1', 'dc2'], deleteRule: 'lww', conflictWindowMs: 10_000, codec, path: 'topics[3].policy', modules })
const bindModule = (mod: unknown, codec: Codec = codecs.msgpack): Merger<CustomState> =>
  custom.bind({ module: './x.js' }, contextFor(new Map([['./x.js', mod]]), codec)) as Merger<CustomState>
const bindTags = (codec: Codec = codecs.msgpack): Merger<CustomState> => bindModule(tags, codec)

const stamp = (dc: string, ts: number, eventId = `${dc}@${ts}`): Stamp => ({ ts, counter: 0, dc, eventId })
/** A write as the engine hands it over: the value encoded with the codec and decoded again. */
const put = (dc: string, ts: number, value: unknown, codec: Codec = codecs.msgpack): Write => {
  const bytes = codec.encode(value)
  return { stamp: stamp(dc, ts), value: bytes, decoded: codec.decode(bytes) }
}
const del = (dc: string, ts: number): Write => ({ stamp: stamp(dc, ts), value: null })

function stateAfter (merger: Merger<CustomState>, writes: readonly Write[]): CustomState {
  let state: CustomState | undefined
  for (const w of writes) {
    const r = merger.absorb(state, w)
    if (r.outcome === 'applied') state = r.state
  }
  assert.ok(state !== undefined, 'no write was applied')
  return state
}
const merged = (merger: Merger<CustomState>, writes: readonly Write[], codec: Codec = codecs.msgpack): unknown => {
  const r = merger.resolve(stateAfter(merger, writes))
  return r.value === null ? null : codec.decode(r.value)
}

const bindError = (mod: unknown, codec: Codec = codecs.msgpack, modules = new Map([['./x.js', mod]])): string[] => {
  try {
    custom.bind({ module: './x.js' }, contextFor(modules, codec))
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return [...err.problems]
  }
  assert.fail('bind accepted the module')
}

describe('custom policy: binding', () => {
  test('is named custom, decodes values and has its own state layout', () => {
    const m = bindTags()
    assert.equal(custom.name, 'custom')
    assert.equal(m.policy, 'custom')
    assert.equal(m.decodesValues, true)
    assert.equal(m.stateFormat, 'custom')
  })

  test('refuses a module without absorb, naming the key, the shape expected and what the module exports', () => {
    assert.deepEqual(bindError({ resolve: () => null, merge: () => null }), [
      '"topics[3].policy.module" must be a module exporting the functions absorb(state, write) and resolve(state), ' +
      'got "./x.js", exporting resolve (function), merge (function)'
    ])
  })

  test('refuses a module whose absorb is no function, and hints at a default export', () => {
    assert.match(bindError({ absorb: 1, resolve: () => null })[0]!, /^"topics\[3\]\.policy\.module" .*exporting absorb \(number\), resolve \(function\)$/)
    assert.match(bindError({ default: { absorb: () => 1, resolve: () => 1 } })[0]!, /exporting default \(object\) \(export absorb and resolve by name/)
  })

  test('refuses a module that was not loaded', () => {
    assert.deepEqual(bindError(undefined, codecs.msgpack, new Map()), [
      '"topics[3].policy.module" must be a module exporting the functions absorb(state, write) and resolve(state), ' +
      'got "./x.js", which was not loaded at start-up'
    ])
  })

  test('refuses codec raw, naming the topic\'s codec key, along with any problem of the module', () => {
    assert.deepEqual(bindError(tags, codecs.raw), [
      '"topics[3].codec" must be msgpack or json for policy custom (it decodes values and encodes its state), got raw'
    ])
    assert.equal(bindError({}, codecs.raw).length, 2)
  })
})

describe('custom policy: absorb', () => {
  test('merges concurrent writes with the module (tags of both DCs)', () => {
    assert.deepEqual(merged(bindTags(), [put('dc1', T, { tags: ['red'] }), put('dc2', T, { tags: ['sale', 'red'] })]), { tags: ['red', 'sale'] })
  })

  test('rejects a write the module throws on, with the module and its message as the reason, and keeps the state', () => {
    const m = bindTags()
    const state = stateAfter(m, [put('dc1', T, { tags: ['red'] })])
    assert.deepEqual(m.absorb(state, put('dc2', T + 1, { tags: 'red' })), {
      outcome: 'rejected', reason: 'custom policy ./x.js: absorb threw: the value must be { tags: [string, ...] }'
    })
    assert.deepEqual(merged(m, [put('dc1', T, { tags: ['red'] }), put('dc2', T + 1, { tags: 'red' })]), { tags: ['red'] })
  })

  test('rejects a write when absorb returns undefined, or a state the codec cannot encode', () => {
    assert.deepEqual(bindModule({ absorb: () => undefined, resolve: () => 1 }).absorb(undefined, put('dc1', T, 1)),
      { outcome: 'rejected', reason: 'custom policy ./x.js: absorb returned undefined (it must return the new state)' })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const r = bindModule({ absorb: () => circular, resolve: () => 1 }, codecs.json).absorb(undefined, put('dc1', T, 1))
    assert.equal(r.outcome, 'rejected')
    assert.match((r as { reason: string }).reason, /^custom policy \.\/x\.js: absorb returned a state the json codec cannot encode: /)
  })

  test('rejects a write whose state resolve throws on, instead of failing the batch at commit', () => {
    const m = bindModule({ absorb: (_s: unknown, w: { value: unknown }) => w.value, resolve: (s: unknown) => { if (s === 2) throw new Error('two'); return s } })
    assert.deepEqual(m.absorb(undefined, put('dc1', T, 2)),
      { outcome: 'rejected', reason: 'custom policy ./x.js: resolve failed on the state after this write: two' })
    assert.equal(m.absorb(undefined, put('dc1', T, 1)).outcome, 'applied')
  })

  test('rejects a value that decodes to null, which the module could not tell from a delete', () => {
    assert.equal(bindTags().absorb(undefined, put('dc1', T, null)).outcome, 'rejected')
  })

  test('reports a write that changes nothing as a duplicate (same stamp) or stale (older stamp of its DC)', () => {
    const m = bindTags()
    const w = put('dc1', T + 5, { tags: ['red'] })
    const state = stateAfter(m, [w])
    assert.deepEqual(m.absorb(state, { ...w, stamp: { ...w.stamp } }), { outcome: 'duplicate' })
    // An older write of dc1 adding a tag already held: the module's state is unchanged, and so are the sources.
    assert.deepEqual(m.absorb(state, put('dc1', T, { tags: ['red'] })), { outcome: 'stale' })
    // The same from another DC is applied: it becomes that DC's source.
    const r = m.absorb(state, put('dc2', T, { tags: ['red'] }))
    assert.equal(r.outcome, 'applied')
    assert.deepEqual(r.outcome === 'applied' && r.conflicts, [])
  })

  test('hands the module the state as the codec stores it, frozen, so a module that mutates it fails loudly', () => {
    const m = bindModule({
      absorb: (s: { n: number } | undefined) => { if (s !== undefined) s.n++; return { n: 1 } },
      resolve: (s: unknown) => s
    })
    const state = stateAfter(m, [put('dc1', T, 1)])
    assert.ok(Object.isFrozen(state.user))
    const r = m.absorb(state, put('dc2', T, 1))
    assert.equal(r.outcome, 'rejected')
    assert.match((r as { reason: string }).reason, /absorb threw: .*read only/)
  })
})

describe('custom policy: resolve and state', () => {
  test('resolves to the module\'s value encoded with the codec, from the latest stamp of each DC, with no origin or tombstone', () => {
    for (const codec of [codecs.msgpack, codecs.json]) {
      const m = bindTags(codec)
      const writes = [put('dc2', T + 1, { tags: ['b'] }, codec), put('dc1', T + 2, { tags: ['a'] }, codec), put('dc1', T, { tags: ['c'] }, codec)]
      const r = m.resolve(stateAfter(m, writes))
      assert.deepEqual(r.value, codec.encode({ tags: ['a', 'b', 'c'] }))
      assert.equal(r.origin, undefined)
      assert.equal(r.tombstone, undefined)
      assert.deepEqual(r.sources.map(stampKey), [stamp('dc2', T + 1), stamp('dc1', T + 2)].map(stampKey))
    }
  })

  test('resolves to deleted when the module resolves to null; the entity keeps no tombstone (never purged)', () => {
    const m = bindTags()
    const r = m.resolve(stateAfter(m, [put('dc1', T, { tags: ['red'] }), del('dc2', T + 1)]))
    assert.deepEqual(r, { value: null, origin: undefined, sources: [stamp('dc1', T), stamp('dc2', T + 1)], tombstone: undefined })
    assert.deepEqual(merged(m, [put('dc1', T, { tags: ['red'] }), del('dc2', T + 1), put('dc1', T + 2, { tags: [] })]), { tags: [] })
  })

  test('round-trips its state through encodeState and decodeState', () => {
    const m = bindTags()
    const state = stateAfter(m, [put('dc1', T, { tags: ['x'] }), del('dc-\u{1D400}', T + 1), put('dc2', T + 2, { tags: ['y'] })])
    const bytes = m.encodeState(state)
    const back = m.decodeState(bytes)
    assert.deepEqual(back, state)
    assert.deepEqual(m.encodeState(back), bytes)
    assert.deepEqual(m.resolve(back), m.resolve(state))
  })

  test('throws PolicyError naming the module when resolve fails on a stored state', () => {
    let broken = false
    const m = bindModule({ absorb: () => 1, resolve: (s: unknown) => { if (broken) throw new Error('changed'); return s } })
    const bytes = m.encodeState(stateAfter(m, [put('dc1', T, 1)]))
    broken = true
    assert.throws(() => m.resolve(m.decodeState(bytes)), (err: unknown) =>
      err instanceof PolicyError && err.code === 'CONCORD_ERR_POLICY' && /^custom policy \.\/x\.js: resolve failed on a stored state/.test(err.message))
  })
})

/** Values of the law histories: tag lists, and now and then one the example module rejects. */
const valueArb = fc.oneof(
  { weight: 6, arbitrary: fc.subarray(['red', 'sale', 'new', '\u00e9t\u00e9']).map(t => ({ tags: t })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ tags: 'red' }, 42, { tags: [1] }) }
)

/**
 * A history for lawViolations: 1 to 12 writes of 2 to 5 DCs (about one in four a delete), each value
 * msgpack-encoded and decoded again as the engine hands it over, and 2 to 4 delivery orders, each
 * delivering every write 1 to 3 times, shuffled (one order per DC receiving them).
 */
const historyArb = writesArb.chain(versions => fc.record({
  writes: fc.tuple(...versions.map(v => valueArb.map((value): Write => {
    if (v.value === null) return { stamp: v.stamp, value: null }
    const bytes = codecs.msgpack.encode(value)
    return { stamp: v.stamp, value: bytes, decoded: codecs.msgpack.decode(bytes) }
  }))),
  orders: fc.array(deliveriesArb(versions).map(d => {
    const index = new Map(versions.map((v, i) => [stampKey(v.stamp), i]))
    return d.map(v => index.get(stampKey(v.stamp))!)
  }), { minLength: 2, maxLength: 4 })
}))

describe('custom policy: laws', () => {
  test('the example module keeps the laws on generated histories', () => {
    const merger = bindTags()
    fc.assert(fc.property(historyArb, ({ writes, orders }) => {
      assert.deepEqual(lawViolations(merger, writes, orders), [])
    }), { numRuns: 1000 })
  })

  test('a module that breaks them (the last write absorbed wins) is caught', () => {
    const lastAbsorbed = bindModule({ absorb: (_s: unknown, w: { value: unknown }) => w.value ?? 'deleted', resolve: (s: unknown) => s })
    const found = fc.check(fc.property(historyArb, ({ writes, orders }) => lawViolations(lastAbsorbed, writes, orders).length === 0), { numRuns: 1000 })
    assert.equal(found.failed, true)
    const [{ writes, orders }] = found.counterexample!
    assert.match(lawViolations(lastAbsorbed, writes, orders).join('\n'), /^(convergence|commutation|idempotence): /m)
  })
})
