import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import { lww } from '../../src/merge/lww.ts'
import { policies } from '../../src/merge/index.ts'
import { absorb } from '../../src/merge/siblings.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import { bindContext, lawCaseArb } from './doc-arbitraries.ts'
import type { Version } from '../../src/model/version.ts'
import {
  comparable, deliveriesArb, fold, redeliver, referenceMax, someDeliveriesArb, stampKey, twoReplicasArb, writesArb
} from './arbitraries.ts'

const T = 1_700_000_000_000
const merger = lww.bind({}, { dcs: [], deleteRule: 'lww', conflictWindowMs: 10_000, codec: codecs.raw, path: 'topics[0].policy', modules: new Map() })

/** The greatest delete among the siblings: the tombstone a sibling set built by `absorb` alone implies. */
const maxDelete = (siblings: readonly Version[]) => {
  const deletes = siblings.filter(s => s.value === null)
  return deletes.length === 0 ? undefined : referenceMax(deletes).stamp
}

/** The merged version of a sibling set, by the bound policy: its origin and value. */
const merge = (siblings: readonly Version[]): Version => {
  const r = merger.resolve({ siblings, tombstone: maxDelete(siblings) })
  return { stamp: r.origin!, value: r.value }
}
const version = (ts: number, counter: number, dc: string, eventId: string, value: string | null): Version =>
  ({ stamp: { ts, counter, dc, eventId }, value: value === null ? null : Buffer.from(value) })

/** The merged result of a delivery sequence at one datacenter: absorb each, then merge the siblings. */
const mergedAfter = (deliveries: readonly Version[], start: readonly Version[] = []): Version =>
  merge(fold(deliveries, start))

/** The merged value as bytes, or null for a delete. */
const valueOf = (v: Version): string | null => v.value === null ? null : v.value.toString()

const scenarioArb = writesArb.chain(writes =>
  fc.record({ writes: fc.constant(writes), deliveries: deliveriesArb(writes) }))

/** Three partial views (S, T, U) of the same writes, each the sibling set of some deliveries. */
const threeSetsArb = writesArb.chain(writes => fc.tuple(
  someDeliveriesArb(writes).map(d => fold(d)),
  someDeliveriesArb(writes).map(d => fold(d)),
  someDeliveriesArb(writes).map(d => fold(d))
))

/** Joins two sibling sets by absorbing every sibling of `b` into `a`. */
const join = (a: readonly Version[], b: readonly Version[]): readonly Version[] => fold(b, a)
const mergedOrNone = (siblings: readonly Version[]) => siblings.length === 0 ? 'none' : comparable(merge(siblings))

describe('lww registry', () => {
  test('maps lww to the last-write-wins policy, which never decodes values', () => {
    assert.equal(policies.get('lww'), lww)
    assert.equal(lww.name, 'lww')
    assert.equal(merger.decodesValues, false)
    assert.equal(merger.stateFormat, 'siblings')
  })
})

