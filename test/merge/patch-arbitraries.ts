/**
 * Generators for the field-level policies: histories of patches (maps of top-level fields), record deletes
 * and invalid values, and their delivery orders.
 *
 * Pools are small on purpose, as in arbitraries.ts (whose DC, counter and event-id pools are reused): five
 * field names (two whose order differs between UTF-16 and UTF-8, and a prefix of another), a handful of
 * values with null (a field delete) and equal values from different writes. Timestamps sit around the
 * 10 s conflict window used by the tests: 0, 1 and 2 ms, then 9,999, 10,000 and 10,001 ms after the first,
 * so that writes within the window, exactly at its edge and past it are all common.
 */
import fc from 'fast-check'
import type { Codec } from '../../src/codec/value-codec.ts'
import type { Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { COUNTER_POOL, dcsArb, EVENT_POOL, stampKey, TS_POOL } from './arbitraries.ts'

export const WINDOW_MS = 10_000
const T0 = TS_POOL[0]!
export const PATCH_TS_POOL: readonly number[] = [...TS_POOL, T0 + WINDOW_MS - 1, T0 + WINDOW_MS, T0 + WINDOW_MS + 1]
export const FIELD_POOL: readonly string[] = ['a', 'b', 'ab', 'f-\uFF21', 'f-\u{1D400}']
/** Field values; null deletes the field. */
export const VALUE_POOL: readonly unknown[] = [null, 1, 2, 'x', [1, 2], { n: 1 }]
/** Values that are no map: a patch must be one. */
export const INVALID_POOL: readonly unknown[] = [7, 'text', [1, 2], null, Buffer.from('ab')]

/** What a generated write carries before it is encoded. */
export type Body =
  | { readonly kind: 'patch', readonly fields: ReadonlyArray<readonly [string, unknown]> }
  | { readonly kind: 'delete' }
  | { readonly kind: 'invalid', readonly value: unknown }

export interface Generated {
  readonly stamp: Stamp
  readonly body: Body
}

export function patchStampArb (dcs: readonly string[]): fc.Arbitrary<Stamp> {
  return fc.record({
    ts: fc.constantFrom(...PATCH_TS_POOL),
    counter: fc.constantFrom(...COUNTER_POOL),
    dc: fc.constantFrom(...dcs),
    eventId: fc.constantFrom(...EVENT_POOL)
  })
}

/** 0 to 5 fields in any key order, each with a value from the pool. */
export const fieldsArb: fc.Arbitrary<Array<readonly [string, unknown]>> =
  fc.shuffledSubarray([...FIELD_POOL]).chain(names =>
    fc.tuple(...names.map(() => fc.constantFrom(...VALUE_POOL))).map(values => names.map((n, i) => [n, values[i]] as const)))

/** About 7 in 10 writes are patches, 2 in 10 record deletes, 1 in 10 invalid. */
export const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 7, arbitrary: fieldsArb.map((fields): Body => ({ kind: 'patch', fields })) },
  { weight: 2, arbitrary: fc.constant<Body>({ kind: 'delete' }) },
  { weight: 1, arbitrary: fc.constantFrom(...INVALID_POOL).map((value): Body => ({ kind: 'invalid', value })) }
)

/** 1 to 12 writes with distinct stamps, from one set of 2 to 5 writer DCs. */
export const generatedArb: fc.Arbitrary<Generated[]> = dcsArb.chain(dcs =>
  fc.uniqueArray(fc.record({ stamp: patchStampArb(dcs), body: bodyArb }), { selector: g => stampKey(g.stamp), minLength: 1, maxLength: 12 }))

/** Delivery orders for lawViolations: 2 or 3, each delivering every write 1 to 3 times, shuffled. */
export function ordersArb (count: number): fc.Arbitrary<number[][]> {
  const one = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: count, maxLength: count }).chain(times => {
    const all = times.flatMap((t, i) => Array.from({ length: t }, () => i))
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
  })
  return fc.array(one, { minLength: 2, maxLength: 3 })
}

export const historyArb: fc.Arbitrary<{ generated: Generated[], orders: number[][] }> = generatedArb.chain(generated =>
  fc.record({ generated: fc.constant(generated), orders: ordersArb(generated.length) }))

/**
 * Histories in which every pair of entries of different DCs of one field is held together in every DC once
 * both arrived: no record deletes (which drop entries) and no DC setting a field twice (which replaces its
 * entry). A field a DC already set is left out of its later patches.
 */
export const heldTogetherHistoryArb: fc.Arbitrary<{ generated: Generated[], orders: number[][] }> = generatedArb.map(generated => {
  const setBy = new Set<string>()
  return generated.filter(g => g.body.kind !== 'delete').map((g): Generated => {
    if (g.body.kind !== 'patch') return g
    const fields = g.body.fields.filter(([name]) => !setBy.has(`${g.stamp.dc}\u0000${name}`))
    for (const [name] of fields) setBy.add(`${g.stamp.dc}\u0000${name}`)
    return { stamp: g.stamp, body: { kind: 'patch', fields } }
  })
}).chain(generated => fc.record({ generated: fc.constant(generated), orders: ordersArb(generated.length) }))

/** The write the engine would pass: the value encoded with the codec and, unless a delete, decoded again. */
export function toWrite (g: Generated, codec: Codec): Write {
  if (g.body.kind === 'delete') return { stamp: g.stamp, value: null }
  const value = codec.encode(g.body.kind === 'patch' ? Object.fromEntries(g.body.fields) : g.body.value)
  return { stamp: g.stamp, value, decoded: codec.decode(value) }
}
