import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { max, min } from '../../src/merge/extremum.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import { lww } from '../../src/merge/lww.ts'
import type { Conflict, MergePolicy, Merger, Resolved, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { referenceCompare } from './arbitraries.ts'
import {
  FIELD, MISSING, bindContext, docWrite, fieldOf, historyArb, isPlainMap, lawCaseArb, partialOrderArb, plain, redeliver,
  referenceLive, rulesArb, type DocWrite, type Rules
} from './doc-arbitraries.ts'

const T = 1_700_000_000_000
const stamp = (dc: string, ts: number, eventId = `${dc}-${ts}`, counter = 0): Stamp => ({ ts, counter, dc, eventId })
const price = (dc: string, ts: number, qty: unknown, eventId?: string): DocWrite => docWrite(stamp(dc, ts, eventId), { sku: 'a', qty, by: dc })
const del = (dc: string, ts: number): DocWrite => docWrite(stamp(dc, ts))

const validNumbers = fc.constantFrom<unknown>(-1, 0, -0, 2, 2, 2.5, 7)
const invalidNumbers = fc.constantFrom<unknown>('x', MISSING, NaN, Infinity, -Infinity, null, true)

const accepts = (w: DocWrite): boolean => {
  const d = w.decoded
  return isPlainMap(d) && typeof d[FIELD] === 'number' && Number.isFinite(d[FIELD])
}

/** The reference order, written apart from src/merge: the better field value, then the greater stamp. */
const better = (sign: 1 | -1) => (a: DocWrite, b: DocWrite): DocWrite => {
  const x = fieldOf(a) as number
  const y = fieldOf(b) as number
  if (x !== y) return (sign === 1 ? x > y : x < y) ? a : b
  return referenceCompare(a.stamp, b.stamp) >= 0 ? a : b
}

const cases: ReadonlyArray<{ policy: MergePolicy, sign: 1 | -1 }> = [{ policy: max, sign: 1 }, { policy: min, sign: -1 }]

const bindWith = (policy: MergePolicy, rules?: Rules, codec: Codec = codecs.msgpack, dcs = ['eu', 'us', 'ap']): Merger =>
  policy.bind({ field: FIELD }, bindContext(dcs, rules, codec))

/** Absorbs the writes in order (each a fresh copy, as redelivered); the state and every conflict reported. */
function run (merger: Merger, writes: readonly Write[], codec: Codec = codecs.msgpack): { state: unknown, conflicts: Conflict[] } {
  let state: unknown
  const conflicts: Conflict[] = []
  for (const w of writes) {
    const r = merger.absorb(state, redeliver(w, codec))
    if (r.outcome === 'applied') { state = r.state; conflicts.push(...r.conflicts) }
  }
  return { state, conflicts }
}

const resolveAll = (merger: Merger, writes: readonly Write[], codec?: Codec): Resolved => {
  const { state } = run(merger, writes, codec)
  assert.notEqual(state, undefined)
  return merger.resolve(state)
}

const winnerOf = (r: Resolved): unknown => (codecs.msgpack.decode(r.value!) as Record<string, unknown>).by

for (const { policy, sign } of cases) {
  const name = policy.name
  const bind = (rules?: Rules, codec?: Codec): Merger => bindWith(policy, rules, codec)

  describe(`${name} laws`, () => {
    test('any delivery order, with redelivery, converges; absorbing is idempotent and commutes; the state round-trips', () => {
      fc.assert(fc.property(lawCaseArb(validNumbers, invalidNumbers), ({ history, orders, rules }) => {
        const merger = policy.bind({ field: FIELD }, bindContext(history.dcs, rules))
        assert.deepEqual(lawViolations(merger, history.writes, orders), [])
      }), { numRuns: 1000 })
    })

    test(`the merged value is the ${name === 'max' ? 'greatest' : 'smallest'} field among each DC's latest live version, its bytes unchanged`, () => {
      const arb = historyArb(validNumbers, invalidNumbers).chain(history =>
        fc.record({ history: fc.constant(history), order: partialOrderArb(history.writes.length), rules: rulesArb }))
      fc.assert(fc.property(arb, ({ history, order, rules }) => {
        const delivered = order.map(i => history.writes[i]!)
        const merger = policy.bind({ field: FIELD }, bindContext(history.dcs, rules))
        const { state } = run(merger, delivered)
        const { live, tombstone } = referenceLive(delivered, accepts, rules)
        if (live.length === 0 && tombstone === undefined) return assert.equal(state, undefined)
        const resolved = merger.resolve(state)
        const expected = live.length === 0 ? tombstone! : live.reduce(better(sign))
        assert.deepEqual(resolved.value, expected.value)
        assert.deepEqual(plain(resolved.origin!), plain(expected.stamp))
        assert.deepEqual(resolved.sources.map(plain), [plain(expected.stamp)])
        assert.deepEqual(resolved.tombstone === undefined ? undefined : plain(resolved.tombstone), live.length === 0 ? plain(tombstone!.stamp) : undefined)
      }), { numRuns: 1000 })
    })

    test('reports a conflict for each live version of another DC within the window of an applied live write, with the preferred winner', () => {
      fc.assert(fc.property(lawCaseArb(validNumbers, invalidNumbers), ({ history, orders, rules }) => {
        const merger = policy.bind({ field: FIELD }, bindContext(history.dcs, rules))
        let state: unknown
        const seen: DocWrite[] = []
        for (const i of orders[0]!) {
          const w = history.writes[i]!
          seen.push(w)
          const r = merger.absorb(state, redeliver(w))
          if (r.outcome !== 'applied') continue
          state = r.state
          const { live } = referenceLive(seen, accepts, rules)
          const expected = !live.includes(w)
            ? []
            : live.filter(o => o.stamp.dc !== w.stamp.dc && Math.abs(o.stamp.ts - w.stamp.ts) < rules.conflictWindowMs).map(o => {
              const winner = better(sign)(o, w)
              return { winner: plain(winner.stamp), loser: plain((winner === w ? o : w).stamp) }
            })
          const got = r.conflicts.map(c => ({ winner: plain(c.winner.stamp), loser: plain(c.loser.stamp) }))
          const key = (c: { loser: Stamp }): string => c.loser.dc + c.loser.eventId
          assert.deepEqual(got.sort((a, b) => key(a) < key(b) ? -1 : 1), expected.sort((a, b) => key(a) < key(b) ? -1 : 1))
        }
      }), { numRuns: 300 })
    })
  })

  describe(`${name} choice`, () => {
    test('ties on the field go to the greater stamp, and 0 ties with -0', () => {
      for (const value of [2, 0]) {
        const a = price('eu', T, value)
        const b = price('us', T, value === 0 ? -0 : value)
        for (const writes of [[a, b], [b, a]]) assert.equal(winnerOf(resolveAll(bind(), writes)), 'us')
        const later = price('eu', T, value, 'z')
        assert.equal(winnerOf(resolveAll(bind(), [later, price('us', T - 1, value)])), 'eu')
        // Same ts and counter: dc byte order decides.
        assert.equal(winnerOf(resolveAll(bind(), [price('ap', T + 5, value), price('eu', T + 5, value)])), 'eu')
      }
    })

    test('passes the winner\'s bytes through unchanged, with its stamp as origin', () => {
      const lo = price('eu', T, 1)
      const hi = price('us', T - 5, 9)
      const r = resolveAll(bind(), [lo, hi, price('ap', T + 1, 5)])
      const winner = name === 'max' ? hi : lo
      assert.deepEqual(r.value, winner.value)
      assert.deepEqual(r.origin, winner.stamp)
      assert.deepEqual(r.sources, [winner.stamp])
    })

    test('chooses among each DC\'s latest version, not over all history', () => {
      const writes = [price('eu', T, 9), price('us', T + 1, 5), price('eu', T + 2, 2), price('ap', T + 3, -1)]
      assert.equal(winnerOf(resolveAll(bind(), writes)), name === 'max' ? 'us' : 'ap')
      assert.deepEqual((codecs.msgpack.decode(resolveAll(bind(), writes).value!) as { qty: number }).qty, name === 'max' ? 5 : -1)
    })

    test('works on JSON values', () => {
      const json = (dc: string, qty: number): Write => {
        const value = Buffer.from(`{ "qty": ${qty}, "by": "${dc}" }`)
        return { stamp: stamp(dc, T), value, decoded: JSON.parse(value.toString()) }
      }
      const r = resolveAll(bind(undefined, codecs.json), [json('eu', 1.5), json('us', -2)], codecs.json)
      assert.equal(r.value!.toString(), name === 'max' ? '{ "qty": 1.5, "by": "eu" }' : '{ "qty": -2, "by": "us" }')
    })
  })

  describe(`${name} deletes`, () => {
    test('an older delete arriving late still hides the other DCs\' older versions', () => {
      const writes = [price('eu', T, 100), price('us', T + 1, -100), del('ap', T + 2), price('ap', T + 3, 4)]
      for (const order of [writes, [writes[0]!, writes[1]!, writes[3]!, writes[2]!]]) {
        assert.equal(winnerOf(resolveAll(bind(), order)), 'ap')
      }
    })

    test('a later version after a delete revives the entity; under delete-wins only the window after it', () => {
      const writes = [price('eu', T, 3), del('us', T + 2)]
      const deleted = resolveAll(bind(), writes)
      assert.equal(deleted.value, null)
      assert.equal(deleted.tombstone?.dc, 'us')
      assert.equal(winnerOf(resolveAll(bind(), [...writes, price('eu', T + 3, 1)])), 'eu')
      const rules: Rules = { deleteRule: 'delete-wins', conflictWindowMs: 10_000 }
      assert.equal(resolveAll(bind(rules), [...writes, price('eu', T + 3, 1)]).value, null)
      assert.equal(winnerOf(resolveAll(bind(rules), [...writes, price('eu', T + 3, 1), price('ap', T + 10_002, 2)])), 'ap')
    })
  })

  describe(`${name} conflicts`, () => {
    test('two live versions of different DCs within the window make one conflict naming the winner', () => {
      const eu = price('eu', T, 3)
      const us = price('us', T + 100, 5)
      for (const [first, second] of [[eu, us], [us, eu]] as const) {
        const { conflicts } = run(bind(), [first, second])
        assert.equal(conflicts.length, 1)
        const [c] = conflicts
        const winner = name === 'max' ? us : eu
        assert.deepEqual(c!.winner.stamp, winner.stamp)
        assert.deepEqual(c!.loser.stamp, (winner === us ? eu : us).stamp)
        assert.equal(c!.field, undefined)
      }
    })

    test('none beyond the window, none within one DC, none against a deleted version', () => {
      assert.equal(run(bind(), [price('eu', T, 3), price('us', T + 10_000, 5)]).conflicts.length, 0)
      assert.equal(run(bind(), [price('eu', T, 3), price('eu', T + 1, 5)]).conflicts.length, 0)
      assert.equal(run(bind(), [price('eu', T, 3), del('eu', T + 1), price('us', T + 2, 5)]).conflicts.length, 0)
    })
  })

  describe(`${name} rejection and binding`, () => {
    const reasonFor = (value: unknown): string | undefined => {
      const r = bind().absorb(undefined, docWrite(stamp('eu', T), value))
      return r.outcome === 'rejected' ? r.reason : undefined
    }

    test('a field that is no finite number is rejected with a reason naming the field and what it got', () => {
      assert.equal(reasonFor({ qty: 'x' }), `${name} field "qty" must be a finite number, got "x"`)
      assert.match(reasonFor({ sku: 'a' })!, /"qty".*got nothing/)
      assert.match(reasonFor({ qty: NaN })!, /"qty".*got NaN/)
      assert.match(reasonFor({ qty: Infinity })!, /"qty".*got Infinity/)
      assert.match(reasonFor({ qty: [1] })!, /"qty".*got a list/)
      assert.match(reasonFor([1, 2])!, new RegExp(`${name} needs a map value with a number "qty", got a list`))
      assert.equal(reasonFor({ qty: 1.5 }), undefined)
    })

    test('refuses codec raw with a ConfigError naming the policy\'s key', () => {
      assert.throws(() => policy.bind({ field: FIELD }, bindContext(['eu', 'us'], undefined, codecs.raw)), (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.deepEqual(err.problems, [`"topics[0].policy" is ${name}, which reads values: it needs codec msgpack or json, got raw`])
        return true
      })
    })

    test('decodes values and shares the sibling state layout', () => {
      const merger = bind()
      assert.equal(merger.policy, name)
      assert.equal(merger.decodesValues, true)
      assert.equal(merger.stateFormat, 'siblings')
    })

    test('the options schema requires the field, by its key path', () => {
      const policies = new Map([['max', max], ['min', min]])
      const config = { dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:9092'] }, topics: [{ name: 'orders', policy: { type: name } }] }
      assert.throws(() => validateConfig(config, { policies }), (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.ok(err.problems.some(p => p.startsWith('"topics[0].policy.field" must be')), err.problems.join('\n'))
        return true
      })
    })

    test('in a state kept by lww before a switch, a version it cannot compare loses to every valid one', () => {
      const context = bindContext(['eu', 'us', 'ap'])
      const before = lww.bind({}, context)
      const { state } = run(before, [price('eu', T, 3), price('us', T + 1, 'many'), docWrite(stamp('ap', T + 2), [1])])
      const after = bind()
      assert.equal(winnerOf(after.resolve(after.decodeState(before.encodeState(state)))), 'eu')
    })
  })
}
