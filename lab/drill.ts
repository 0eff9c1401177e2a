import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startConcord, sum, type ConcordProcess } from './concord-process.ts'
import { canary, checkAcknowledged, mirrorLag, processorLag, readMergedToEnd, sourceTopics, verifyUntil, waitFor } from './drill-checks.ts'
import { startFailoverConsumer, type FailoverConsumer } from './drill-consumer.ts'
import type { DrillReport } from './drill-report.ts'
import { startTraffic, type Traffic } from './drill-traffic.ts'
import { brokerRunning, mirrorMakerRunning, restartMirrorMaker, startBroker, stopBroker } from './outage.ts'
import { receiptWinners } from './receipt-oracle.ts'
import { createTopicPair } from './scenario.ts'
import type { Datacenter, LabSettings } from './settings.ts'

/**
 * The disaster-recovery drill of the multi-DC guides, end to end on a running lab: (1) replication works both
 * ways; (2) dc1's broker stops while writers keep writing in both DCs (dc1's fail) and a downstream consumer
 * fails over from dc1's merged topic to dc2's; (3) dc2 keeps serving; (4) dc1's broker starts again, MM2
 * copies the backlog and both processors catch up; (5) verify finds both DCs identical and every acknowledged
 * write's winner is in both merged outputs. dc1's broker is always started again, whatever fails.
 */

export interface DrillOptions {
  readonly entities: number
  /** Writes per second per DC. */
  readonly rate: number
  /** Both DCs up, writing, before the outage. */
  readonly warmupSeconds: number
  readonly outageSeconds: number
  /** The downstream consumer resumes on dc2 at the last timestamp it saw minus this. */
  readonly marginMs: number
  /**
   * How long MM2 may copy nothing of the backlog after failback before the drill restarts it. Its dc2->dc1
   * flow keeps its Connect group on dc1: after an outage longer than the group's session, it rejoins with
   * no connectors assigned and copies nothing until restarted.
   */
  readonly mm2StallMs: number
  /** The longest wait of any one step. */
  readonly stepTimeoutMs: number
  /** Working folder: the processors' configs, state and logs, the writers' clock files. */
  readonly work: string
}

export const FULL_SIZE = { entities: 1000, rate: 50, warmupSeconds: 15, outageSeconds: 60, marginMs: 10_000, mm2StallMs: 20_000, stepTimeoutMs: 180_000 } as const
export const CI_SIZE = { entities: 50, rate: 10, warmupSeconds: 5, outageSeconds: 15, marginMs: 5_000, mm2StallMs: 20_000, stepTimeoutMs: 90_000 } as const

type Log = (line: string) => void

const alive = async (p: ConcordProcess): Promise<boolean> => {
  try {
    return (await fetch(`http://127.0.0.1:${p.port}/livez`)).ok
  } catch {
    return false
  }
}

