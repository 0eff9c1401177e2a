/**
 * Generators and reference helpers for the policies over the shared sibling state that read values
 * (union) or rank DCs (dc-priority), on top of arbitraries.ts.
 *
 * Timestamps: TS_POOL (equal ts common) plus two times one conflict window after its first, so that under
 * delete-wins some writes after a delete stay hidden (within the window) and some revive (exactly at the
 * window, and one ms beyond), and conflicts are checked on both sides of the window's edge.
 * Values are msgpack maps carrying their stamp, so a wrong base map or winner shows in the bytes; the
 * decoded value is set on the write as the engine does, and deeply frozen, so a policy that changes what it
 * is given throws.
 */
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import type { DeleteRule, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { COUNTER_POOL, EVENT_POOL, TS_POOL, dcsArb, referenceCompare, stampKey } from './arbitraries.ts'

export const WINDOW_MS = 10_000
const T0 = TS_POOL[0]!
export const WIDE_TS_POOL: readonly number[] = [...TS_POOL, T0 + WINDOW_MS, T0 + WINDOW_MS + 1]

export function wideStampArb (dcs: readonly string[]): fc.Arbitrary<Stamp> {
  return fc.record({
    ts: fc.constantFrom(...WIDE_TS_POOL),
    counter: fc.constantFrom(...COUNTER_POOL),
    dc: fc.constantFrom(...dcs),
    eventId: fc.constantFrom(...EVENT_POOL)
  })
}

/**
 * Set elements: few, so that sets overlap. `1` and `'1'` differ by encoding, and so do `[1, 2]` and
 * `[2, 1]`, and the two maps with the same entries in another key order.
 */
export const ELEMENT_POOL: readonly unknown[] = [1, 2, 300, -1, 1.5, '1', 'a', 'b', null, true, [1, 2], [2, 1], { k: 1 }, { k: 1, j: 2 }, { j: 2, k: 1 }]

/** Values that union must reject with `field: tags`: no map, or `tags` no list. */
export const NOT_SETS: readonly unknown[] = ['tags', 7, null, ['a'], { tags: 'a' }, { tags: { 0: 'a' } }, { other: ['a'] }, { tags: null }]

export function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const child of Object.values(v)) deepFreeze(child)
  }
  return v
}

/** A write of a value, as the engine hands it over when the policy decodes: bytes and the decoded value. */
export function decodedWrite (stamp: Stamp, document: unknown): Write {
  const value = codecs.msgpack.encode(document)
  return { stamp, value, decoded: deepFreeze(codecs.msgpack.decode(value)) }
}

export const deleteOf = (stamp: Stamp): Write => ({ stamp, value: null })

export interface SetCase {
  readonly write: Write
  readonly kind: 'set' | 'invalid' | 'delete'
  /** The elements of a set write, as generated (empty for the others). */
  readonly set: readonly unknown[]
}

/** A union write (`field: tags`): a set (eight in ten; the map also names its stamp), a value to reject, or a delete. */
export function setCaseArb (dcs: readonly string[]): fc.Arbitrary<SetCase> {
  return fc.tuple(wideStampArb(dcs), fc.integer({ min: 0, max: 9 }), fc.array(fc.constantFrom(...ELEMENT_POOL), { maxLength: 5 }),
    fc.constantFrom(...NOT_SETS))
    .map(([stamp, d, set, bad]): SetCase => {
      if (d === 0) return { write: deleteOf(stamp), kind: 'delete', set: [] }
      if (d === 1) return { write: decodedWrite(stamp, bad), kind: 'invalid', set: [] }
      return { write: decodedWrite(stamp, { tags: set, at: stampKey(stamp) }), kind: 'set', set }
    })
}

/** A dc-priority write: a map naming its stamp, or (one in five) a delete; decoded or not (the engine decodes only for value timestamps). */
export function priorityWriteArb (dcs: readonly string[]): fc.Arbitrary<Write> {
  return fc.tuple(wideStampArb(dcs), fc.integer({ min: 0, max: 4 }), fc.boolean()).map(([stamp, d, decode]) => {
    if (d === 0) return deleteOf(stamp)
    const w = decodedWrite(stamp, { at: stampKey(stamp) })
    return decode ? w : { stamp, value: w.value }
  })
}

/** One delivery order of n writes: every index 1 to 3 times, shuffled (redelivery, replay, reordering). */
export function orderArb (n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n })
    .chain(counts => {
      const all = counts.flatMap((c, i) => Array.from({ length: c }, () => i))
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
    })
}

export interface History<C> {
  readonly dcs: string[]
  readonly deleteRule: DeleteRule
  readonly cases: C[]
  /** Two to four delivery orders of the cases, as indexes. */
  readonly orders: number[][]
}

/** 1 to 12 cases with distinct stamps from 2 to 5 DCs, a delete rule, and several delivery orders. */
export function historyArb<C> (caseArb: (dcs: readonly string[]) => fc.Arbitrary<C>, stampOf: (c: C) => Stamp): fc.Arbitrary<History<C>> {
  return dcsArb.chain(dcs => fc.record({
    dcs: fc.constant(dcs),
    deleteRule: fc.constantFrom<DeleteRule>('lww', 'delete-wins'),
    cases: fc.uniqueArray(caseArb(dcs), { selector: c => stampKey(stampOf(c)), minLength: 1, maxLength: 12 })
  })).chain(h => fc.record({
    dcs: fc.constant(h.dcs),
    deleteRule: fc.constant(h.deleteRule),
    cases: fc.constant(h.cases),
    orders: fc.array(orderArb(h.cases.length), { minLength: 2, maxLength: 4 })
  }))
}

/**
 * The live versions written independently of src/merge: per DC its max-stamp write (deletes included),
 * the max-stamp delete overall, and the per-DC writes that are no deletes and newer than it (under
 * delete-wins, also made at least the window after it).
 */
export function referenceLive (writes: readonly Write[], deleteRule: DeleteRule, windowMs: number): { live: Write[], tombstone: Stamp | undefined } {
  const latest = new Map<string, Write>()
  let tombstone: Stamp | undefined
  for (const w of writes) {
    const held = latest.get(w.stamp.dc)
    if (held === undefined || referenceCompare(w.stamp, held.stamp) > 0) latest.set(w.stamp.dc, w)
    if (w.value === null && (tombstone === undefined || referenceCompare(w.stamp, tombstone) > 0)) tombstone = w.stamp
  }
  const live = [...latest.values()].filter(w => w.value !== null && (tombstone === undefined ||
    (referenceCompare(w.stamp, tombstone) > 0 && (deleteRule === 'lww' || w.stamp.ts >= tombstone.ts + windowMs))))
  return { live, tombstone }
}
