import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConcordProcess } from '../lab/concord-process.ts'
import { up } from '../lab/lab.ts'
import { createTopicPair, startDc } from '../lab/scenario.ts'
import { labSettings } from '../lab/settings.ts'
import { connectProducer } from '../src/kafka/producer.ts'
import { latencyRecord, latencyStats, producePaced, stalled, startProbe, stopAll, waitForCount, type LatencyStats, type Paced } from './e2e.ts'

/**
 * Two-DC benchmark on the lab, MirrorMaker 2 included: one concord per DC on a fresh topic pair, writes in
 * dc1 at a modest fixed rate stamped with x-origin-ts = now, and the latency of each write to (a) its
 * copy in dc2's `dc1.<topic>` (MM2's share), (b) dc2's merged output, and (c) dc1's own merged output.
 */
export interface TwoDcOptions {
  readonly rate: number
  readonly seconds: number
}

export interface TwoDcResult {
  readonly topic: string
  readonly produced: Paced
  /** (a) write in dc1 -> received from dc2's `dc1.<topic>`. */
  readonly mirror: LatencyStats
  /** (b) write in dc1 -> received from dc2's `<topic>.merged`. */
  readonly remoteMerged: LatencyStats
  /** (b) - (a), percentile by percentile: concord's share in dc2. */
  readonly concordShare: Pick<LatencyStats, 'p50' | 'p99' | 'p999'>
  /** Per record, receive time on dc2's merged topic minus receive time on dc2's `dc1.<topic>`. */
  readonly concordPerRecord: LatencyStats
  /** (c) write in dc1 -> received from dc1's `<topic>.merged`. */
  readonly localMerged: LatencyStats
}

type Log = (line: string) => void

/** Index of a measured write from its key or entity (`run-<i>-dc1` or `run-<i>`), or -1 for other records. */
const runIndex = (key: string): number => key.startsWith('run-') ? Number.parseInt(key.slice(4), 10) : -1

export async function runTwoDc (o: TwoDcOptions, log: Log): Promise<TwoDcResult> {
  const settings = labSettings()
  await up(settings, line => log(`lab: ${line}`))
  const [dc1, dc2] = settings.dcs
  const id = Date.now().toString(36)
  const topic = `bench-2dc-${id}`
  const work = join(settings.root, '.cache', 'bench', `two-dc-${id}`)
  const stops: Array<() => Promise<unknown>> = []
  const procs: ConcordProcess[] = []
  stops.push(() => stopAll(procs))
  let ok = false
  try {
    await createTopicPair(settings, topic)
    procs.push(await startDc(settings, 0, topic, work))
    procs.push(await startDc(settings, 1, topic, work))
    log(`topic ${topic}; concord running: ${procs.map(p => `${p.dc} (pid ${p.pid}, log ${p.log})`).join(', ')}`)

    // Latency by write index, per path; warm-up writes are only counted.
    const mirror = new Map<number, number>()
    const remote = new Map<number, number>()
    const local = new Map<number, number>()
    const warm = [0, 0, 0]
    const probe = (at: string, t: string, into: Map<number, number>, w: number): ReturnType<typeof startProbe> =>
      startProbe(at, [t], (key, ms) => {
        const i = runIndex(key)
        if (i >= 0) into.set(i, ms)
        else if (key.startsWith('warm-')) warm[w]!++
      })
    for (const [at, t, into, w] of [[dc2.bootstrap, `dc1.${topic}`, mirror, 0], [dc2.bootstrap, `${topic}.merged`, remote, 1], [dc1.bootstrap, `${topic}.merged`, local, 2]] as const) {
      const consumer = await probe(at, t, into, w)
      stops.push(() => consumer.stop())
    }
    const producer = await connectProducer({ brokers: [dc1.bootstrap], clientId: 'concord-bench' })
    stops.push(() => producer.close())

    // Warm-up: MM2 discovers the new topic (refresh every 2 s) and every probe joins its group.
    const deadline = Date.now() + 120_000
    for (let k = 0; warm.some(n => n === 0); k++) {
      if (Date.now() > deadline) throw new Error(`warm-up writes not seen on every path within 120 s (dc2 copy, dc2 merged, dc1 merged: ${warm.join(', ')})`)
      await producer.send([latencyRecord(topic, 'warm', k, Date.now(), settings.partitions)])
      await sleep(500)
    }
    log(`replication and both concords warm; writing in dc1 at ${o.rate.toLocaleString('en-US')} records/s for ${o.seconds} s`)

    const produced = await producePaced(producer, (i, now) => latencyRecord(topic, 'run', i, now, settings.partitions), o.rate, o.seconds)
    for (const m of [mirror, remote, local]) await waitForCount(() => m.size, produced.produced, 15_000)
    if (Math.min(mirror.size, remote.size, local.size) < produced.produced) {
      throw await stalled(`of ${produced.produced} writes, ${mirror.size} seen in dc2's copy, ${remote.size} merged in dc2, ${local.size} merged in dc1`, procs)
    }
    log(`  produced ${produced.produced.toLocaleString('en-US')} at ${Math.round(produced.rate).toLocaleString('en-US')} records/s, each seen on every path`)

    const a = latencyStats([...mirror.values()])
    const b = latencyStats([...remote.values()])
    const perRecord: number[] = []
    for (const [i, ms] of remote) {
      const m = mirror.get(i)
      if (m !== undefined) perRecord.push(ms - m)
    }
    ok = true
    return {
      topic,
      produced,
      mirror: a,
      remoteMerged: b,
      concordShare: { p50: b.p50 - a.p50, p99: b.p99 - a.p99, p999: b.p999 - a.p999 },
      concordPerRecord: latencyStats(perRecord),
      localMerged: latencyStats([...local.values()])
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => { log(`cleanup: ${String(err)}`) })
    if (ok) rmSync(work, { recursive: true, force: true })
    else log(`concord state and logs kept in ${work}`)
  }
}
