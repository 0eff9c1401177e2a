/**
 * The scenarios of the two-engine convergence test (convergence.test.ts): writes by dc1 and dc2 to a few
 * entities, and what each DC consumes of them.
 *
 * Pools are small so that ties happen: four times (six under garbage collection), two counters and event
 * ids unique per write from a tiny alphabet, so that stamps equal up to the event id occur. A write is a
 * valid value for the policy, a delete, a value the policy must reject, or bytes that are no msgpack; a few
 * may be far in the past, to hit the too-late rule.
 *
 * The too-late rule reads the order of each DC's writes on a partition, which MM2 keeps: a scenario that can
 * hit it (writes far in the past, or a small gcGraceMs with garbage collection on) gives each writer DC one
 * log, duplicates included, that both DCs consume in that order (interleaved with the other DC's log as each
 * likes); any other scenario redelivers and reorders freely and independently per DC.
 */
import { inspect } from 'node:util'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import type { DeleteRule } from '../../src/merge/policy.ts'
import type { Dc, GenWrite, PolicyCase, Rules } from './convergence-policies.ts'

export const T = 1_700_000_000_000
export const DCS: readonly Dc[] = ['dc1', 'dc2']
export const PEER: Readonly<Record<Dc, Dc>> = { dc1: 'dc2', dc2: 'dc1' }
export const ENTITIES = ['a', 'order-7', 'é']
const TS_POOL = [T, T + 1, T + 2, T + 3]
/** Under garbage collection also a later time, which lifts both watermarks past the deletes at the others. */
const GC_TS_POOL = [...TS_POOL, T + 8, T + 9]
/** The default gcGraceMs (7 days), set explicitly so that the oracle knows it. */
const WEEK_MS = 604_800_000
/** A time more than a week before the others: too late behind any of them. */
const FAR_PAST = T - 8 * 86_400_000
/** Bytes the msgpack check refuses: an unused type byte, a truncated list. */
const GARBAGE = [[0xc1], [0x92, 0x01]]
const WINDOWS = [0, 1, 2, 10_000]

// ---------------------------------------------------------------------------------------------------------
// Writes and their delivery.

type Body =
  | { readonly kind: 'value', readonly make: (tag: string) => unknown }
  | { readonly kind: 'delete' }
  | { readonly kind: 'rejected', readonly doc: unknown }
  | { readonly kind: 'garbage', readonly bytes: readonly number[] }

interface Draft { readonly dc: Dc, readonly entity: string, readonly ts: number, readonly counter: number, readonly body: Body }

/** The weights of a valid value and a delete, against 1 each for a rejected value and for garbage. */
interface Weights { readonly value: number, readonly delete: number }

function bodyArb (policy: PolicyCase, weights: Weights): fc.Arbitrary<Body> {
  const rejected = policy.rejectedArb === undefined
    ? []
    : [{ weight: 1, arbitrary: policy.rejectedArb.map((doc): Body => ({ kind: 'rejected', doc })) }]
  return fc.oneof(
    { weight: weights.value, arbitrary: policy.valueArb.map((make): Body => ({ kind: 'value', make })) },
    { weight: weights.delete, arbitrary: fc.constant<Body>({ kind: 'delete' }) },
    ...rejected,
    { weight: 1, arbitrary: fc.constantFrom(...GARBAGE).map((bytes): Body => ({ kind: 'garbage', bytes })) })
}

function draftArb (policy: PolicyCase, times: readonly number[], past: boolean, weights: Weights): fc.Arbitrary<Draft> {
  const ts = fc.constantFrom(...times)
  return fc.record({
    dc: fc.constantFrom(...DCS),
    entity: fc.constantFrom(...ENTITIES),
    ts: past ? fc.oneof({ weight: 5, arbitrary: ts }, { weight: 1, arbitrary: fc.constant(FAR_PAST) }) : ts,
    counter: fc.constantFrom(0, 1),
    body: bodyArb(policy, weights)
  })
}

/** A write as counterexamples show it: `dc1 a @T+2:1 #ab {"rank":1}` (or `delete`, `rejected ...`, `garbage c1`). */
function show (w: GenWrite): string {
  const { dc, ts, counter, eventId } = w.stamp
  const value = w.kind === 'delete' ? 'delete' : w.kind === 'garbage' ? `garbage ${w.value!.toString('hex')}` : `${w.kind === 'rejected' ? 'rejected ' : ''}${inspect(w.decoded, { breakLength: Infinity, depth: 4 })}`
  return `${dc} ${w.entity} @${ts === FAR_PAST ? 'far past' : `T+${ts - T}`}:${counter} #${eventId} ${value}`
}

