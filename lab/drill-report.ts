/** What `npm run lab -- drill` measured, returned to the test and printed as a table. */
export interface DrillReport {
  readonly topic: string
  readonly work: string
  readonly size: { readonly entities: number, readonly rate: number, readonly outageSeconds: number }
  /** Step 1: a canary's crossing time each way (ms), and the source topics found equal to their copies. */
  readonly replication: { readonly canaryMs: Readonly<Record<string, number>>, readonly topicsChecked: number }
  readonly writes: {
    readonly acknowledged: number
    /** Writes acknowledged by dc2 while dc1 was down. */
    readonly acceptedDuringOutage: number
    /** Writes the brokers did not acknowledge (dc1's, while it was down): not receipts, so not counted as lost. */
    readonly notAcknowledged: number
  }
  /** Steps 2 and 3, sampled about every second while dc1 was down. */
  readonly outage: {
    readonly seconds: number
    readonly samples: number
    /** Samples at which dc2's processor answered /readyz with 200. */
    readonly dc2Ready: number
    readonly dc2MaxLag: number
    readonly dc2MaxOutboxPending: number
    /** Samples at which dc1's processor was still alive (/livez), its broker away. */
    readonly dc1Alive: number
    readonly mm2Alive: boolean
  }
  /** Step 4: broker start -> MM2 copied the backlog both ways and both processors are ready and caught up. */
  readonly recoverSeconds: number
  /** Broker start -> verify finds the two DCs identical. */
  readonly convergeSeconds: number
  readonly mm2Restarted: boolean
  readonly dc1ProcessorRestarted: boolean
  readonly divergentEntities: number
  readonly lostWrites: number
  /** Entities won by a write the writer saw fail but the broker had stored: newer than every receipt, not lost. */
  readonly wonByUnacknowledged: number
  readonly failover: {
    readonly lastSeenTs: number
    readonly marginMs: number
    /** Records of dc2's merged topic read after resuming by timestamp (includes what it read again). */
    readonly readOnDc2: number
    /** Records of dc2's merged topic the consumer skipped by resuming by timestamp instead of from the start. */
    readonly skipped: number
    readonly entities: number
    /** Entities where its table differs from dc2's merged topic at the end (must be 0). */
    readonly mismatched: number
  }
  readonly ok: boolean
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** The report as the small table the drill prints. */
export function formatReport (r: DrillReport): string {
  const rows: Array<[string, string]> = [
    ['topic', `${r.topic} (${r.size.entities} entities, up to ${r.size.rate} writes/s per DC)`],
    ['replication before', `canary ${Object.entries(r.replication.canaryMs).map(([k, v]) => `${k} ${s(v)}`).join(', ')}; ${r.replication.topicsChecked} source topics equal to their copies`],
    ['outage', `${r.outage.seconds} s; dc2 ready ${r.outage.dc2Ready}/${r.outage.samples} samples, max lag ${r.outage.dc2MaxLag} records, max outbox ${r.outage.dc2MaxOutboxPending}`],
    ['dc1 processor', `alive ${r.outage.dc1Alive}/${r.outage.samples} samples while its broker was down${r.dc1ProcessorRestarted ? '; RESTARTED by the drill' : ', no restart'}`],
    ['MirrorMaker 2', `${r.outage.mm2Alive ? 'kept running' : 'EXITED'} during the outage; ${r.mm2Restarted ? 'RESTARTED by the drill after failback' : 'resumed without restart'}`],
    ['writes acknowledged', String(r.writes.acknowledged)],
    ['writes accepted during outage', `${r.writes.acceptedDuringOutage} (${(r.writes.acceptedDuringOutage / r.outage.seconds).toFixed(0)}/s)`],
    ['writes not acknowledged', `${r.writes.notAcknowledged} (dc1 down; not receipts, so not lost)`],
    ['time to recover', `${s(r.recoverSeconds * 1000)} (broker start -> dc1 ready and caught up)`],
    ['time to converge', `${s(r.convergeSeconds * 1000)} (broker start -> verify identical)`],
    ['divergent entities', String(r.divergentEntities)],
    ['lost writes', String(r.lostWrites) + (r.wonByUnacknowledged > 0 ? ` (${r.wonByUnacknowledged} entities won by a write stored but not acknowledged)` : '')],
    ['consumer failover', `dc1 -> dc2 at ${new Date(r.failover.lastSeenTs).toISOString()} - ${r.failover.marginMs} ms: read ${r.failover.readOnDc2}, skipped ${r.failover.skipped}; ${r.failover.entities} entities, ${r.failover.mismatched} differ from dc2's merged`],
    ['result', r.ok ? 'PASS' : 'FAIL']
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')
}