describe('lww merge', () => {
  test('two datacenters receiving the same writes in different orders, with duplicates, converge', () => {
    fc.assert(fc.property(twoReplicasArb, ({ writes, a, b }) => {
      const atA = mergedAfter(a)
      const atB = mergedAfter(b)
      assert.deepEqual(comparable(atA), comparable(atB))
      assert.deepEqual(comparable(atA), comparable(referenceMax(writes)))
    }), { numRuns: 300 })
  })

  test('datacenters that see their own writes first and remote ones late, then replayed, converge', () => {
    // Delays modelled as interleavings: each datacenter absorbs its local writes at once, the remote ones
    // later and in reverse, then everything again (a consumer rewind).
    fc.assert(fc.property(writesArb, writes => {
      const dcs = [...new Set(writes.map(w => w.stamp.dc))]
      const results = dcs.map(local => {
        const own = writes.filter(w => w.stamp.dc === local)
        const remote = writes.filter(w => w.stamp.dc !== local).reverse()
        return comparable(mergedAfter([...own, ...remote, ...writes].map(redeliver)))
      })
      for (const r of results) assert.deepEqual(r, comparable(referenceMax(writes)))
    }), { numRuns: 200 })
  })

  test('returns the max stamp of all versions ever delivered', () => {
    fc.assert(fc.property(scenarioArb, ({ deliveries }) => {
      assert.deepEqual(comparable(mergedAfter(deliveries)), comparable(referenceMax(deliveries)))
    }), { numRuns: 300 })
  })

  test('does not depend on the order of the sibling array', () => {
    const arb = writesArb.chain(writes => fc.record({
      siblings: fc.constant(writes),
      shuffled: fc.shuffledSubarray(writes, { minLength: writes.length, maxLength: writes.length })
    }))
    fc.assert(fc.property(arb, ({ siblings, shuffled }) => {
      assert.deepEqual(comparable(merge(shuffled)), comparable(merge(siblings)))
      assert.deepEqual(comparable(merge([...siblings].reverse())), comparable(merge(siblings)))
    }), { numRuns: 300 })
  })

  test('absorb then merge is commutative on single versions', () => {
    const arb = writesArb.chain(writes => fc.tuple(
      someDeliveriesArb(writes).map(d => fold(d)), fc.constantFrom(...writes), fc.constantFrom(...writes)))
    fc.assert(fc.property(arb, ([s, x, y]) => {
      const xy = absorb(absorb(s, redeliver(x)).siblings, redeliver(y)).siblings
      const yx = absorb(absorb(s, redeliver(y)).siblings, redeliver(x)).siblings
      assert.deepEqual(comparable(merge(xy)), comparable(merge(yx)))
    }), { numRuns: 300 })
  })

  test('joining sibling sets then merging is commutative', () => {
    fc.assert(fc.property(threeSetsArb, ([s, t]) => {
      assert.deepEqual(mergedOrNone(join(s, t)), mergedOrNone(join(t, s)))
    }), { numRuns: 300 })
  })

  test('joining sibling sets then merging is associative', () => {
    fc.assert(fc.property(threeSetsArb, ([s, t, u]) => {
      assert.deepEqual(mergedOrNone(join(join(s, t), u)), mergedOrNone(join(s, join(t, u))))
    }), { numRuns: 300 })
  })

  test('joining a sibling set with itself or absorbing a held version again is idempotent', () => {
    const arb = writesArb.chain(writes => fc.tuple(someDeliveriesArb(writes).map(d => fold(d)), fc.nat()))
    fc.assert(fc.property(arb, ([s, pick]) => {
      assert.equal(join(s, s.map(redeliver)), s)
      if (s.length === 0) return
      const held = s[pick % s.length]!
      assert.deepEqual(comparable(merge(absorb(s, redeliver(held)).siblings)), comparable(merge(s)))
    }), { numRuns: 300 })
  })

  test('an empty state resolves to no value and names no write', () => {
    assert.deepEqual(merger.resolve({ siblings: [], tombstone: undefined }), { value: null, origin: undefined, sources: [], tombstone: undefined })
  })
})

describe('lww laws under both delete rules', () => {
  test('any delivery order, with redelivery, converges; absorbing is idempotent and commutes; the state round-trips', () => {
    fc.assert(fc.property(lawCaseArb(fc.string(), fc.constant(undefined)), ({ history, orders, rules }) => {
      assert.deepEqual(lawViolations(lww.bind({}, bindContext(history.dcs, rules)), history.writes, orders), [])
    }), { numRuns: 1000 })
  })
})

describe('lww tie-break', () => {
  test('a later ts wins over a higher counter', () => {
    const older = version(T, 9, 'dc-z', 'e9', 'older')
    const newer = version(T + 1, 0, 'dc-a', 'e1', 'newer')
    assert.deepEqual(comparable(merge([older, newer])), comparable(newer))
    assert.deepEqual(comparable(merge([newer, older])), comparable(newer))
  })

  test('with the same ts, the higher counter wins whatever the dc and eventId', () => {
    const low = version(T, 1, 'dc-z', 'e9', 'low')
    const high = version(T, 2, 'dc-a', 'e1', 'high')
    assert.deepEqual(comparable(merge([low, high])), comparable(high))
    assert.deepEqual(comparable(merge([high, low])), comparable(high))
  })

  test('with the same ts and counter, dc byte order decides', () => {
    const a = version(T, 1, 'dc-a', 'e9', 'a')
    const b = version(T, 1, 'dc-b', 'e1', 'b')
    assert.deepEqual(comparable(merge([a, b])), comparable(b))
    assert.deepEqual(comparable(merge([b, a])), comparable(b))
    // UTF-8, not UTF-16: U+1D400 (a surrogate pair, 0xD835 first) sorts above U+FF21.
    const bmp = version(T, 1, 'dc-\uff21', 'e9', 'bmp')
    const astral = version(T, 1, 'dc-\u{1d400}', 'e1', 'astral')
    assert.deepEqual(comparable(merge([bmp, astral])), comparable(astral))
    assert.deepEqual(comparable(merge([astral, bmp])), comparable(astral))
    // A shorter dc that is a prefix of the other sorts first.
    assert.equal(merge([version(T, 1, 'dc-a-2', 'e1', 'x'), version(T, 1, 'dc-a', 'e9', 'y')]).stamp.dc, 'dc-a-2')
  })

  test('with the same ts, counter and dc, eventId decides', () => {
    const e1 = version(T, 1, 'dc-a', 'e1', 'e1')
    const e2 = version(T, 1, 'dc-a', 'e2', 'e2')
    assert.deepEqual(comparable(merge([e1, e2])), comparable(e2))
    assert.deepEqual(comparable(merge([e2, e1])), comparable(e2))
    assert.equal(valueOf(mergedAfter([e2, e1])), 'e2')
    assert.equal(valueOf(mergedAfter([e1, e2])), 'e2')
  })
})

