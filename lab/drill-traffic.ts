import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createWriter, type Writer } from '../src/sdk/writer.ts'
import type { Receipted } from './receipt-oracle.ts'
import type { Datacenter } from './settings.ts'

/**
 * The drill's applications: one writer SDK client per DC, each writing puts (and a few deletes) of random
 * entities at a steady rate, one write in flight at a time, and keeping a receipt of every acknowledged write.
 * A write the brokers did not acknowledge is counted, not kept: the writer SDK says it may or may not have
 * been stored, so it is neither a receipt nor a lost write.
 */

export type Phase = 'before' | 'outage' | 'after'

export interface DcCounts {
  readonly acknowledged: Record<Phase, number>
  readonly notAcknowledged: Record<Phase, number>
}

export interface TrafficOptions {
  readonly topic: string
  readonly entities: number
  /** Writes per second per DC. */
  readonly rate: number
  readonly work: string
}

export interface Traffic {
  readonly receipts: readonly Receipted[]
  readonly counts: ReadonlyMap<string, DcCounts>
  /** The phase the next writes are counted in. */
  phase: Phase
  /** Stops the loops, waits for the writes in flight and closes the writers. */
  stop (): Promise<void>
}

const zero = (): Record<Phase, number> => ({ before: 0, outage: 0, after: 0 })

export async function startTraffic (dcs: readonly Datacenter[], options: TrafficOptions): Promise<Traffic> {
  const receipts: Receipted[] = []
  const counts = new Map<string, DcCounts>()
  // An object, so the loops see stop() change it.
  const run = { on: true }
  const traffic: Traffic = {
    receipts,
    counts,
    phase: 'before',
    async stop () {
      run.on = false
      await Promise.all(loops)
    }
  }
  const writers: Writer[] = []
  try {
    for (const dc of dcs) {
      writers.push(await createWriter({
        dc: dc.id,
        brokers: [dc.bootstrap],
        topics: { [options.topic]: { codec: 'msgpack' } },
        clockFile: join(options.work, `${dc.id}.clock`),
        // A write to a DC that is down fails within about a second instead of 15 s, so the loop keeps its pace.
        retries: 2
      }))
    }
  } catch (err) {
    await Promise.all(writers.map(w => w.close()))
    throw err
  }
  const loops = writers.map(async (w, i) => {
    const c: DcCounts = { acknowledged: zero(), notAcknowledged: zero() }
    counts.set(w.dc, c)
    const pause = 1000 / options.rate
    for (let seq = 0; run.on; seq++) {
      const started = Date.now()
      const phase = traffic.phase
      // Both DCs write the same entities, so concurrent writes conflict and last-write-wins decides.
      const entity = `e-${Math.floor(Math.random() * options.entities)}`
      const value = seq % 10 === 9 ? null : { dc: w.dc, seq, at: started }
      try {
        const receipt = value === null ? await w.delete(options.topic, entity) : await w.put(options.topic, entity, value)
        receipts.push({ entity, dc: w.dc, value, receipt })
        c.acknowledged[phase]++
      } catch {
        c.notAcknowledged[phase]++
      }
      // The two writers start half a period apart, so their writes interleave.
      await sleep(Math.max(0, pause - (Date.now() - started)) + (seq === 0 ? i * pause / 2 : 0))
    }
    await w.close().catch(() => {})
  })
  return traffic
}