export async function runDrill (settings: LabSettings, options: DrillOptions, log: Log): Promise<DrillReport> {
  const [dc1, dc2] = settings.dcs
  const topic = `drill-${Date.now().toString(36)}`
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`
  const step = (line: string): void => log(`[${elapsed()}] ${line}`)
  const procs: ConcordProcess[] = []
  let traffic: Traffic | undefined
  let consumer: FailoverConsumer | undefined
  try {
    // 1. Replication both ways, before anything else.
    const canaryMs = {
      'dc1->dc2': await canary(dc1, dc2, options.stepTimeoutMs),
      'dc2->dc1': await canary(dc2, dc1, options.stepTimeoutMs)
    }
    let topicsChecked = 0
    for (const [source, target] of [[dc1, dc2], [dc2, dc1]] as const) {
      for (const t of await sourceTopics(source, [target])) {
        await waitFor(`MM2 copies ${source.id}'s ${t} to ${target.id}`, options.stepTimeoutMs, async () => (await mirrorLag(source, target, t)) === 0 ? true : undefined)
        topicsChecked++
      }
    }
    step(`1. replication: canary dc1->dc2 ${canaryMs['dc1->dc2']} ms, dc2->dc1 ${canaryMs['dc2->dc1']} ms; ${topicsChecked} source topics equal to their remote copies`)

    await createTopicPair(settings, topic)
    const spec = (dc: Datacenter, peer: Datacenter) => ({
      dc: dc.id,
      peers: [peer.id],
      brokers: dc.bootstrap,
      topics: [{ name: topic, policy: 'lww' }],
      dir: join(options.work, dc.id),
      groupId: `concord-${dc.id}-${topic}`,
      // Lag read every second, so readiness follows the drill's steps closely.
      config: { metrics: { lagIntervalMs: 1_000 } }
    })
    procs.push(...await Promise.all([startConcord(spec(dc1, dc2)), startConcord(spec(dc2, dc1))]))
    const [p1, p2] = procs as [ConcordProcess, ConcordProcess]
    traffic = await startTraffic([dc1, dc2], { topic, entities: options.entities, rate: options.rate, work: options.work })
    consumer = await startFailoverConsumer(dc1.bootstrap, `${topic}.merged`)
    step(`processors ready on ${topic}; writers writing ${options.rate}/s per DC over ${options.entities} entities; downstream consumer reading dc1's ${topic}.merged`)
    await sleep(options.warmupSeconds * 1000)
    const read = consumer.read
    step(`warm-up: ${traffic.receipts.length} writes acknowledged, the consumer read ${read} merged records from dc1; MM2 lag dc1->dc2 ${await mirrorLag(dc1, dc2, topic)}, dc2->dc1 ${await mirrorLag(dc2, dc1, topic)} records`)

    // 2. The outage.
    await stopBroker(settings, dc1)
    // From here on dc1 is gone: a write in flight during the stop counts as before the outage.
    traffic.phase = 'outage'
    const outageFrom = Date.now()
    step('2. dc1\'s broker stopped')
    const failover = await consumer.failover(dc2.bootstrap, options.marginMs)
    step(`downstream consumer failed over to dc2: resumes at ${[...failover.resumedAt].map(([p, o]) => `p${p}@${o}`).join(' ')} (last seen ${new Date(failover.lastSeenTs).toISOString()} - ${options.marginMs} ms)`)

    // 3. dc2 serving, sampled every second.
    const o = { samples: 0, dc2Ready: 0, dc2MaxLag: 0, dc2MaxOutboxPending: 0, dc1Alive: 0, mm2Alive: true }
    while (Date.now() - outageFrom < options.outageSeconds * 1000) {
      const tick = Date.now()
      o.samples++
      if (await p2.ready()) o.dc2Ready++
      o.dc2MaxLag = Math.max(o.dc2MaxLag, await processorLag(p2, dc2, dc1, topic).catch(() => Infinity))
      o.dc2MaxOutboxPending = Math.max(o.dc2MaxOutboxPending, (await p2.metrics()).get('concord_outbox_pending') ?? 0)
      if (await alive(p1)) o.dc1Alive++
      o.mm2Alive &&= mirrorMakerRunning(settings)
      await sleep(Math.max(0, 1000 - (Date.now() - tick)))
    }
    traffic.phase = 'after'
    await traffic.stop()
    const counts = [...traffic.counts.values()]
    const acceptedDuringOutage = counts.reduce((n, c) => n + c.acknowledged.outage, 0)
    step(`3. outage of ${((Date.now() - outageFrom) / 1000).toFixed(0)} s: dc2 accepted ${acceptedDuringOutage} writes, ready ${o.dc2Ready}/${o.samples} samples, max lag ${o.dc2MaxLag}; writers stopped`)

    // 4. Failback.
    const brokerStart = Date.now()
    await startBroker(settings, dc1)
    step('4. dc1\'s broker started again')
    let mm2Restarted = false
    let dc1ProcessorRestarted = false
    // MM2 is restarted once when it makes no progress on the backlog for mm2StallMs (see DrillOptions).
    let progress = { lag: Infinity, at: Date.now() }
    await waitFor('MM2 copies the backlog both ways', options.stepTimeoutMs, async () => {
      const lag = await mirrorLag(dc2, dc1, topic) + await mirrorLag(dc1, dc2, topic)
      if (lag === 0) return true
      if (lag < progress.lag) progress = { lag, at: Date.now() }
      if (!mm2Restarted && (!mirrorMakerRunning(settings) || Date.now() - progress.at > options.mm2StallMs)) {
        step(`MM2 copied none of the backlog (${lag} records) for ${options.mm2StallMs / 1000} s: restarting it`)
        mm2Restarted = true
        await restartMirrorMaker(settings)
      }
      return undefined
    }, 250)
    step(`MM2 copied the backlog in ${((Date.now() - brokerStart) / 1000).toFixed(1)} s${mm2Restarted ? ' (after a restart)' : ' without a restart'}`)
    if (!(await alive(p1))) {
      step('dc1\'s processor is gone: starting it again')
      dc1ProcessorRestarted = true
      procs[0] = await startConcord({ ...spec(dc1, dc2), port: p1.port })
    }
    const q1 = procs[0]!
    // A restarted processor counts its records from its restart: its lag gauge (fresh again now) tells instead.
    const lag1 = async (): Promise<number> => dc1ProcessorRestarted ? sum(await q1.metrics(), 'concord_consumer_lag_records{') : await processorLag(q1, dc1, dc2, topic)
    if (dc1ProcessorRestarted) await sleep(2_500)
    await waitFor('dc1\'s processor ready and caught up', options.stepTimeoutMs, async () =>
      await q1.ready() && await lag1() === 0 && await processorLag(p2, dc2, dc1, topic) === 0 ? true : undefined, 250)
    const recoverSeconds = (Date.now() - brokerStart) / 1000
    step(`dc1's processor ready and caught up ${recoverSeconds.toFixed(1)} s after the broker start`)

    // 5. Verify.
    const comparison = await verifyUntil(q1, p2, topic, options.stepTimeoutMs)
    const convergeSeconds = (Date.now() - brokerStart) / 1000
    const divergentEntities = comparison.converged ? 0 : comparison.differing.length + comparison.more
    step(`5. verify: ${comparison.converged ? `identical (${comparison.entities[0]} entities, digest ${comparison.digests[0].slice(0, 16)})` : `${divergentEntities} entities differ`} ${convergeSeconds.toFixed(1)} s after the broker start`)
    const winners = receiptWinners(traffic.receipts)
    const acknowledged = new Set(traffic.receipts.map(r => r.receipt.eventId))
    const lost = new Set<string>()
    const unacknowledged = new Set<string>()
    const merged2 = await readMergedToEnd(dc2, topic)
    for (const merged of [await readMergedToEnd(dc1, topic), merged2]) {
      const a = checkAcknowledged(winners, merged, acknowledged)
      for (const e of a.lost) lost.add(e)
      for (const e of a.wonByUnacknowledged) unacknowledged.add(e)
    }
    step(`acknowledged writes: ${traffic.receipts.length}, winners of ${winners.size} entities; lost ${lost.size}${lost.size > 0 ? ` (${[...lost].slice(0, 10).join(', ')})` : ''}`)

    await consumer.caughtUp(options.stepTimeoutMs)
    const mismatched = [...new Set([...consumer.table.keys(), ...merged2.keys()])].filter(e => {
      const mine = consumer!.table.get(e)
      const theirs = merged2.get(e)
      const live = (v: Buffer | null | undefined): boolean => v !== null && v !== undefined
      if (!live(mine?.value) && !live(theirs?.value)) return false
      return mine?.value?.equals(theirs?.value ?? Buffer.alloc(0)) !== true
    }).length
    const skipped = Number([...failover.resumedAt.values()].reduce((n, off) => n + off, 0n))
    step(`downstream consumer on dc2: ${consumer.table.size} entities, ${mismatched} differ from dc2's merged topic`)
    const failoverReport = { lastSeenTs: failover.lastSeenTs, marginMs: options.marginMs, readOnDc2: consumer.read, skipped, entities: consumer.table.size, mismatched }
    return {
      topic,
      work: options.work,
      size: { entities: options.entities, rate: options.rate, outageSeconds: options.outageSeconds },
      replication: { canaryMs, topicsChecked },
      writes: { acknowledged: traffic.receipts.length, acceptedDuringOutage, notAcknowledged: counts.reduce((n, c) => n + c.notAcknowledged.outage + c.notAcknowledged.before + c.notAcknowledged.after, 0) },
      outage: { seconds: options.outageSeconds, ...o },
      recoverSeconds,
      convergeSeconds,
      mm2Restarted,
      dc1ProcessorRestarted,
      divergentEntities,
      lostWrites: lost.size,
      wonByUnacknowledged: unacknowledged.size,
      failover: failoverReport,
      ok: divergentEntities === 0 && lost.size === 0 && mismatched === 0
    }
  } finally {
    await traffic?.stop().catch(() => {})
    // The lab is always left whole: dc1's broker comes back even when a step failed.
    if (!brokerRunning(settings, dc1)) {
      step('restoring the lab: starting dc1\'s broker')
      await startBroker(settings, dc1)
    }
    await consumer?.stop().catch(() => {})
    await Promise.all(procs.map(p => p.stop().catch(() => null)))
  }
}
