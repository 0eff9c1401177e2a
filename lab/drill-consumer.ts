import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectAdmin } from '../src/kafka/admin.ts'
import { connectConsumer, type KafkaConsumer } from '../src/kafka/consumer.ts'
import { headerString, type RecordHeaders } from '../src/model/record.ts'
import { H } from '../src/wire/contract.ts'

/**
 * A downstream application reading a DC's `<topic>.merged` into a table (the last record per entity), which
 * fails over to another DC's merged topic. Offsets cannot be carried over: each DC emits its changelog in its
 * own arrival order, so offset n means different records in each DC. It resumes by time instead: at the
 * first record of each partition whose timestamp is at or after the last timestamp it saw minus a safety
 * margin (admin `offsetsAt`). Records between that point and what it had read are read again, which a
 * changelog table absorbs (the last record per entity wins). The margin must cover how far the new DC can be
 * behind the old one, replication lag included: a change the old DC emitted late, that the new DC emitted
 * before the resume point, would be missed. With no timestamp to trust, re-read the compacted topic from the
 * beginning (`offsetsAt(topic, 0)`), which is always complete.
 */

export interface TableRow {
  readonly value: Buffer | null
  readonly eventId: string | undefined
}

export interface Failover {
  readonly from: string
  readonly to: string
  readonly marginMs: number
  /** The newest record timestamp read from the old DC. */
  readonly lastSeenTs: number
  /** The offsets it resumed at, per partition of the new DC's topic. */
  readonly resumedAt: ReadonlyMap<number, bigint>
  /** The new DC's end offsets at failover: from resumedAt up to these, records it read again or had not seen. */
  readonly endsAtFailover: ReadonlyMap<number, bigint>
}

export interface FailoverConsumer {
  readonly table: ReadonlyMap<string, TableRow>
  /** Records read from the current DC. */
  readonly read: number
  readonly bootstrap: string
  /** Leaves the current DC (unreachable: its consumer is set aside until stop) and resumes on `to` by timestamp. */
  failover (to: string, marginMs: number): Promise<Failover>
  /** Resolves once every partition's position reaches the current DC's end offsets, read when called. */
  caughtUp (timeoutMs: number): Promise<void>
  stop (): Promise<void>
}

export async function startFailoverConsumer (bootstrap: string, topic: string): Promise<FailoverConsumer> {
  const table = new Map<string, TableRow>()
  /** Next offset per partition on the current DC. */
  let next = new Map<number, bigint>()
  let lastSeenTs = 0
  let current = bootstrap
  let read = 0
  const left: KafkaConsumer[] = []

  const follow = async (brokers: string, start: ReadonlyMap<number, bigint> | undefined): Promise<KafkaConsumer> => {
    const consumer = await connectConsumer({ brokers: [brokers], clientId: 'concord-drill-downstream', groupId: `drill-downstream-${randomUUID()}` })
    await consumer.run({
      topics: [topic],
      startOffset: (_, partition) => start?.get(partition)?.toString(),
      onBatch: async batch => {
        // A consumer that was failed away from may still deliver a batch; it is ignored.
        if (brokers !== current) return
        for (const r of batch.records) {
          if (r.key === null) continue
          table.set(r.key.toString('utf8'), { value: r.value, eventId: headerString(r.headers as RecordHeaders, H.eventId) })
          lastSeenTs = Math.max(lastSeenTs, Number(r.timestamp))
          next.set(batch.partition, BigInt(r.offset) + 1n)
          read++
        }
      }
    })
    return consumer
  }

  let consumer = await follow(bootstrap, undefined)
  return {
    table,
    get read () { return read },
    get bootstrap () { return current },
    async failover (to, marginMs) {
      const from = current
      current = to
      // The old DC is down. Stopping its consumer now does not stop it: kafkajs, in the middle of its retries,
      // connects again once the DC is back and keeps the process alive. So it is left aside (its batches are
      // ignored) and stopped with the new one, when the old DC is back.
      left.push(consumer)
      const admin = await connectAdmin({ brokers: [to], clientId: 'concord-drill-downstream' })
      let resumedAt, endsAtFailover
      try {
        resumedAt = await admin.offsetsAt(topic, Math.max(0, lastSeenTs - marginMs))
        endsAtFailover = await admin.highWatermarks(topic)
      } finally {
        await admin.close()
      }
      next = new Map(resumedAt)
      read = 0
      consumer = await follow(to, resumedAt)
      return { from, to, marginMs, lastSeenTs, resumedAt, endsAtFailover }
    },
    async caughtUp (timeoutMs) {
      const admin = await connectAdmin({ brokers: [current], clientId: 'concord-drill-downstream' })
      let ends
      try {
        ends = await admin.highWatermarks(topic)
      } finally {
        await admin.close()
      }
      const deadline = Date.now() + timeoutMs
      while (![...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end)) {
        if (Date.now() > deadline) throw new Error(`the downstream consumer did not reach the end of ${topic} on ${current} within ${timeoutMs / 1000} s`)
        await sleep(200)
      }
    },
    async stop () {
      await Promise.all([consumer, ...left].map(c => c.stop()))
    }
  }
}
