import { setTimeout as sleep } from 'node:timers/promises'
import { openSource } from '../src/cli/digest-source.ts'
import { compareTopic, type TopicComparison } from '../src/cli/verify.ts'
import { connectAdmin, type KafkaAdmin } from '../src/kafka/admin.ts'
import { connectProducer } from '../src/kafka/producer.ts'
import { headerString } from '../src/model/record.ts'
import { H } from '../src/wire/contract.ts'
import { sum, type ConcordProcess } from './concord-process.ts'
import { lastByKey, readUntil, type ReadRecord } from './read.ts'
import type { Receipted } from './receipt-oracle.ts'
import { CANARY_TOPIC, type Datacenter } from './settings.ts'

/** The drill's measurements of replication, processors and merged output, each against the brokers. */

export async function withAdmin<T> (bootstrap: string, fn: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  // Few retries: a DC that is down should fail a look quickly, and the drill looks again.
  const admin = await connectAdmin({ brokers: [bootstrap], clientId: 'concord-drill', retries: 2 })
  try {
    return await fn(admin)
  } finally {
    await admin.close()
  }
}

const total = (marks: ReadonlyMap<number, bigint>): bigint => [...marks.values()].reduce((a, b) => a + b, 0n)

/** Sends a unique canary record from `source` and waits until it is in `target`'s remote copy; returns the ms it took. */
export async function canary (source: Datacenter, target: Datacenter, timeoutMs: number): Promise<number> {
  const value = `drill canary from ${source.id} ${Date.now()} ${Math.random()}`
  const started = Date.now()
  const producer = await connectProducer({ brokers: [source.bootstrap], clientId: 'concord-drill' })
  try {
    await producer.send([{ topic: CANARY_TOPIC, key: 'drill', value }])
  } finally {
    await producer.close()
  }
  await readUntil(target.bootstrap, [`${source.id}.${CANARY_TOPIC}`], rs => rs.some(r => r.value?.toString() === value), { timeoutMs })
  return Date.now() - started
}

/**
 * Records of `topic` in `source` that are not yet in its remote copy in `target`: per partition, the source's
 * end offset minus the copy's, never below 0. MM2 preserves partitions and may copy a record twice (at least
 * once), so a copy ahead of its source counts as caught up.
 */
export async function mirrorLag (source: Datacenter, target: Datacenter, topic: string): Promise<number> {
  const [src, copy] = await Promise.all([
    withAdmin(source.bootstrap, a => a.highWatermarks(topic)),
    withAdmin(target.bootstrap, a => a.highWatermarks(`${source.id}.${topic}`))
  ])
  let lag = 0n
  for (const [p, end] of src) {
    const behind = end - (copy.get(p) ?? 0n)
    if (behind > 0n) lag += behind
  }
  return Number(lag)
}

/**
 * A processor's own lag, independent of its lag gauge (which keeps its last reading while Kafka cannot be
 * read): the records in its inputs, read from its DC's brokers now, minus the records it has consumed and
 * committed (`concord_records_total` of those inputs). Its inputs are fresh topics it read from offset 0.
 */
export async function processorLag (proc: ConcordProcess, dc: Datacenter, peer: Datacenter, topic: string): Promise<number> {
  const inputs = [topic, `${peer.id}.${topic}`]
  const ends = await withAdmin(dc.bootstrap, async a => {
    let n = 0n
    for (const input of inputs) n += total(await a.highWatermarks(input))
    return n
  })
  const metrics = await proc.metrics()
  const consumed = inputs.reduce((n, input) => n + sum(metrics, 'concord_records_total{', `topic="${input}"`), 0)
  return Math.max(0, Number(ends) - consumed)
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws `what` at the deadline. */
export async function waitFor<T> (what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last === undefined ? '' : ` (last error: ${(last as Error).message})`}`)
    await sleep(everyMs)
  }
}

/** `concord verify` of two running processors on one topic, until they agree or the time is up: the last comparison. */
export async function verifyUntil (a: ConcordProcess, b: ConcordProcess, topic: string, timeoutMs: number): Promise<TopicComparison> {
  const [sa, sb] = await Promise.all([openSource(`http://127.0.0.1:${a.port}`, undefined), openSource(`http://127.0.0.1:${b.port}`, undefined)])
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      const result = await compareTopic(sa, sb, topic, 20)
      if (result.converged || Date.now() > deadline) return result
      await sleep(1_000)
    }
  } finally {
    sa.close()
    sb.close()
  }
}

