import { createHash, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { decodeMsgpack, encodeMsgpack } from '../src/codec/msgpack.ts'
import { headerString, type OutRecord, type RecordHeaders } from '../src/model/record.ts'
import { formatTs, H, originHeaders, suffixedKey } from '../src/wire/contract.ts'
import { prng } from './workload.ts'
import { entityPartition } from '../src/wire/partitioner.ts'

/**
 * One small two-DC workload per merge policy, for the policy integration test and the demo, each with its
 * own oracle: the merged value, its provenance headers and the exact conflict records, written from the
 * README's description of each policy (the custom one from config/policies/tags.js's header), never with
 * concord's src/merge code.
 *
 * The conflict set is deterministic because each entity gets at most one write per DC (README, "Conflict
 * feed": the caveat needs three writes in one window). Entity k takes shape k mod 10 (writes 1 s apart: a
 * conflict under the default 10 s window; 60 s apart: none; equal ts; an HLC counter tie-break; one DC only;
 * deletes after, near and before a write), and variant (k div 10) mod 3 picks its values (equal prices, for
 * lww-fields the same field with different values, different fields, or the same value).
 */
export const POLICIES = ['lww', 'lww-fields', 'counter', 'max', 'min', 'union', 'dc-priority', 'custom'] as const
export type PolicyName = typeof POLICIES[number]

const DCS = ['dc1', 'dc2'] as const
const WINDOW_MS = 10_000 // concord's default conflictWindowMs
const CUSTOM_MODULE = fileURLToPath(new URL('../config/policies/tags.js', import.meta.url))
const TAGS = ['red', 'green', 'blue', 'sale', 'new', 'eco']

type Doc = Record<string, unknown>

export interface PolicyWrite {
  readonly entity: string
  readonly dc: string
  readonly ts: number
  readonly counter: number
  readonly eventId: string
  /** The write's document; null for a delete. */
  readonly doc: Doc | null
  readonly value: Buffer | null
}

/** The merged record the oracle expects for an entity. */
export interface Expected {
  /** The decoded merged value; null when the entity is deleted. */
  readonly value: unknown
  /** Set when the merged record is one write's bytes with that write's origin headers. */
  readonly origin?: PolicyWrite
  /** Set when the value is built: the writes `x-merged-sources` must name, in stamp order. */
  readonly sources?: readonly PolicyWrite[]
}

export interface PolicyWorkload {
  readonly policy: PolicyName
  readonly topic: string
  /** The `topics[]` entry of concord's configuration. */
  readonly config: { readonly name: string, readonly policy: unknown }
  readonly writes: readonly PolicyWrite[]
  /** The records each DC produces (its own writes, some twice), in a shuffled order. */
  readonly records: ReadonlyMap<string, OutRecord[]>
  readonly expected: ReadonlyMap<string, Expected>
  /** The conflict records every DC must write, as `<key> <value>` strings, sorted. */
  readonly conflicts: readonly string[]
  /** The newest write time, for records meant to win if they were ever merged. */
  readonly newestTs: number
}

/** [dc, ms after the entity's base time, HLC counter, delete?] */
type Step = readonly [dc: string, dt: number, counter: number, del: boolean]
const SHAPES: ReadonlyArray<readonly Step[]> = [
  [['dc1', 0, 0, false], ['dc2', 1_000, 0, false]], // near: a conflict
  [['dc2', 0, 0, false], ['dc1', 1_000, 0, false]], // near, dc1 later
  [['dc1', 0, 0, false], ['dc2', 60_000, 0, false]], // apart: no conflict
  [['dc1', 0, 0, false], ['dc2', 0, 0, false]], // equal ts: dc breaks the tie
  [['dc1', 0, 1, false], ['dc2', 0, 0, false]], // equal ts: the counter breaks it
  [['dc1', 0, 0, false]],
  [['dc2', 0, 0, false]],
  [['dc1', 0, 0, false], ['dc2', 60_000, 0, true]], // deleted later
  [['dc1', 0, 0, false], ['dc2', 1_000, 0, true]], // deleted 1 s later: no conflict, a delete is not live
  [['dc2', 0, 0, true], ['dc1', 60_000, 0, false]] // revived
]

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))
/** The stamp order (ts, counter, dc, eventId), strings by UTF-8 bytes; written apart from src/model/stamp.ts. */
const cmp = (a: PolicyWrite, b: PolicyWrite): number =>
  a.ts !== b.ts ? a.ts - b.ts : a.counter !== b.counter ? a.counter - b.counter : a.dc !== b.dc ? utf8Order(a.dc, b.dc) : utf8Order(a.eventId, b.eventId)
