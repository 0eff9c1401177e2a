import { randomUUID } from 'node:crypto'
import { encodeMsgpack } from '../src/codec/msgpack.ts'
import type { OutRecord } from '../src/model/record.ts'
import { originHeaders, suffixedKey } from '../src/wire/contract.ts'
import { entityPartition } from '../src/wire/partitioner.ts'

/**
 * Conflicting writes to the same entities from two datacenters, with ties, deletes, late arrivals and
 * duplicates, plus the merged state an independent oracle expects. Used by the demo, the integration tests
 * and the benchmarks. Producers partition by entity id with the writer SDK's partitioner (src/wire/partitioner.ts).
 */
export interface Write {
  readonly entity: string
  readonly dc: string
  readonly ts: number
  readonly counter: number
  readonly eventId: string
  readonly value: Buffer | null
}

export interface WorkloadOptions {
  readonly topic: string
  readonly dcs: readonly string[]
  readonly entities: number
  readonly writesPerEntityPerDc: number
  readonly partitions: number
  readonly deleteRate?: number
  readonly duplicateRate?: number
  readonly valueBytes?: number
  readonly seed?: number
}

/** A small seeded PRNG (mulberry32), so a workload can be reproduced. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function makeWrites (o: WorkloadOptions): Write[] {
  const rand = prng(o.seed ?? 42)
  const base = Date.now() - 60_000
  const pad = 'x'.repeat(Math.max(0, (o.valueBytes ?? 120) - 60))
  const writes: Write[] = []
  for (let e = 0; e < o.entities; e++) {
    const entity = `order-${e}`
    for (const dc of o.dcs) {
      for (let i = 0; i < o.writesPerEntityPerDc; i++) {
        // A narrow window of timestamps makes equal ts (and equal ts+counter) common: the tie-break matters.
        const ts = base + Math.floor(rand() * 8)
        const counter = Math.floor(rand() * 2)
        const deleted = rand() < (o.deleteRate ?? 0.15)
        const value = deleted ? null : encodeMsgpack({ id: entity, dc, n: i, status: rand() < 0.5 ? 'open' : 'paid', pad })
        writes.push({ entity, dc, ts, counter, eventId: randomUUID(), value })
      }
    }
  }
  // Production order is shuffled, so older versions often arrive after newer ones.
  for (let i = writes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[writes[i], writes[j]] = [writes[j]!, writes[i]!]
  }
  return writes
}

/** The records to produce in each DC (its own writes), with some produced twice (duplicates). */
export function recordsByDc (writes: readonly Write[], o: WorkloadOptions): Map<string, OutRecord[]> {
  const rand = prng((o.seed ?? 42) + 1)
  const out = new Map<string, OutRecord[]>(o.dcs.map(dc => [dc, []]))
  for (const w of writes) {
    const record: OutRecord = {
      topic: o.topic,
      partition: entityPartition(w.entity, o.partitions),
      key: suffixedKey(w.entity, w.dc),
      value: w.value,
      headers: originHeaders(w)
    }
    out.get(w.dc)!.push(record)
    if (rand() < (o.duplicateRate ?? 0.05)) out.get(w.dc)!.push(record)
  }
  return out
}

/**
 * The oracle: per entity, the write with the greatest (ts, counter, dc, eventId), strings by byte order.
 * Written independently of src/model/stamp.ts on purpose.
 */
export function expectedState<W extends Pick<Write, 'entity' | 'dc' | 'ts' | 'counter' | 'eventId'>> (writes: readonly W[]): Map<string, W> {
  const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))
  const newer = (a: W, b: W): boolean =>
    a.ts !== b.ts ? a.ts > b.ts : a.counter !== b.counter ? a.counter > b.counter : a.dc !== b.dc ? byteOrder(a.dc, b.dc) > 0 : byteOrder(a.eventId, b.eventId) > 0
  const best = new Map<string, W>()
  for (const w of writes) {
    const cur = best.get(w.entity)
    if (cur === undefined || newer(w, cur)) best.set(w.entity, w)
  }
  return best
}
