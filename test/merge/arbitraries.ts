/**
 * Generators and reference helpers shared by the merge tests.
 *
 * Pools are small on purpose: with three timestamps, three counters and three event ids per writer DC, equal
 * timestamps, equal (ts, counter) pairs and exact redeliveries are common, which is where merge bugs hide.
 * Two DC names put U+FF21 against U+1D400, whose order differs between UTF-16 and UTF-8, and `dc` is a prefix
 * of other names.
 *
 * A write is identified by its stamp (event ids are unique per write), so a generated scenario never holds two
 * writes with the same stamp and different values; redelivery repeats a write, as a freshly decoded copy.
 */
import fc from 'fast-check'
import type { Stamp } from '../../src/model/stamp.ts'
import type { Version } from '../../src/model/version.ts'
import { absorb } from '../../src/merge/siblings.ts'

export const DC_POOL: readonly string[] = ['eu-west', 'us-east', 'ap-south', 'dc-\uFF21', 'dc-\u{1D400}', 'dc']
export const TS_POOL: readonly number[] = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]
export const COUNTER_POOL: readonly number[] = [0, 1, 2]
export const EVENT_POOL: readonly string[] = ['e1', 'e2', 'e\u00e9']

/** The writer DCs of one scenario: 2 to 5 names from DC_POOL. */
export const dcsArb: fc.Arbitrary<string[]> = fc.shuffledSubarray([...DC_POOL], { minLength: 2, maxLength: 5 })

export function stampArb (dcs: readonly string[]): fc.Arbitrary<Stamp> {
  return fc.record({
    ts: fc.constantFrom(...TS_POOL),
    counter: fc.constantFrom(...COUNTER_POOL),
    dc: fc.constantFrom(...dcs),
    eventId: fc.constantFrom(...EVENT_POOL)
  })
}

/** The value bytes of a write, distinct per stamp so that a wrong winner shows in the bytes too. */
export function valueFor (stamp: Stamp): Buffer {
  return Buffer.from(`${stamp.dc}|${stamp.ts}|${stamp.counter}|${stamp.eventId}`)
}

/** One write; about one in four is a delete (null value). */
export function writeArb (dcs: readonly string[]): fc.Arbitrary<Version> {
  return fc.tuple(stampArb(dcs), fc.integer({ min: 0, max: 3 }))
    .map(([stamp, d]) => ({ stamp, value: d === 0 ? null : valueFor(stamp) }))
}

export function stampKey (s: Stamp): string {
  return JSON.stringify([s.ts, s.counter, s.dc, s.eventId])
}

/** 1 to 12 writes with distinct stamps, from one set of 2 to 5 writer DCs. */
export const writesArb: fc.Arbitrary<Version[]> = dcsArb.chain(dcs =>
  fc.uniqueArray(writeArb(dcs), { selector: w => stampKey(w.stamp), minLength: 1, maxLength: 12 }))

/** A copy as a consumer would decode it from a redelivered record: equal content, new objects. */
export function redeliver (v: Version): Version {
  return { stamp: { ...v.stamp }, value: v.value === null ? null : Buffer.from(v.value) }
}

/** One datacenter's input: every write delivered 1 to 3 times, in any order (delays and replays). */
export function deliveriesArb (writes: readonly Version[]): fc.Arbitrary<Version[]> {
  return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: writes.length, maxLength: writes.length })
    .chain(counts => {
      const all = writes.flatMap((w, i) => Array.from({ length: counts[i] ?? 1 }, () => w))
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
    })
    .map(list => list.map(redeliver))
}

/** Any multiset of the writes (possibly empty, possibly missing some), in any order. */
export function someDeliveriesArb (writes: readonly Version[]): fc.Arbitrary<Version[]> {
  return fc.array(fc.constantFrom(...writes), { maxLength: 2 * writes.length }).map(list => list.map(redeliver))
}

/** The same writes reaching two datacenters with different duplication and order. */
export const twoReplicasArb: fc.Arbitrary<{ writes: Version[], a: Version[], b: Version[] }> = writesArb.chain(writes =>
  fc.record({ writes: fc.constant(writes), a: deliveriesArb(writes), b: deliveriesArb(writes) }))

/** Folds `absorb` over the deliveries, starting from `start`. */
export function fold (deliveries: readonly Version[], start: readonly Version[] = []): readonly Version[] {
  return deliveries.reduce((siblings, v) => absorb(siblings, v).siblings, start)
}

/**
 * The stamp order written independently of src/model/stamp.ts: (ts, counter, dc, eventId), strings by the
 * bytes of their UTF-8 encoding. Valid for well-formed strings only.
 */
export function referenceCompare (a: Stamp, b: Stamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  return Buffer.compare(Buffer.from(a.dc), Buffer.from(b.dc)) ||
    Buffer.compare(Buffer.from(a.eventId), Buffer.from(b.eventId))
}

export function sign (n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}

/** The max-stamp version of a non-empty list, by referenceCompare. */
export function referenceMax (versions: readonly Version[]): Version {
  let best = versions[0]
  if (best === undefined) throw new TypeError('referenceMax needs at least one version')
  for (const v of versions) if (referenceCompare(v.stamp, best.stamp) > 0) best = v
  return best
}

/** The sibling set that should result from the deliveries: the max-stamp version per writer DC. */
export function referenceSiblings (deliveries: readonly Version[]): Version[] {
  const byDc = new Map<string, Version>()
  for (const v of deliveries) {
    const held = byDc.get(v.stamp.dc)
    if (held === undefined || referenceCompare(v.stamp, held.stamp) > 0) byDc.set(v.stamp.dc, v)
  }
  return [...byDc.values()]
}

export interface Comparable {
  readonly stamp: { readonly ts: number, readonly counter: number, readonly dc: string, readonly eventId: string }
  readonly value: string | null
}

/** A plain form of one version for deepStrictEqual: stamp fields and value bytes as hex. */
export function comparable (v: Version): Comparable {
  const { ts, counter, dc, eventId } = v.stamp
  return { stamp: { ts, counter, dc, eventId }, value: v.value === null ? null : v.value.toString('hex') }
}

/** A sibling array as a set: order-free, keyed by writer DC. */
export function asSet (siblings: readonly Version[]): Comparable[] {
  return siblings.map(comparable)
    .sort((x, y) => Buffer.compare(Buffer.from(x.stamp.dc), Buffer.from(y.stamp.dc)))
}