const byStamp = (ws: readonly PolicyWrite[]): PolicyWrite[] => [...ws].sort(cmp)
const top = <T>(xs: readonly T[], better: (a: T, b: T) => boolean): T => xs.reduce((best, x) => better(x, best) ? x : best)
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

function makeDoc (policy: PolicyName, entity: string, k: number, dc: string, variant: number, rand: () => number): Doc {
  const tags = (): string[] => TAGS.filter(() => rand() < 0.4)
  switch (policy) {
    case 'lww': case 'dc-priority': return { id: entity, dc, n: k }
    case 'max': case 'min': return { id: entity, price: variant === 0 ? 5 : 1 + Math.floor(rand() * 50), by: dc }
    case 'counter': return { sku: entity, qty: Math.floor(rand() * 41) - 10, by: dc }
    case 'union': return { tags: tags(), by: dc }
    case 'custom': return { tags: tags() }
    case 'lww-fields':
      // Same field, different values; each patch also sets a field of its own, so both apply in either order.
      if (variant === 0) return { status: `${dc}-${k}`, [`note_${dc}`]: k }
      if (variant === 1) return dc === 'dc1' ? { status: 'open', a: k } : { qty: k } // different fields
      return { status: 'same', [`by_${dc}`]: dc } // same field, same value
  }
}

/** The latest version per DC, the greatest delete, and the live versions (README, "Deletes", deleteRule lww). */
function siblings (ws: readonly PolicyWrite[]): { live: PolicyWrite[], tombstone: PolicyWrite | undefined } {
  const latest = new Map<string, PolicyWrite>()
  for (const w of ws) if (!latest.has(w.dc) || cmp(w, latest.get(w.dc)!) > 0) latest.set(w.dc, w)
  const deletes = ws.filter(w => w.doc === null)
  const tombstone = deletes.length === 0 ? undefined : top(deletes, (a, b) => cmp(a, b) > 0)
  const live = [...latest.values()].filter(w => w.doc !== null && (tombstone === undefined || cmp(w, tombstone) > 0))
  return { live, tombstone }
}

/** Which of two live versions a choosing policy keeps (true: `a`). */
function prefers (policy: PolicyName, a: PolicyWrite, b: PolicyWrite): boolean {
  const price = (w: PolicyWrite): number => w.doc!.price as number
  if (policy === 'max' && price(a) !== price(b)) return price(a) > price(b)
  if (policy === 'min' && price(a) !== price(b)) return price(a) < price(b)
  if (policy === 'dc-priority' && a.dc !== b.dc) return a.dc === 'dc1' // order: [dc1, dc2]
  return cmp(a, b) > 0
}

function oracle (policy: PolicyName, ws: readonly PolicyWrite[]): Expected {
  if (policy === 'lww-fields') return fieldsOracle(ws)
  if (policy === 'custom') return tagsOracle(ws)
  const { live, tombstone } = siblings(ws)
  if (live.length === 0) return { value: null, origin: tombstone! }
  const newest = top(live, (a, b) => cmp(a, b) > 0)
  if (policy === 'counter') {
    const qty = live.reduce((n, w) => n + (w.doc!.qty as number), 0)
    return { value: { ...newest.doc, qty }, sources: byStamp(live) }
  }
  if (policy === 'union') {
    const set = new Map<string, unknown>()
    for (const w of live) for (const t of w.doc!.tags as unknown[]) set.set(encodeMsgpack(t).toString('hex'), t)
    const sorted = [...set].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))).map(([, t]) => t)
    return { value: { ...newest.doc, tags: sorted }, sources: byStamp(live) }
  }
  const winner = top(live, (a, b) => prefers(policy, a, b))
  return { value: winner.doc, origin: winner }
}

/** lww-fields: per field the newest patch not older than the greatest delete; keys in UTF-8 order, nulls dropped. */
function fieldsOracle (ws: readonly PolicyWrite[]): Expected {
  const { tombstone } = siblings(ws)
  const held = new Map<string, { w: PolicyWrite, v: unknown }>()
  for (const w of ws) {
    if (w.doc === null || (tombstone !== undefined && cmp(w, tombstone) <= 0)) continue
    for (const [f, v] of Object.entries(w.doc)) if (!held.has(f) || cmp(w, held.get(f)!.w) > 0) held.set(f, { w, v })
  }
  if (tombstone !== undefined && held.size === 0) return { value: null, origin: tombstone }
  const names = [...held.keys()].sort(utf8Order)
  const value = Object.fromEntries(names.filter(f => held.get(f)!.v !== null).map(f => [f, held.get(f)!.v]))
  return { value, sources: byStamp([...new Set([...held.values()].map(e => e.w))]) }
}

