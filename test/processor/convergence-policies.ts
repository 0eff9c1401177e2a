/**
 * The policies of the two-engine convergence test (convergence.test.ts): for each, how the test configures it,
 * the values its writes carry (valid ones, and ones it must reject), and an oracle that says what the writes
 * resolve to and which conflicts two concurrent writes make. The oracles work from the set of accepted writes
 * alone, with the reference helpers of test/merge/ where they fit, never with concord's merge code; the codec
 * is used only to encode and decode values, as a producer and a consumer would.
 */
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import type { DeleteRule, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { referenceCompare } from '../merge/arbitraries.ts'
import { NOT_MAPS } from '../merge/doc-arbitraries.ts'
import { fieldsArb, INVALID_POOL } from '../merge/patch-arbitraries.ts'
import { ELEMENT_POOL, NOT_SETS, referenceLive } from '../merge/set-arbitraries.ts'

export type Dc = 'dc1' | 'dc2'

/** What a generated write is: a valid value, a delete, a value the policy rejects, or bytes that are no msgpack. */
export type Kind = 'value' | 'delete' | 'rejected' | 'garbage'

/** One generated write, shaped as the engine hands it to a policy (`decoded` set for msgpack values). */
export interface GenWrite extends Write {
  readonly entity: string
  readonly kind: Kind
}

export interface Rules { readonly deleteRule: DeleteRule, readonly conflictWindowMs: number }

/** What an entity should resolve to. */
export type Expected =
  /** No state at all: no write was accepted (or none that changes anything). */
  | { readonly kind: 'absent' }
  | { readonly kind: 'deleted' }
  /** Exact bytes: a value passed through, or a built one whose decoding would lose precision. */
  | { readonly kind: 'bytes', readonly bytes: Buffer }
  /** A built value, as it decodes (keys in this order). */
  | { readonly kind: 'doc', readonly doc: Record<string, unknown> }

export interface ConflictSide { readonly stamp: Stamp, readonly value: Buffer }
export interface ExpectedConflict { readonly field?: string, readonly winner: ConflictSide, readonly loser: ConflictSide }

export interface PolicyCase {
  /** The policy's name, as conflict records carry it. */
  readonly name: string
  /** `topics[].policy` in the configuration. */
  readonly policy: unknown
  /** Valid values, given a tag naming the write (so that a wrong winner shows in the bytes). */
  readonly valueArb: fc.Arbitrary<(tag: string) => unknown>
  /** Decodable values the policy must dead-letter; undefined for policies that never read values. */
  readonly rejectedArb: fc.Arbitrary<unknown> | undefined
  /** What one entity's accepted writes (valid values and deletes) resolve to. */
  readonly resolve: (accepted: readonly GenWrite[], rules: Rules) => Expected
  /** For the policies that choose: the conflicts of two live values of different DCs within the window. */
  readonly conflicts: ((a: GenWrite, b: GenWrite) => ExpectedConflict[]) | undefined
}

const field = (w: Write, name: string): unknown => (w.decoded as Record<string, unknown>)[name]
const greatestStamp = <W extends Write>(ws: readonly W[]): W => ws.reduce((a, b) => referenceCompare(a.stamp, b.stamp) >= 0 ? a : b)
const side = (w: Write): ConflictSide => ({ stamp: w.stamp, value: w.value! })
const chosen = (winner: Write, a: Write, b: Write): ExpectedConflict[] => [{ winner: side(winner), loser: side(winner === a ? b : a) }]

/**
 * The sibling policies' oracle frame: the live versions by the reference of test/merge/set-arbitraries.ts
 * (each DC's latest accepted write, newer than the greatest delete, under delete-wins also the window after
 * it); no accepted write is no state, no live version a deleted entity.
 */
function siblings (pick: (live: readonly GenWrite[]) => Expected) {
  return (accepted: readonly GenWrite[], rules: Rules): Expected => {
    if (accepted.length === 0) return { kind: 'absent' }
    const { live } = referenceLive(accepted, rules.deleteRule, rules.conflictWindowMs)
    return live.length === 0 ? { kind: 'deleted' } : pick(live as GenWrite[])
  }
}

const passThrough = (w: Write): Expected => ({ kind: 'bytes', bytes: w.value! })

const plainValues: fc.Arbitrary<(tag: string) => unknown> = fc.constantFrom(
  (tag: string) => ({ at: tag }), (tag: string) => tag, (tag: string) => [tag, 1, null])

/** max and min: the live version with the greatest (sign 1) or smallest (sign -1) rank, ties (0 and -0 too) to the greater stamp. */
function extremum (name: 'max' | 'min', sign: 1 | -1): PolicyCase {
  const better = (a: GenWrite, b: GenWrite): GenWrite => {
    const x = field(a, 'rank') as number
    const y = field(b, 'rank') as number
    if (x !== y) return sign * (x - y) > 0 ? a : b
    return referenceCompare(a.stamp, b.stamp) > 0 ? a : b
  }
  return {
    name,
    policy: { type: name, field: 'rank' },
    valueArb: fc.constantFrom(1, 2, 0, -0, 1.5, -3).map(rank => (tag: string) => ({ rank, at: tag })),
    rejectedArb: fc.oneof(fc.constantFrom('x', NaN, Infinity, null, [1]).map(rank => ({ rank })), fc.constant({ at: 'no rank' }), fc.constantFrom(...NOT_MAPS)),
    resolve: siblings(live => passThrough(live.reduce(better))),
    conflicts: (a, b) => chosen(better(a, b), a, b)
  }
}

const BIG = 2 ** 53 - 1

const counter: PolicyCase = {
  name: 'counter',
  policy: { type: 'counter', field: 'qty' },
  valueArb: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(0, 1, 2, 5, -3, -0) }, { weight: 1, arbitrary: fc.constant(BIG) })
    .map(qty => (tag: string) => ({ sku: 'a', qty, at: tag })),
  rejectedArb: fc.oneof(fc.constantFrom(1.5, 'x', 2 ** 53, NaN, null).map(qty => ({ sku: 'a', qty })), fc.constant({ sku: 'a' }), fc.constantFrom(...NOT_MAPS)),
  // The sum of each DC's latest live total, in the document of the greatest live stamp, the field in its place.
  resolve: siblings(live => {
    const sum = live.reduce((s, w) => s + BigInt(field(w, 'qty') as number), 0n)
    const top = greatestStamp(live).decoded as Record<string, unknown>
    if (sum >= -BigInt(BIG) && sum <= BigInt(BIG)) return { kind: 'doc', doc: { ...top, qty: Number(sum) } }
    // msgpack decodes an int64 into a lossy number: compare the bytes of the exact document instead.
    return { kind: 'bytes', bytes: codecs.msgpack.encode({ ...top, qty: sum }) }
  }),
  conflicts: undefined
}

