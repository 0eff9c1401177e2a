import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { counter } from '../../src/merge/counter.ts'
import { max, min } from '../../src/merge/extremum.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import { lww } from '../../src/merge/lww.ts'
import type { Merger, Resolved, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { referenceCompare } from './arbitraries.ts'
import {
  FIELD, MISSING, bindContext, docWrite, fieldOf, historyArb, isPlainMap, lawCaseArb, partialOrderArb, plain, redeliver,
  referenceLive, rulesArb, type DocWrite, type Rules
} from './doc-arbitraries.ts'

const T = 1_700_000_000_000
const BIG = 2 ** 53 - 1
const stamp = (dc: string, ts: number, eventId = `${dc}-${ts}`, counter = 0): Stamp => ({ ts, counter, dc, eventId })
const total = (dc: string, ts: number, qty: unknown): DocWrite => docWrite(stamp(dc, ts), { sku: 'a', qty })
const del = (dc: string, ts: number): DocWrite => docWrite(stamp(dc, ts))

const validCounts = fc.constantFrom<unknown>(0, 1, 2, 5, -3, -0, BIG, -BIG)
const invalidCounts = fc.constantFrom<unknown>(1.5, 'x', MISSING, 2 ** 53, NaN, null, -0.5)

const bind = (rules?: Rules, codec = codecs.msgpack, dcs = ['eu', 'us', 'ap']): Merger =>
  counter.bind({ field: FIELD }, bindContext(dcs, rules, codec))

/** Absorbs the writes in order (each a fresh copy, as redelivered); the state and every conflict reported. */
function run (merger: Merger, writes: readonly Write[], codec: Codec = codecs.msgpack): { state: unknown, conflicts: number } {
  let state: unknown
  let conflicts = 0
  for (const w of writes) {
    const r = merger.absorb(state, redeliver(w, codec))
    if (r.outcome === 'applied') { state = r.state; conflicts += r.conflicts.length }
  }
  return { state, conflicts }
}

const resolveAll = (merger: Merger, writes: readonly Write[], codec: Codec = codecs.msgpack): Resolved => {
  const { state } = run(merger, writes, codec)
  assert.notEqual(state, undefined)
  return merger.resolve(state)
}

const accepts = (w: DocWrite): boolean => isPlainMap(w.decoded) && Number.isSafeInteger(w.decoded[FIELD])

describe('counter laws', () => {
  test('any delivery order, with redelivery, converges; absorbing is idempotent and commutes; the state round-trips', () => {
    fc.assert(fc.property(lawCaseArb(validCounts, invalidCounts), ({ history, orders, rules }) => {
      const merger = counter.bind({ field: FIELD }, bindContext(history.dcs, rules))
      assert.deepEqual(lawViolations(merger, history.writes, orders), [])
    }), { numRuns: 1000 })
  })

  test('the merged value is the sum of each DC\'s latest live total, in the document of the greatest live stamp', () => {
    const arb = historyArb(validCounts, invalidCounts).chain(history =>
      fc.record({ history: fc.constant(history), order: partialOrderArb(history.writes.length), rules: rulesArb }))
    fc.assert(fc.property(arb, ({ history, order, rules }) => {
      const delivered = order.map(i => history.writes[i]!)
      const merger = counter.bind({ field: FIELD }, bindContext(history.dcs, rules))
      const { state } = run(merger, delivered)
      const { live, tombstone } = referenceLive(delivered, accepts, rules)
      if (live.length === 0 && tombstone === undefined) return assert.equal(state, undefined)
      const resolved = merger.resolve(state)
      if (live.length === 0) {
        assert.deepEqual({ ...resolved, sources: resolved.sources.map(plain) },
          { value: null, origin: plain(tombstone!.stamp), sources: [plain(tombstone!.stamp)], tombstone: plain(tombstone!.stamp) })
        return
      }
      const sum = live.reduce((s, w) => s + BigInt(fieldOf(w) as number), 0n)
      const safe = sum >= -BigInt(BIG) && sum <= BigInt(BIG)
      const top = live.reduce((a, b) => referenceCompare(a.stamp, b.stamp) >= 0 ? a : b)
      const expected = { ...(top.decoded as object), [FIELD]: safe ? Number(sum) : sum }
      assert.deepEqual(resolved.value, codecs.msgpack.encode(expected))
      if (safe) assert.deepEqual(codecs.msgpack.decode(resolved.value!), expected)
      assert.equal(resolved.origin, undefined)
      assert.equal(resolved.tombstone, undefined)
      assert.deepEqual(resolved.sources.map(plain), live.map(w => plain(w.stamp)).sort(referenceCompare))
    }), { numRuns: 1000 })
  })

  test('never reports a conflict: it combines every DC\'s total', () => {
    fc.assert(fc.property(lawCaseArb(validCounts, invalidCounts), ({ history, orders, rules }) => {
      const merger = counter.bind({ field: FIELD }, bindContext(history.dcs, rules))
      for (const order of orders) assert.equal(run(merger, order.map(i => history.writes[i]!)).conflicts, 0)
    }), { numRuns: 300 })
  })

  test('rejects a write in every order or in none, by its own value', () => {
    fc.assert(fc.property(historyArb(validCounts, invalidCounts), history => {
      const merger = bind()
      for (const w of history.writes) {
        if (w.value === null) continue
        assert.equal(merger.absorb(undefined, w).outcome === 'rejected', !accepts(w))
      }
    }), { numRuns: 300 })
  })
})

describe('counter sums', () => {
  test('three DCs add up, and a DC\'s later total replaces its earlier one', () => {
    const merger = bind()
    const r = resolveAll(merger, [total('eu', T, 3), total('us', T + 1, 5), total('eu', T + 2, 4), total('ap', T + 3, -1)])
    assert.deepEqual(codecs.msgpack.decode(r.value!), { sku: 'a', qty: 8 })
    assert.deepEqual(r.sources.map(s => s.dc), ['us', 'eu', 'ap'])
  })

  test('a sum beyond 2^53 is exact: msgpack int64', () => {
    const r = resolveAll(bind(), [total('eu', T, BIG), total('us', T, BIG), total('ap', T, BIG)])
    assert.deepEqual(r.value, codecs.msgpack.encode({ sku: 'a', qty: 3n * (2n ** 53n - 1n) }))
    // 0xd3: msgpack int64, then the exact value big-endian.
    const at = r.value!.indexOf(Buffer.from([0xd3]))
    assert.ok(at > 0)
    assert.equal(r.value!.readBigInt64BE(at + 1), 3n * (2n ** 53n - 1n))
  })

  test('a sum beyond 2^53 is exact: JSON integer', () => {
    const merger = bind(undefined, codecs.json)
    const json = (dc: string, qty: number): Write => {
      const value = Buffer.from(JSON.stringify({ sku: 'a', qty }))
      return { stamp: stamp(dc, T), value, decoded: JSON.parse(value.toString()) }
    }
    const r = resolveAll(merger, [json('eu', BIG), json('us', BIG), json('ap', BIG)], codecs.json)
    assert.equal(r.value!.toString(), `{"sku":"a","qty":${3n * (2n ** 53n - 1n)}}`)
    assert.equal(r.value!.toString(), '{"sku":"a","qty":27021597764222973}')
  })

  test('large totals that cancel out give an exact small number', () => {
    const r = resolveAll(bind(), [total('eu', T, BIG), total('us', T, -BIG), total('ap', T, 5)])
    assert.deepEqual(r.value, codecs.msgpack.encode({ sku: 'a', qty: 5 }))
  })

  test('keeps the other fields of the greatest live stamp\'s document, the field in its place', () => {
    const r = resolveAll(bind(), [
      docWrite(stamp('eu', T + 1), { qty: 2, note: 'eu', sku: 'a' }),
      docWrite(stamp('us', T), { note: 'us', qty: 3 })
    ])
    assert.deepEqual(r.value, codecs.msgpack.encode({ qty: 5, note: 'eu', sku: 'a' }))
  })
})

describe('counter rejection', () => {
  const reasonFor = (value: unknown): string | undefined => {
    const r = bind().absorb(undefined, docWrite(stamp('eu', T), value))
    return r.outcome === 'rejected' ? r.reason : undefined
  }

  test('a count that is no integer is rejected with a reason naming the field and what it got', () => {
    assert.equal(reasonFor({ qty: 1.5 }), 'counter field "qty" must be a safe integer (-(2^53-1) to 2^53-1), got 1.5')
    assert.match(reasonFor({ qty: 'x' })!, /"qty".*got "x"/)
    assert.match(reasonFor({ sku: 'a' })!, /"qty".*got nothing/)
    assert.match(reasonFor({ qty: 2 ** 53 })!, /"qty".*got 9007199254740992/)
    assert.match(reasonFor({ qty: NaN })!, /"qty".*got NaN/)
  })

  test('a value that is no map is rejected', () => {
    assert.match(reasonFor([1, 2])!, /map value with an integer "qty", got a list/)
    assert.match(reasonFor(7)!, /map value.*got 7/)
    assert.match(reasonFor(Buffer.from('ab'))!, /got a byte string/)
    assert.match(reasonFor(null)!, /got null/)
  })

  test('a rejected write changes nothing', () => {
    const merger = bind()
    const { state } = run(merger, [total('eu', T, 3)])
    const r = merger.absorb(state, total('eu', T + 1, 0.5))
    assert.equal(r.outcome, 'rejected')
    assert.deepEqual(codecs.msgpack.decode(merger.resolve(state).value!), { sku: 'a', qty: 3 })
  })
})

describe('counter deletes', () => {
  const before = [total('eu', T, 3), total('us', T + 1, 5), del('ap', T + 2), total('ap', T + 3, 4)]

  test('an older delete arriving late still hides the other DCs\' older totals', () => {
    const inOrder = resolveAll(bind(), before)
    const late = resolveAll(bind(), [before[0]!, before[1]!, before[3]!, before[2]!])
    for (const r of [inOrder, late]) {
      assert.deepEqual(codecs.msgpack.decode(r.value!), { sku: 'a', qty: 4 })
      assert.deepEqual(r.sources.map(s => s.dc), ['ap'])
    }
  })

  test('a later total after a delete revives the entity and counts from zero', () => {
    const writes = [total('eu', T, 3), total('us', T + 1, 5), del('us', T + 2)]
    const deleted = resolveAll(bind(), writes)
    assert.equal(deleted.value, null)
    assert.equal(deleted.tombstone?.dc, 'us')
    const revived = resolveAll(bind(), [...writes, total('eu', T + 3, 1)])
    assert.deepEqual(codecs.msgpack.decode(revived.value!), { sku: 'a', qty: 1 })
  })

  test('under delete-wins a total needs to be made the conflict window after the delete', () => {
    const rules: Rules = { deleteRule: 'delete-wins', conflictWindowMs: 10_000 }
    const writes = [total('eu', T, 3), del('us', T + 2)]
    assert.equal(resolveAll(bind(rules), [...writes, total('eu', T + 3, 1)]).value, null)
    const r = resolveAll(bind(rules), [...writes, total('eu', T + 3, 1), total('ap', T + 10_002, 2)])
    assert.deepEqual(codecs.msgpack.decode(r.value!), { sku: 'a', qty: 2 })
  })
})

describe('counter binding', () => {
  test('refuses codec raw with a ConfigError naming the policy\'s key', () => {
    assert.throws(() => counter.bind({ field: FIELD }, bindContext(['eu', 'us'], undefined, codecs.raw)), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems, ['"topics[0].policy" is counter, which reads values: it needs codec msgpack or json, got raw'])
      return true
    })
  })

  test('decodes values and shares the sibling state layout', () => {
    const merger = bind()
    assert.equal(merger.policy, 'counter')
    assert.equal(merger.decodesValues, true)
    assert.equal(merger.stateFormat, 'siblings')
  })

  test('the options schema requires the field, by its key path', () => {
    const policies = new Map([['counter', counter], ['max', max], ['min', min]])
    const config = (policy: unknown): unknown =>
      ({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:9092'] }, topics: [{ name: 'orders', policy }] })
    assert.throws(() => validateConfig(config({ type: 'counter' }), { policies }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.ok(err.problems.some(p => p.startsWith('"topics[0].policy.field" must be')), err.problems.join('\n'))
      return true
    })
    assert.throws(() => validateConfig(config({ type: 'counter', field: 'qty', feild: 'x' }), { policies }),
      (err: unknown) => err instanceof ConfigError && err.problems.some(p => p.includes('"topics[0].policy.feild"')))
    const valid = validateConfig(config({ type: 'counter', field: 'qty' }), { policies })
    assert.deepEqual(valid.topics[0]?.policy, { type: 'counter', field: 'qty', writerField: '' })
  })

  test('a state kept by lww before a switch to counter resolves, counting only the totals it can', () => {
    const context = bindContext(['eu', 'us', 'ap'])
    const before = lww.bind({}, context)
    const { state } = run(before, [total('eu', T, 3), total('us', T, 'many'), docWrite(stamp('ap', T + 1), [1])])
    const after = bind()
    const r = after.resolve(after.decodeState(before.encodeState(state)))
    assert.deepEqual(codecs.msgpack.decode(r.value!), { sku: 'a', qty: 3 })
    assert.deepEqual(r.sources.map(s => s.dc), ['eu'])
  })
})

describe('counter with a writer field (several writers per DC)', () => {
  const WRITER = 'writer'
  const bindW = (rules?: Rules, dcs: readonly string[] = ['eu', 'us', 'ap']): Merger => counter.bind({ field: FIELD, writerField: WRITER }, bindContext(dcs, rules))
  const NO_WRITER = Symbol('no writer')
  const writerArb = fc.constantFrom<string | number | symbol>('a', 'b', 'c', NO_WRITER, 7, '')

  /** The history's writes, each non-delete map given a writer (or none, or one that is no writer id). */
  const withWriters = <T extends { writes: readonly DocWrite[] }>(h: T): fc.Arbitrary<T> =>
    fc.array(writerArb, { minLength: h.writes.length, maxLength: h.writes.length }).map(ws => ({
      ...h,
      writes: h.writes.map((w, i) => {
        if (w.value === null || !isPlainMap(w.decoded)) return w
        const writer = ws[i]!
        return writer === NO_WRITER ? w : docWrite(w.stamp, { ...w.decoded, [WRITER]: writer })
      })
    }))
  const acceptsW = (w: DocWrite): boolean => accepts(w) && typeof (w.decoded as Record<string, unknown>)[WRITER] === 'string' &&
    (w.decoded as Record<string, string>)[WRITER] !== ''

  test('keeps the laws: convergence under any order and redelivery, idempotence, commutation, round trip', () => {
    const arb = lawCaseArb(validCounts, invalidCounts).chain(c => withWriters(c.history).map(history => ({ ...c, history })))
    fc.assert(fc.property(arb, ({ history, orders, rules }) => {
      assert.deepEqual(lawViolations(bindW(rules, history.dcs), history.writes, orders), [])
    }), { numRuns: 1000 })
  })

  test('sums the latest live total of each writer of each DC (an oracle keyed by DC and writer)', () => {
    const arb = historyArb(validCounts, invalidCounts).chain(withWriters).chain(history =>
      fc.record({ history: fc.constant(history), order: partialOrderArb(history.writes.length), rules: rulesArb }))
    fc.assert(fc.property(arb, ({ history, order, rules }) => {
      const delivered = order.map(i => history.writes[i]!)
      const { state } = run(bindW(rules, history.dcs), delivered)
      // The oracle: the max-stamp accepted total per (DC, writer), the max-stamp delete, live = newer than it.
      const bySlot = new Map<string, DocWrite>()
      let tombstone: DocWrite | undefined
      for (const w of delivered) {
        if (w.value === null) {
          if (tombstone === undefined || referenceCompare(w.stamp, tombstone.stamp) > 0) tombstone = w
          continue
        }
        if (!acceptsW(w)) continue
        const slot = `${w.stamp.dc}/${(w.decoded as Record<string, string>)[WRITER]}`
        const held = bySlot.get(slot)
        if (held === undefined || referenceCompare(w.stamp, held.stamp) > 0) bySlot.set(slot, w)
      }
      const live = [...bySlot.values()].filter(w => tombstone === undefined || (referenceCompare(w.stamp, tombstone.stamp) > 0 &&
        (rules.deleteRule === 'lww' || w.stamp.ts - tombstone.stamp.ts >= rules.conflictWindowMs)))
      if (state === undefined) return assert.equal(live.length + (tombstone === undefined ? 0 : 1), 0)
      const resolved = bindW(rules, history.dcs).resolve(state)
      if (live.length === 0) return assert.equal(resolved.value, null)
      const sum = live.reduce((s, w) => s + BigInt(fieldOf(w) as number), 0n)
      const safe = sum >= -BigInt(BIG) && sum <= BigInt(BIG)
      const top = live.reduce((a, b) => referenceCompare(a.stamp, b.stamp) >= 0 ? a : b)
      assert.deepEqual(resolved.value, codecs.msgpack.encode({ ...(top.decoded as object), [FIELD]: safe ? Number(sum) : sum }))
      assert.deepEqual(resolved.sources.map(plain), live.map(w => plain(w.stamp)).sort(referenceCompare))
    }), { numRuns: 1000 })
  })

  test('two writers of one DC both count; without the writer field the later total replaces the other', () => {
    const a1 = docWrite(stamp('eu', T), { qty: 3, writer: 'a' })
    const b1 = docWrite(stamp('eu', T + 1), { qty: 5, writer: 'b' })
    const a2 = docWrite(stamp('eu', T + 2), { qty: 4, writer: 'a' })
    const us = docWrite(stamp('us', T + 1), { qty: 10, writer: 'a' })
    for (const order of [[a1, b1, a2, us], [us, a2, b1, a1], [b1, us, a1, a2, b1]]) {
      assert.deepEqual(codecs.msgpack.decode(resolveAll(bindW(), order).value!), { qty: 19, writer: 'a' })
    }
    assert.deepEqual(codecs.msgpack.decode(resolveAll(bind(), [a1, b1, a2, us]).value!), { qty: 14, writer: 'a' })
  })

  test('rejects a total without a writer id, naming the field', () => {
    const reason = (doc: unknown): string | undefined => {
      const r = bindW().absorb(undefined, docWrite(stamp('eu', T), doc))
      return r.outcome === 'rejected' ? r.reason : undefined
    }
    assert.equal(reason({ qty: 1 }), 'counter writer field "writer" must be a string of 1 to 256 characters naming the writer, got nothing')
    assert.match(reason({ qty: 1, writer: '' })!, /writer field "writer".*got ""/)
    assert.match(reason({ qty: 1, writer: 4 })!, /got 4/)
    assert.equal(reason({ qty: 1, writer: 'w' }), undefined)
    assert.match(reason({ qty: 0.5, writer: 'w' })!, /counter field "qty" must be a safe integer/)
  })

  test('a delete hides every writer\'s older totals, and a writer\'s later total counts alone', () => {
    const r = resolveAll(bindW(), [
      docWrite(stamp('eu', T), { qty: 3, writer: 'a' }), docWrite(stamp('eu', T + 1), { qty: 5, writer: 'b' }),
      del('us', T + 2), docWrite(stamp('eu', T + 3), { qty: 1, writer: 'b' })
    ])
    assert.deepEqual(codecs.msgpack.decode(r.value!), { qty: 1, writer: 'b' })
  })

  test('refuses a writer field equal to the total field, and describes each writer\'s total in the same order everywhere', () => {
    assert.throws(() => counter.bind({ field: 'qty', writerField: 'qty' }, bindContext(['eu', 'us'])),
      (err: unknown) => err instanceof ConfigError && /"topics\[0\].policy.writerField" must differ from "field"/.test(err.message))
    const writes = [docWrite(stamp('eu', T + 1), { qty: 5, writer: 'b' }), docWrite(stamp('eu', T), { qty: 3, writer: 'a' })]
    const m = bindW()
    const one = m.describeState(run(m, writes).state)
    const other = m.describeState(run(m, [...writes].reverse()).state)
    assert.deepEqual(one, other)
  })
})