/** config/policies/tags.js: the tags of writes after the greatest delete, sorted; null while a delete is newest. */
function tagsOracle (ws: readonly PolicyWrite[]): Expected {
  const { tombstone } = siblings(ws)
  const writes = ws.filter(w => w.doc !== null)
  const newest = writes.length === 0 ? undefined : top(writes, (a, b) => cmp(a, b) > 0)
  const tags = new Set(writes.filter(w => tombstone === undefined || cmp(w, tombstone) > 0).flatMap(w => w.doc!.tags as string[]))
  const alive = newest !== undefined && (tombstone === undefined || cmp(newest, tombstone) > 0)
  // The module keeps each DC's greatest stamp, deletes included.
  const perDc = DCS.map(dc => ws.filter(w => w.dc === dc)).filter(l => l.length > 0).map(l => top(l, (a, b) => cmp(a, b) > 0))
  return { value: alive ? { tags: [...tags].sort() } : null, sources: byStamp(perDc) }
}

/** The conflict records of an entity: each pair of live versions of different DCs within the window. */
function conflictsOf (policy: PolicyName, topic: string, ws: readonly PolicyWrite[]): string[] {
  if (policy === 'counter' || policy === 'union' || policy === 'custom') return []
  const side = (w: PolicyWrite, bytes: Buffer): Doc => ({ dc: w.dc, ts: w.ts, counter: w.counter, eventId: w.eventId, sha256: sha256(bytes) })
  const record = (entity: string, body: Doc): string => `${entity} ${JSON.stringify({ topic, entity, policy, ...body })}`
  const [a, b] = ws
  if (a === undefined || b === undefined || a.doc === null || b.doc === null || Math.abs(a.ts - b.ts) >= WINDOW_MS) return []
  if (policy !== 'lww-fields') {
    const [winner, loser] = prefers(policy, a, b) ? [a, b] : [b, a]
    return [record(a.entity, { winner: side(winner, winner.value!), loser: side(loser, loser.value!) })]
  }
  const [winner, loser] = cmp(a, b) > 0 ? [a, b] : [b, a]
  return Object.keys(winner.doc!).filter(f => Object.hasOwn(loser.doc!, f)).flatMap(field => {
    const [wv, lv] = [encodeMsgpack(winner.doc![field]), encodeMsgpack(loser.doc![field])]
    return wv.equals(lv) ? [] : [record(a.entity, { field, winner: side(winner, wv), loser: side(loser, lv) })]
  })
}

function topicConfig (policy: PolicyName, name: string): PolicyWorkload['config'] {
  const options: Record<PolicyName, unknown> = {
    lww: 'lww',
    'lww-fields': 'lww-fields',
    counter: { type: 'counter', field: 'qty' },
    max: { type: 'max', field: 'price' },
    min: { type: 'min', field: 'price' },
    union: { type: 'union', field: 'tags' },
    'dc-priority': { type: 'dc-priority', order: ['dc1', 'dc2'] },
    custom: { type: 'custom', module: CUSTOM_MODULE }
  }
  return { name, policy: options[policy] }
}

export interface PolicyWorkloadOptions {
  readonly policy: PolicyName
  readonly topic: string
  readonly entities: number
  readonly partitions: number
  readonly seed?: number
}

