import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectAdmin } from '../src/kafka/admin.ts'
import { connectProducer } from '../src/kafka/producer.ts'
import { headerString, type OutRecord, type RecordHeaders } from '../src/model/record.ts'
import { startConcord, sum, type ConcordProcess } from './concord-process.ts'
import { LabError } from './errors.ts'
import { lastByKey, readUntil } from './read.ts'
import type { LabSettings } from './settings.ts'
import { peersOf } from './topology.ts'
import type { Write } from './workload.ts'
import { H } from '../src/wire/contract.ts'

/** Steps shared by the demo, the integration tests and the benchmarks, on the running lab. */

/**
 * Creates `topic` in every DC, with each peer's remote copy of it (`dc2.<topic>`), all with the lab's partition
 * count. (Named when the lab had two DCs; it makes the whole set for any number.)
 */
export async function createTopicPair (settings: LabSettings, topic: string): Promise<void> {
  for (const here of settings.dcs) {
    const admin = await connectAdmin({ brokers: [here.bootstrap], clientId: 'concord-lab' })
    try {
      const copies = peersOf(settings, here).map(there => ({ topic: `${there.id}.${topic}`, partitions: settings.partitions }))
      await admin.createTopics([{ topic, partitions: settings.partitions }, ...copies])
    } finally {
      await admin.close()
    }
  }
}

/** One `topics[]` entry of concord's configuration: a name and a policy, plus any other topic keys. */
export type TopicSpec = Readonly<Record<string, unknown>> & { readonly name: string }

/**
 * Starts `concord run` for DC `settings.dcs[index]` of the lab, with every other DC as a peer, in a group of
 * its own: for a topic name, that topic with last-write-wins; for a list of topic entries, all of them in the
 * one process (the group is named after the first, so each scenario needs fresh topics).
 */
export function startDc (settings: LabSettings, index: number, topics: string | readonly TopicSpec[], work: string): Promise<ConcordProcess> {
  const dc = settings.dcs[index]
  if (dc === undefined) throw new LabError(`startDc: index ${index} is not a DC of this lab (0..${settings.dcs.length - 1}; LAB_DCS=${settings.dcs.length})`)
  const list: readonly TopicSpec[] = typeof topics === 'string' ? [{ name: topics, policy: 'lww' }] : topics
  if (list.length === 0) throw new LabError('startDc needs at least one topic')
  return startConcord({
    dc: dc.id,
    peers: peersOf(settings, dc).map(p => p.id),
    brokers: dc.bootstrap,
    topics: list,
    dir: join(work, dc.id),
    groupId: `concord-${dc.id}-${list[0]!.name}`
  })
}

export async function produce (bootstrap: string, records: readonly OutRecord[]): Promise<void> {
  const producer = await connectProducer({ brokers: [bootstrap], clientId: 'concord-lab' })
  try {
    for (let i = 0; i < records.length; i += 5_000) await producer.send(records.slice(i, i + 5_000))
  } finally {
    await producer.close()
  }
}

/** Waits until each process has consumed at least `expected[i]` records; returns their metrics then. */
export async function waitConsumed (procs: readonly ConcordProcess[], expected: readonly number[], timeoutMs = 120_000): Promise<Array<Map<string, number>>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const metrics = await Promise.all(procs.map(p => p.metrics()))
    const counts = metrics.map(m => sum(m, 'concord_records_total{'))
    if (counts.every((c, i) => c >= expected[i]!)) return metrics
    if (Date.now() > deadline) throw new Error(`not quiescent after ${timeoutMs / 1000} s: consumed ${counts.join(' / ')} of ${expected.join(' / ')}`)
    await sleep(250)
  }
}

interface MergedRecord { readonly value: Buffer | null, readonly headers: RecordHeaders }

const sameRecord = (a: MergedRecord, b: { value: Buffer | null, eventId: string | undefined }): boolean =>
  headerString(a.headers, H.eventId) === b.eventId && (b.value === null ? a.value === null : a.value?.equals(b.value) === true)

/** Whether a merged changelog (last record per entity) holds exactly the oracle's winners. */
export function matchesOracle (merged: ReadonlyMap<string, MergedRecord>, oracle: ReadonlyMap<string, Write>): boolean {
  return merged.size === oracle.size && [...oracle].every(([entity, w]) => {
    const r = merged.get(entity)
    return r !== undefined && sameRecord(r, w)
  })
}

/** Whether two DCs' merged changelogs hold the same last record (value bytes and winning event) per entity. */
export function identical (a: ReadonlyMap<string, MergedRecord>, b: ReadonlyMap<string, MergedRecord>): boolean {
  return a.size === b.size && [...a].every(([k, r]) => {
    const o = b.get(k)
    return o !== undefined && sameRecord(o, { value: r.value, eventId: headerString(r.headers, H.eventId) })
  })
}

/**
 * Reads a DC's merged topic until it matches the oracle (or `timeoutMs` passes, then whatever is there) and
 * returns the last record per entity.
 */
export async function readMerged (bootstrap: string, topic: string, oracle: ReadonlyMap<string, Write>, timeoutMs = 30_000): Promise<Map<string, MergedRecord>> {
  return lastByKey(await readUntil(bootstrap, [`${topic}.merged`], rs => matchesOracle(lastByKey(rs), oracle), { timeoutMs, orWhatIsThere: true }))
}