function build (d: Draft, eventId: string): GenWrite {
  const stamp = { ts: d.ts, counter: d.counter, dc: d.dc, eventId }
  const { entity, body } = d
  let w: GenWrite
  if (body.kind === 'delete' || body.kind === 'garbage') {
    w = { entity, kind: body.kind, stamp, value: body.kind === 'delete' ? null : Buffer.from(body.bytes) }
  } else {
    const value = codecs.msgpack.encode(body.kind === 'value' ? body.make(`${d.dc}|${d.ts}:${d.counter}|${eventId}`) : body.doc)
    w = { entity, kind: body.kind, stamp, value, decoded: codecs.msgpack.decode(value) }
  }
  return Object.defineProperty(w, fc.toStringMethod, { value: () => show(w) })
}

/** Drafts made writes with unique event ids from a tiny alphabet, so that stamps equal up to the event id occur. */
const withEventIds = (drafts: readonly Draft[]): fc.Arbitrary<GenWrite[]> =>
  fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', 'é'), minLength: 1, maxLength: 3 }), { minLength: drafts.length, maxLength: drafts.length })
    .map(ids => drafts.map((d, i) => build(d, ids[i]!)))

/** One record delivered to one engine, on the topic that carries it there (or a loop: its own write on its peer's topic). */
export interface Delivery { readonly w: GenWrite, readonly topic: string }

const delivery = (w: GenWrite, topic: string): Delivery =>
  Object.defineProperty({ w, topic }, fc.toStringMethod, { value: () => `${topic}: ${show(w)}` })

const topicAt = (receiver: Dc, w: GenWrite): string => w.stamp.dc === receiver ? 'orders' : `${w.stamp.dc}.orders`

/** Each write 1 to 3 times, shuffled. */
const copiesArb = (writes: readonly GenWrite[]): fc.Arbitrary<GenWrite[]> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: writes.length, maxLength: writes.length }).chain(times => {
    const all = writes.flatMap((w, i) => Array.from({ length: times[i]! }, () => w))
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
  })

/**
 * A writer DC's log: each write 1 to 3 times, in time order give or take `disorder` ms (as a producer with a
 * forward-moving clock and a few retries makes it), or shuffled when `disorder` is undefined; the writes far
 * in the past are put in at random places among the others.
 */
const logArb = (writes: readonly GenWrite[], disorder: number | undefined): fc.Arbitrary<GenWrite[]> =>
  copiesArb(writes).chain(log => fc.tuple(
    fc.array(fc.integer({ min: 0, max: disorder ?? 0 }), { minLength: log.length, maxLength: log.length }),
    fc.array(fc.constantFrom(...GC_TS_POOL), { minLength: log.length, maxLength: log.length })
  ).map(([late, places]) => {
    if (disorder === undefined) return log
    const at = (i: number): number => log[i]!.stamp.ts === FAR_PAST ? places[i]! : log[i]!.stamp.ts + late[i]!
    return log.map((_, i) => i).sort((i, j) => at(i) - at(j) || i - j).map(i => log[i]!)
  }))

/** About one in four of the receiver's own writes, replayed to it on its peer's topic (a replication loop). */
const loopsArb = (receiver: Dc, writes: readonly GenWrite[]): fc.Arbitrary<Delivery[]> => {
  const own = writes.filter(w => w.stamp.dc === receiver)
  return fc.array(fc.integer({ min: 0, max: 3 }), { minLength: own.length, maxLength: own.length })
    .map(picks => own.filter((_, i) => picks[i] === 0).map(w => delivery(w, `${PEER[receiver]}.orders`)))
}

/** Free delivery: every write 1 to 3 times and some loops, in any order, independently per DC. */
const freeDeliveriesArb = (receiver: Dc, writes: readonly GenWrite[]): fc.Arbitrary<Delivery[]> =>
  fc.tuple(copiesArb(writes), loopsArb(receiver, writes)).chain(([copies, loops]) => {
    const all = [...copies.map(w => delivery(w, topicAt(receiver, w))), ...loops]
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
  })