export function policyWorkload (o: PolicyWorkloadOptions): PolicyWorkload {
  const rand = prng(o.seed ?? 1)
  const base = Date.now() - 30 * 60_000
  const writes: PolicyWrite[] = []
  const expected = new Map<string, Expected>()
  const conflicts: string[] = []
  for (let k = 0; k < o.entities; k++) {
    const entity = `e-${k}`
    const variant = Math.floor(k / SHAPES.length) % 3
    const ws = SHAPES[k % SHAPES.length]!.map(([dc, dt, counter, del]): PolicyWrite => {
      const doc = del ? null : makeDoc(o.policy, entity, k, dc, variant, rand)
      return { entity, dc, ts: base + k * 10 + dt, counter, eventId: randomUUID(), doc, value: doc === null ? null : encodeMsgpack(doc) }
    })
    writes.push(...ws)
    expected.set(entity, oracle(o.policy, ws))
    conflicts.push(...conflictsOf(o.policy, o.topic, ws))
  }
  const records = new Map<string, OutRecord[]>(DCS.map(dc => [dc, []]))
  for (const w of writes) {
    const r = writeRecord(o.topic, o.partitions, w)
    records.get(w.dc)!.push(r)
    if (rand() < 0.1) records.get(w.dc)!.push(r) // redelivered
  }
  for (const list of records.values()) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[list[i], list[j]] = [list[j]!, list[i]!]
    }
  }
  const newestTs = Math.max(...writes.map(w => w.ts))
  return { policy: o.policy, topic: o.topic, config: topicConfig(o.policy, o.topic), writes, records, expected, conflicts: conflicts.sort(), newestTs }
}

export function writeRecord (topic: string, partitions: number, w: PolicyWrite): OutRecord {
  return { topic, partition: entityPartition(w.entity, partitions), key: suffixedKey(w.entity, w.dc), value: w.value, headers: originHeaders(w) }
}

/** A write to entity `e-0` of `dc`, newer than every other, with the given value bytes (poison, a bad count). */
export function newestWrite (workload: PolicyWorkload, dc: string, value: Buffer, label: string): PolicyWrite {
  return { entity: 'e-0', dc, ts: workload.newestTs + 1_000, counter: 0, eventId: `${label}-${randomUUID()}`, doc: null, value }
}

interface MergedRecord { readonly value: Buffer | null, readonly headers: RecordHeaders }

/**
 * How a DC's merged changelog (last record per entity) differs from the oracle: empty when it matches.
 * Checks the decoded value, and the provenance: for a single origin its bytes and origin headers and no
 * `x-merged-sources`; for a built value no origin header and, unless `sources` is false, the
 * `x-merged-sources` list.
 */
export function mergedProblems (w: PolicyWorkload, merged: ReadonlyMap<string, MergedRecord>, { sources: checkSources = true } = {}): string[] {
  const problems: string[] = []
  for (const key of merged.keys()) if (!w.expected.has(key)) problems.push(`${key}: not expected`)
  for (const [entity, e] of w.expected) {
    const r = merged.get(entity)
    if (r === undefined) {
      problems.push(`${entity}: missing`)
      continue
    }
    const got = r.value === null ? null : decodeMsgpack(r.value)
    if (!isDeepStrictEqual(got, e.value)) problems.push(`${entity}: value ${JSON.stringify(got)}, expected ${JSON.stringify(e.value)}`)
    const origin = [H.originDc, H.originTs, H.eventId].map(h => headerString(r.headers, h))
    const sources = headerString(r.headers, H.mergedSources)
    if (e.origin !== undefined) {
      const want = originHeaders(e.origin)
      if (!isDeepStrictEqual(origin, [want[H.originDc], want[H.originTs], want[H.eventId]])) problems.push(`${entity}: origin ${origin.join(' ')}, expected ${e.origin.dc} ${e.origin.eventId}`)
      if (e.origin.value === null ? r.value !== null : r.value?.equals(e.origin.value) !== true) problems.push(`${entity}: not the bytes of ${e.origin.eventId}`)
      if (sources !== undefined) problems.push(`${entity}: ${H.mergedSources} on a passed-through value`)
    } else {
      const want = JSON.stringify(e.sources!.map(s => ({ dc: s.dc, ts: formatTs(s), eventId: s.eventId })))
      if (checkSources && sources !== want) problems.push(`${entity}: ${H.mergedSources} ${sources}, expected ${want}`)
      if (origin.some(h => h !== undefined)) problems.push(`${entity}: origin headers on a built value`)
    }
  }
  return problems
}

/** A DC's conflict records as `<key> <value>` strings, sorted, to compare with `PolicyWorkload.conflicts`. */
export function conflictLines (records: ReadonlyArray<{ key: Buffer | null, value: Buffer | null }>): string[] {
  return records.map(r => `${r.key?.toString('utf8')} ${r.value?.toString('utf8')}`).sort()
}

/** Records by the topic they were read from. */
export function byTopic<T extends { readonly topic: string }> (records: readonly T[]): Map<string, T[]> {
  const by = new Map<string, T[]>()
  for (const r of records) {
    const list = by.get(r.topic)
    if (list === undefined) by.set(r.topic, [r])
    else list.push(r)
  }
  return by
}