const elementKey = (e: unknown): Buffer => codecs.msgpack.encode(e)

const union: PolicyCase = {
  name: 'union',
  policy: { type: 'union', field: 'tags' },
  valueArb: fc.array(fc.constantFrom(...ELEMENT_POOL), { maxLength: 4 }).map(tags => (tag: string) => ({ tags, at: tag })),
  rejectedArb: fc.constantFrom(...NOT_SETS),
  // Every live set's elements, one per encoding, in byte order, in the document of the greatest live stamp.
  resolve: siblings(live => {
    const elements = new Map<string, unknown>()
    for (const w of live) for (const e of field(w, 'tags') as unknown[]) elements.set(elementKey(e).toString('hex'), e)
    const tags = [...elements.values()].sort((a, b) => Buffer.compare(elementKey(a), elementKey(b)))
    return { kind: 'doc', doc: { ...(greatestStamp(live).decoded as Record<string, unknown>), tags } }
  }),
  conflicts: undefined
}

const PRIORITY: readonly Dc[] = ['dc2', 'dc1']
const rank = (w: Write): number => PRIORITY.indexOf(w.stamp.dc as Dc)

const dcPriority: PolicyCase = {
  name: 'dc-priority',
  policy: { type: 'dc-priority', order: PRIORITY },
  valueArb: plainValues,
  rejectedArb: undefined,
  resolve: siblings(live => passThrough([...live].sort((a, b) => rank(a) - rank(b))[0]!)),
  conflicts: (a, b) => chosen(rank(a) < rank(b) ? a : b, a, b)
}

const lww: PolicyCase = {
  name: 'lww',
  policy: 'lww',
  valueArb: plainValues,
  rejectedArb: undefined,
  resolve: siblings(live => passThrough(greatestStamp(live))),
  conflicts: (a, b) => chosen(greatestStamp([a, b]), a, b)
}

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * lww-fields: the greatest record delete; per field, the greatest patch setting it (null included) that the
 * delete does not kill (not newer, or under delete-wins within the window after it); the document of the
 * fields with a value, keys in UTF-8 byte order; deleted when a delete left no field; no state when no
 * field was ever set and nothing deleted.
 */