describe('lww deletes', () => {
  const write = version(T, 0, 'dc-a', 'w1', 'v1')

  test('a delete newer than a write wins and the merged value is null', () => {
    const del = version(T + 1, 0, 'dc-b', 'd1', null)
    assert.equal(mergedAfter([write, del]).value, null)
    assert.equal(mergedAfter([del, write]).value, null)
    const sameDc = version(T + 1, 0, 'dc-a', 'd1', null)
    assert.equal(mergedAfter([write, sameDc]).value, null)
  })

  test('an older delete arriving late changes nothing', () => {
    const oldDelSameDc = version(T - 1, 0, 'dc-a', 'd0', null)
    const held = fold([write])
    const r = absorb(held, oldDelSameDc)
    assert.equal(r.outcome, 'stale')
    assert.deepEqual(comparable(merge(r.siblings)), comparable(write))
    const oldDelOtherDc = version(T - 1, 5, 'dc-z', 'd0', null)
    assert.deepEqual(comparable(mergedAfter([oldDelOtherDc], held)), comparable(write))
    assert.equal(valueOf(mergedAfter([oldDelOtherDc], held)), 'v1')
  })

  test('a newer write after a delete revives the entity', () => {
    const del = version(T + 1, 0, 'dc-b', 'd1', null)
    const revive = version(T + 2, 0, 'dc-a', 'w2', 'v2')
    assert.equal(valueOf(mergedAfter([write, del, revive])), 'v2')
    assert.equal(valueOf(mergedAfter([revive, del, write])), 'v2')
    const reviveSameDc = version(T + 2, 0, 'dc-b', 'w2', 'v2b')
    assert.equal(valueOf(mergedAfter([write, del, reviveSameDc])), 'v2b')
  })

  test('the merged value is null exactly when the latest write delivered is a delete', () => {
    fc.assert(fc.property(scenarioArb, ({ deliveries }) => {
      assert.equal(mergedAfter(deliveries).value === null, referenceMax(deliveries).value === null)
    }), { numRuns: 200 })
  })
})

describe('lww values', () => {
  const payloadArb = fc.tuple(fc.uint8Array({ maxLength: 48 }), fc.nat({ max: 8 }))
    .map(([bytes, offset]) => Buffer.concat([Buffer.alloc(offset, 0xff), bytes]).subarray(offset))

  test('returns the winner itself, with its value Buffer unchanged and not copied', () => {
    const arb = writesArb.chain(writes => fc.tuple(...writes.map(w => fc.option(payloadArb, { nil: null }).map(
      (value): Version => ({ stamp: w.stamp, value })))))
    fc.assert(fc.property(arb, versions => {
      const bytes = new Map(versions.map(v => [stampKey(v.stamp), v.value === null ? null : Buffer.from(v.value)]))
      const winner = merge(versions)
      const expected = referenceMax(versions)
      assert.deepEqual(comparable(winner), comparable(expected))
      assert.equal(winner.value, expected.value, 'the winner\'s value Buffer itself')
      assert.deepEqual(winner.value, bytes.get(stampKey(winner.stamp)))
      for (const v of versions) assert.deepEqual(v.value, bytes.get(stampKey(v.stamp)), 'merge changed a value')
    }), { numRuns: 200 })
  })
})