/** Shared delivery: the writer DCs' logs, each consumed in its order, interleaved (with loops) as each receiver likes. */
function interleavedArb (receiver: Dc, logs: Readonly<Record<Dc, readonly GenWrite[]>>, writes: readonly GenWrite[]): fc.Arbitrary<Delivery[]> {
  return loopsArb(receiver, writes).chain(loops => {
    const sources: Delivery[][] = [
      ...DCS.map(dc => logs[dc].map(w => delivery(w, topicAt(receiver, w)))),
      loops
    ]
    const labels = sources.flatMap((s, i) => s.map(() => i))
    return fc.shuffledSubarray(labels, { minLength: labels.length, maxLength: labels.length }).map(order => {
      const next = sources.map(() => 0)
      return order.map(i => sources[i]![next[i]!++]!)
    })
  })
}

const batchSizesArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 })

export interface Scenario {
  readonly rules: Rules
  readonly gcGraceMs: number
  /** Garbage collection on (inputPartitions 1): deleted entities may be purged during the run. */
  readonly gc: boolean
  readonly conflictValues: 'hash' | 'value'
  readonly writes: readonly GenWrite[]
  /** Per writer DC, the order every DC consumes its writes in, when that order is shared. */
  readonly logs: Readonly<Record<Dc, readonly GenWrite[]>> | undefined
  readonly deliveries: Readonly<Record<Dc, readonly Delivery[]>>
  readonly batchSizes: Readonly<Record<Dc, readonly number[]>>
}

/**
 * Up to 12 writes (6 to 14 under garbage collection, with more deletes and later times, so that deleted
 * entities get purged mid-run), the topic's window and grace, and each DC's deliveries and batch sizes.
 */
export function scenarioArb (policy: PolicyCase, deleteRule: DeleteRule): fc.Arbitrary<Scenario> {
  const settings = fc.record({
    gc: fc.boolean(),
    past: fc.integer({ min: 0, max: 3 }).map(n => n === 0),
    grace: fc.constantFrom(1, 2, 4),
    window: fc.constantFrom(...WINDOWS),
    disorder: fc.constantFrom(0, 3, 6, undefined)
  })
  return settings.chain(({ gc, past, grace, window, disorder }) => {
    const drafts = gc
      ? fc.array(draftArb(policy, GC_TS_POOL, past, { value: 5, delete: 3 }), { minLength: 6, maxLength: 14 })
      : fc.array(draftArb(policy, TS_POOL, past, { value: 6, delete: 2 }), { minLength: 1, maxLength: 12 })
    return drafts.chain(withEventIds).chain(writes => {
      const batchSizes = fc.record({ dc1: batchSizesArb, dc2: batchSizesArb })
      const ofDc = (dc: Dc): GenWrite[] => writes.filter(w => w.stamp.dc === dc)
      const logs: fc.Arbitrary<Scenario['logs']> = !gc && !past
        ? fc.constant(undefined)
        : fc.record({ dc1: logArb(ofDc('dc1'), disorder), dc2: logArb(ofDc('dc2'), disorder) })
      return logs.chain(l => fc.record({
        rules: fc.constant({ deleteRule, conflictWindowMs: window }),
        gcGraceMs: fc.constant(gc ? grace : WEEK_MS),
        gc: fc.constant(gc),
        conflictValues: fc.constant<'hash' | 'value'>('hash'),
        writes: fc.constant(writes),
        logs: fc.constant(l),
        deliveries: l === undefined
          ? fc.record({ dc1: freeDeliveriesArb('dc1', writes), dc2: freeDeliveriesArb('dc2', writes) })
          : fc.record({ dc1: interleavedArb('dc1', l, writes), dc2: interleavedArb('dc2', l, writes) }),
        batchSizes
      }))
    })
  })
}

/** At most one write per DC per entity (so that every DC holds both once both arrived), delivered freely; a wide window. */
export function conflictScenarioArb (policy: PolicyCase, deleteRule: DeleteRule): fc.Arbitrary<Scenario> {
  return fc.uniqueArray(draftArb(policy, TS_POOL, false, { value: 20, delete: 2 }), { selector: d => `${d.entity}/${d.dc}`, minLength: 2, maxLength: 6 })
    .chain(withEventIds)
    .chain(writes => fc.record({
      conflictValues: fc.constantFrom<'hash' | 'value'>('hash', 'value'),
      deliveries: fc.record({ dc1: freeDeliveriesArb('dc1', writes), dc2: freeDeliveriesArb('dc2', writes) }),
      batchSizes: fc.record({ dc1: batchSizesArb, dc2: batchSizesArb })
    }).map(d => ({ rules: { deleteRule, conflictWindowMs: 1_000_000_000 }, gcGraceMs: WEEK_MS, gc: false, writes, logs: undefined, ...d })))
}