const lwwFields: PolicyCase = {
  name: 'lww-fields',
  policy: 'lww-fields',
  valueArb: fieldsArb.map(fields => () => Object.fromEntries(fields)),
  rejectedArb: fc.constantFrom(...INVALID_POOL),
  resolve: (accepted, rules) => {
    let tomb: Stamp | undefined
    for (const w of accepted) if (w.value === null && (tomb === undefined || referenceCompare(w.stamp, tomb) > 0)) tomb = w.stamp
    const killed = (s: Stamp): boolean => tomb !== undefined &&
      (referenceCompare(s, tomb) <= 0 || (rules.deleteRule === 'delete-wins' && s.ts - tomb.ts < rules.conflictWindowMs))
    const best = new Map<string, { stamp: Stamp, value: unknown }>()
    for (const w of accepted) {
      if (w.value === null || killed(w.stamp)) continue
      for (const [name, value] of Object.entries(w.decoded as Record<string, unknown>)) {
        const held = best.get(name)
        if (held === undefined || referenceCompare(w.stamp, held.stamp) > 0) best.set(name, { stamp: w.stamp, value })
      }
    }
    if (best.size === 0) return tomb === undefined ? { kind: 'absent' } : { kind: 'deleted' }
    const names = [...best.keys()].filter(n => best.get(n)!.value !== null).sort(utf8Order)
    return { kind: 'doc', doc: Object.fromEntries(names.map(n => [n, best.get(n)!.value])) }
  },
  // One conflict per field both patches set to values of different bytes, each side that field's value alone.
  conflicts: (a, b) => {
    const [winner, loser] = referenceCompare(a.stamp, b.stamp) > 0 ? [a, b] : [b, a]
    const held = loser.decoded as Record<string, unknown>
    return Object.entries(winner.decoded as Record<string, unknown>).flatMap(([name, value]): ExpectedConflict[] => {
      if (!Object.hasOwn(held, name) || value === null || held[name] === null) return []
      const w = codecs.msgpack.encode(value)
      const l = codecs.msgpack.encode(held[name])
      return w.equals(l) ? [] : [{ field: name, winner: { stamp: winner.stamp, value: w }, loser: { stamp: loser.stamp, value: l } }]
    })
  }
}

/** The example module's stamp order: numbers numerically, strings by JavaScript's `<` (UTF-16 code units). */
function moduleOrder (a: Stamp, b: Stamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  if (a.dc !== b.dc) return a.dc < b.dc ? -1 : 1
  return a.eventId === b.eventId ? 0 : a.eventId < b.eventId ? -1 : 1
}

export const CUSTOM_MODULE = './config/policies/tags.js'

/**
 * custom with the example module config/policies/tags.js (README, "Custom policies"): every tag written after
 * the greatest delete, sorted; deleted while the greatest write is older than the greatest delete (or there
 * is no write). deleteRule is the module's to apply, and it applies none.
 */
const custom: PolicyCase = {
  name: 'custom',
  policy: { type: 'custom', module: CUSTOM_MODULE },
  valueArb: fc.shuffledSubarray(['red', 'sale', 'new', 'é']).map(tags => () => ({ tags })),
  rejectedArb: fc.constantFrom<unknown>({ tags: 'red' }, { tags: [1] }, { other: ['red'] }, 'text', 7, null, [['red']]),
  resolve: accepted => {
    if (accepted.length === 0) return { kind: 'absent' }
    const deletes = accepted.filter(w => w.value === null).map(w => w.stamp)
    const cleared = deletes.length === 0 ? undefined : deletes.reduce((a, b) => moduleOrder(a, b) >= 0 ? a : b)
    const values = accepted.filter(w => w.value !== null)
    const after = values.filter(w => cleared === undefined || moduleOrder(w.stamp, cleared) > 0)
    if (after.length === 0) return { kind: 'deleted' }
    const tags = [...new Set(after.flatMap(w => field(w, 'tags') as string[]))].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
    return { kind: 'doc', doc: { tags } }
  },
  conflicts: undefined
}

export const POLICY_CASES: readonly PolicyCase[] = [lww, lwwFields, counter, extremum('max', 1), extremum('min', -1), union, dcPriority, custom]
