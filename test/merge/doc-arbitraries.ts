/**
 * Generators and reference helpers for the policies that read a field of a map value (counter, max, min).
 *
 * A history is a set of writes with distinct stamps (a stamp names one write) from 2 to 5 DCs, drawn from the
 * small pools of arbitraries.ts so that equal timestamps, equal (ts, counter) pairs and ties on the field are
 * common. Values are msgpack maps carrying the field and a tag naming the write (so that a wrong document
 * shows in the bytes), about one in five is a delete, and some are invalid (a field that is no number of the
 * right kind, a missing field, a value that is no map), which the policy must reject. `decoded` is set as
 * the engine sets it: the codec's decoding of the bytes.
 */
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import type { BindContext, DeleteRule, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { dcsArb, referenceCompare, stampArb, stampKey } from './arbitraries.ts'

export const FIELD = 'qty'

/** Marks a map generated without the field. */
export const MISSING = Symbol('missing')

/** Values that are no map at all. */
export const NOT_MAPS: readonly unknown[] = [[1, 2], 'text', 42, null, Buffer.from('ab'), true]

export interface DocWrite extends Write { readonly stamp: Stamp }

/** A write of `doc` (msgpack), or a delete when doc is undefined. */
export function docWrite (stamp: Stamp, doc?: unknown): DocWrite {
  if (doc === undefined) return { stamp, value: null }
  const value = codecs.msgpack.encode(doc)
  return { stamp, value, decoded: codecs.msgpack.decode(value) }
}

/** A map with the field set to `v` (left out for MISSING) and a tag naming the write. */
export function docFor (stamp: Stamp, v: unknown): Record<string, unknown> {
  const tag = `${stamp.dc}|${stamp.ts}|${stamp.counter}|${stamp.eventId}`
  return v === MISSING ? { sku: 'a', tag } : { sku: 'a', [FIELD]: v, tag }
}

type Kind = { readonly kind: 'delete' } | { readonly kind: 'field', readonly v: unknown } | { readonly kind: 'other', readonly doc: unknown }

/** One write: a delete, a map with a valid field, a map with an invalid field, or a value that is no map. */
function writeArb (dcs: readonly string[], valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<DocWrite> {
  const kind: fc.Arbitrary<Kind> = fc.oneof(
    { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
    { weight: 6, arbitrary: valid.map(v => ({ kind: 'field' as const, v })) },
    { weight: 1, arbitrary: invalid.map(v => ({ kind: 'field' as const, v })) },
    { weight: 1, arbitrary: fc.constantFrom(...NOT_MAPS).map(doc => ({ kind: 'other' as const, doc })) }
  )
  return fc.tuple(stampArb(dcs), kind).map(([stamp, k]) => {
    if (k.kind === 'delete') return docWrite(stamp)
    return docWrite(stamp, k.kind === 'other' ? k.doc : docFor(stamp, k.v))
  })
}

export interface History {
  readonly dcs: readonly string[]
  readonly writes: readonly DocWrite[]
}

/** 1 to 12 writes with distinct stamps from one set of 2 to 5 DCs. */
export function historyArb (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<History> {
  return dcsArb.chain(dcs => fc.uniqueArray(writeArb(dcs, valid, invalid), {
    selector: w => stampKey(w.stamp), minLength: 1, maxLength: 12
  }).map(writes => ({ dcs, writes })))
}

/** One DC's delivery order: every index of `n` writes 1 to 3 times, shuffled. */
export function orderArb (n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }).chain(counts => {
    const all = counts.flatMap((c, i) => Array.from({ length: c }, () => i))
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
  })
}

/** Any multiset of the indices of `n` writes (some possibly never delivered), in any order. */
export function partialOrderArb (n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.nat({ max: n - 1 }), { maxLength: 2 * n })
}

/** How a topic deletes and how wide its conflict window is: narrow windows make delete-wins bite on the pools. */
export interface Rules { readonly deleteRule: DeleteRule, readonly conflictWindowMs: number }
export const rulesArb: fc.Arbitrary<Rules> = fc.record({
  deleteRule: fc.constantFrom<DeleteRule>('lww', 'delete-wins'),
  conflictWindowMs: fc.constantFrom(0, 1, 2, 10_000)
})

/** A history, two or three delivery orders of it (each with redelivery), and the topic's rules. */
export function lawCaseArb (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<{ history: History, orders: number[][], rules: Rules }> {
  return historyArb(valid, invalid).chain(history => fc.record({
    history: fc.constant(history),
    orders: fc.array(orderArb(history.writes.length), { minLength: 2, maxLength: 3 }),
    rules: rulesArb
  }))
}

export function bindContext (dcs: readonly string[], rules: Rules = { deleteRule: 'lww', conflictWindowMs: 10_000 }, codec = codecs.msgpack): BindContext {
  return { dcs, ...rules, codec, path: 'topics[0].policy', modules: new Map() }
}

/** A redelivered copy: equal content, new objects, the decoded value decoded again. */
export function redeliver (w: Write, codec: Codec = codecs.msgpack): Write {
  if (w.value === null) return { stamp: { ...w.stamp }, value: null }
  const value = Buffer.from(w.value)
  return { stamp: { ...w.stamp }, value, decoded: codec.decode(value) }
}

/**
 * The expected merge inputs, computed independently of src/merge: the accepted writes (`accepts` says which),
 * each DC's max-stamp accepted write, the max-stamp delete overall (the tombstone), and the live versions: DC
 * latest versions that are no delete, newer than the tombstone, and under delete-wins made at least the
 * window after it.
 */
export function referenceLive (delivered: readonly DocWrite[], accepts: (w: DocWrite) => boolean, rules: Rules): { live: DocWrite[], tombstone: DocWrite | undefined } {
  const byDc = new Map<string, DocWrite>()
  let tombstone: DocWrite | undefined
  for (const w of delivered) {
    if (w.value !== null && !accepts(w)) continue
    const held = byDc.get(w.stamp.dc)
    if (held === undefined || referenceCompare(w.stamp, held.stamp) > 0) byDc.set(w.stamp.dc, w)
    if (w.value === null && (tombstone === undefined || referenceCompare(w.stamp, tombstone.stamp) > 0)) tombstone = w
  }
  const live = [...byDc.values()].filter(w => {
    if (w.value === null) return false
    if (tombstone === undefined) return true
    if (referenceCompare(w.stamp, tombstone.stamp) <= 0) return false
    return rules.deleteRule === 'lww' || w.stamp.ts - tombstone.stamp.ts >= rules.conflictWindowMs
  })
  return { live, tombstone }
}

/** The field of an accepted write's decoded map. */
export function fieldOf (w: Write): unknown {
  return (w.decoded as Record<string, unknown>)[FIELD]
}

/** Whether a decoded value is a map in the sense of msgpack and JSON: a plain object. */
export function isPlainMap (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype
}

/** A stamp as plain data for deepStrictEqual. */
export function plain (s: Stamp): Stamp {
  return { ts: s.ts, counter: s.counter, dc: s.dc, eventId: s.eventId }
}