/** A DC's merged topic read from the beginning to its end offsets (as read when called): the last record per entity. */
export async function readMergedToEnd (dc: Datacenter, topic: string): Promise<Map<string, ReadRecord>> {
  const merged = `${topic}.merged`
  const ends = await withAdmin(dc.bootstrap, a => a.logOffsets(merged))
  const count = Number([...ends.values()].reduce((n, o) => n + o.high - o.low, 0n))
  return lastByKey(await readUntil(dc.bootstrap, [merged], rs => rs.length >= count, { timeoutMs: 60_000 }))
}

export interface Acknowledged {
  /** Entities whose acknowledged winner is missing from the merged output, and not replaced by a newer write. */
  readonly lost: readonly string[]
  /** Entities won by a write that was not acknowledged (sent, the answer lost): newer than every receipt. */
  readonly wonByUnacknowledged: readonly string[]
}

const stampOf = (r: ReadRecord): [number, number, string, string] => {
  const [ts = 0, counter = 0] = (headerString(r.headers, H.originTs) ?? '0').split(':').map(Number)
  return [ts, counter, headerString(r.headers, H.originDc) ?? '', headerString(r.headers, H.eventId) ?? '']
}

/**
 * Every acknowledged write's winner per entity (the receipts' last-write-wins oracle) against what a merged
 * output holds: the winner's event (for a delete: no live value), or else a write newer than the winner that
 * has no receipt. Anything else is a lost write.
 */
export function checkAcknowledged (winners: ReadonlyMap<string, Receipted>, merged: ReadonlyMap<string, ReadRecord>, acknowledged: ReadonlySet<string>): Acknowledged {
  const lost: string[] = []
  const wonByUnacknowledged: string[] = []
  for (const [entity, w] of winners) {
    const r = merged.get(entity)
    if (r !== undefined && headerString(r.headers, H.eventId) === w.receipt.eventId && (r.value === null) === (w.value === null)) continue
    // A deleted entity counts as absent (as for verify): an entity only ever deleted may have no merged record.
    if (w.value === null && (r === undefined || r.value === null)) continue
    if (r !== undefined) {
      const [ts, counter, dc, eventId] = stampOf(r)
      const [wts = 0, wc = 0] = w.receipt.originTs.split(':').map(Number)
      const newer = ts !== wts ? ts > wts : counter !== wc ? counter > wc : dc !== w.dc ? dc > w.dc : eventId > w.receipt.eventId
      if (newer && !acknowledged.has(eventId)) {
        wonByUnacknowledged.push(entity)
        continue
      }
    }
    lost.push(entity)
  }
  return { lost, wonByUnacknowledged }
}

/**
 * The topics a DC's MM2 flow replicates: everything but remote copies (`dc2.*`), concord's outputs, MM2's
 * own topics and Kafka's internal ones (the exclusions of lab/configs.ts).
 */
export async function sourceTopics (dc: Datacenter, peers: readonly Datacenter[]): Promise<string[]> {
  const topics = await withAdmin(dc.bootstrap, a => a.listTopics())
  return topics.filter(t => !peers.some(p => t.startsWith(`${p.id}.`)) && !t.startsWith('__') && !t.startsWith('mm2-') &&
    t !== 'heartbeats' && !/[-.]internal$|\.(merged|dlq|conflicts|replica)$/.test(t))
}
