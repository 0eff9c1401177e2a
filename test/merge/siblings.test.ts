import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { absorb, type Outcome } from '../../src/merge/siblings.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import type { Version } from '../../src/model/version.ts'
import {
  asSet, comparable, fold, redeliver, referenceCompare, referenceSiblings, twoReplicasArb, writesArb, deliveriesArb
} from './arbitraries.ts'

const T = 1_700_000_000_000
const version = (ts: number, counter: number, dc: string, eventId: string, value: string | null): Version =>
  ({ stamp: { ts, counter, dc, eventId }, value: value === null ? null : Buffer.from(value) })

/** Writes plus one datacenter's deliveries of them. */
const scenarioArb = writesArb.chain(writes =>
  fc.record({ writes: fc.constant(writes), deliveries: deliveriesArb(writes) }))

/** A stamp of the same DC strictly below `s`: an earlier ts, a lower counter, or a shorter eventId. */
function olderStampArb (s: Stamp): fc.Arbitrary<Stamp> {
  const options: Array<fc.Arbitrary<Stamp>> = [
    fc.record({ ts: fc.integer({ min: 1, max: 5 }), counter: fc.nat({ max: 5 }), eventId: fc.constantFrom('e1', 'z') })
      .map(({ ts, counter, eventId }) => ({ ...s, ts: s.ts - ts, counter, eventId }))
  ]
  if (s.counter > 0) {
    options.push(fc.record({ counter: fc.nat({ max: s.counter - 1 }), eventId: fc.constantFrom('e1', 'z') })
      .map(({ counter, eventId }) => ({ ...s, counter, eventId })))
  }
  if (s.eventId.length > 0) options.push(fc.constant({ ...s, eventId: s.eventId.slice(0, -1) }))
  return fc.oneof(...options)
}

describe('absorb', () => {
  test('adds a version from a new DC, replaces an older one of the same DC, and keeps a newer one', () => {
    const a1 = version(T, 0, 'dc-a', 'e1', 'a1')
    const b1 = version(T, 0, 'dc-b', 'e1', 'b1')
    const a2 = version(T + 1, 0, 'dc-a', 'e2', 'a2')
    let r = absorb([], a1)
    assert.equal(r.outcome, 'applied')
    r = absorb(r.siblings, b1)
    assert.equal(r.outcome, 'applied')
    assert.deepEqual(asSet(r.siblings), asSet([a1, b1]))
    r = absorb(r.siblings, a2)
    assert.equal(r.outcome, 'applied')
    assert.deepEqual(asSet(r.siblings), asSet([a2, b1]))
    const held = r.siblings
    r = absorb(held, a1)
    assert.equal(r.outcome, 'stale')
    assert.equal(r.siblings, held)
    r = absorb(held, redeliver(a2))
    assert.equal(r.outcome, 'duplicate')
    assert.equal(r.siblings, held)
  })

  test('folding over any order and duplication of the same writes yields the same sibling set', () => {
    fc.assert(fc.property(twoReplicasArb, ({ a, b }) => {
      assert.deepEqual(asSet(fold(a)), asSet(fold(b)))
    }), { numRuns: 300 })
  })

  test('holds, for each DC, the max-stamp version delivered from that DC', () => {
    fc.assert(fc.property(scenarioArb, ({ deliveries }) => {
      assert.deepEqual(asSet(fold(deliveries)), asSet(referenceSiblings(deliveries)))
    }), { numRuns: 300 })
  })

  test('holds at most one sibling per DC after every step', () => {
    fc.assert(fc.property(scenarioArb, ({ deliveries }) => {
      let siblings: readonly Version[] = []
      const seen = new Set<string>()
      for (const v of deliveries) {
        siblings = absorb(siblings, v).siblings
        seen.add(v.stamp.dc)
        const dcs = siblings.map(s => s.stamp.dc)
        assert.equal(new Set(dcs).size, dcs.length, `two siblings share a DC: ${dcs.join(', ')}`)
        assert.deepEqual(new Set(dcs), seen)
      }
    }), { numRuns: 200 })
  })

  test('reports applied, stale or duplicate as a per-DC max would, and never changes its input array', () => {
    fc.assert(fc.property(scenarioArb, ({ deliveries }) => {
      let siblings: readonly Version[] = []
      for (const v of deliveries) {
        const held = siblings.find(s => s.stamp.dc === v.stamp.dc)
        const order = held === undefined ? 1 : referenceCompare(v.stamp, held.stamp)
        const expected: Outcome = order > 0 ? 'applied' : order === 0 ? 'duplicate' : 'stale'
        const before = asSet(siblings)
        const r = absorb(siblings, v)
        assert.equal(r.outcome, expected)
        assert.deepEqual(asSet(siblings), before, 'the input array was changed')
        if (expected === 'applied') {
          assert.notEqual(r.siblings, siblings, 'applied must return a new array')
          assert.ok(r.siblings.includes(v), 'applied must hold the incoming version')
        } else {
          assert.equal(r.siblings, siblings, `${expected} must return the same array instance`)
        }
        siblings = r.siblings
      }
    }), { numRuns: 200 })
  })

  test('is idempotent: absorbing a version already held returns duplicate and the same array instance', () => {
    fc.assert(fc.property(scenarioArb, fc.nat(), ({ deliveries }, pick) => {
      const siblings = fold(deliveries)
      const held = siblings[pick % siblings.length]!
      const before = asSet(siblings)
      for (const again of [held, redeliver(held)]) {
        const r = absorb(siblings, again)
        assert.equal(r.outcome, 'duplicate')
        assert.equal(r.siblings, siblings)
      }
      assert.deepEqual(asSet(siblings), before)
      assert.equal(fold(deliveries, siblings), siblings, 'replaying everything delivered changes nothing')
    }), { numRuns: 200 })
  })

  test('a version older than the held one of the same DC is stale and changes nothing', () => {
    const arb = scenarioArb.chain(({ deliveries }) => {
      const siblings = fold(deliveries)
      return fc.constantFrom(...siblings).chain(held => fc.record({
        siblings: fc.constant(siblings),
        older: fc.tuple(olderStampArb(held.stamp), fc.boolean())
          .map(([stamp, del]): Version => ({ stamp, value: del ? null : Buffer.from('older') }))
      }))
    })
    fc.assert(fc.property(arb, ({ siblings, older }) => {
      const held = siblings.find(s => s.stamp.dc === older.stamp.dc)!
      assert.ok(referenceCompare(older.stamp, held.stamp) < 0, 'generator must produce an older stamp')
      const before = siblings.map(comparable)
      const r = absorb(siblings, older)
      assert.equal(r.outcome, 'stale')
      assert.equal(r.siblings, siblings)
      assert.deepEqual(siblings.map(comparable), before)
    }), { numRuns: 300 })
  })
})
