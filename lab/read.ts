import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectConsumer } from '../src/kafka/consumer.ts'
import type { InRecord } from '../src/model/record.ts'

export interface ReadRecord extends InRecord {
  readonly topic: string
  readonly partition: number
}

/**
 * Reads `topics` from the beginning with the project's consumer (fresh group) until `done(records)` holds,
 * or throws after `timeoutMs` with what it saw. `settleMs` keeps reading after `done` first holds, to catch
 * records that should NOT arrive (duplicates, loops). With `orWhatIsThere`, a timeout returns every record
 * read so far instead of throwing: for tests whose assertions then show what differs.
 */
export async function readUntil (
  brokers: string,
  topics: readonly string[],
  done: (records: readonly ReadRecord[]) => boolean,
  { timeoutMs = 30_000, settleMs = 0, orWhatIsThere = false } = {}
): Promise<ReadRecord[]> {
  const records: ReadRecord[] = []
  const consumer = await connectConsumer({ brokers: [brokers], clientId: 'concord-test', groupId: `test-${randomUUID()}` })
  const running = consumer.run({
    topics,
    startOffset: () => undefined,
    onBatch: async batch => {
      for (const r of batch.records) records.push({ ...r, topic: batch.topic, partition: batch.partition })
    }
  })
  try {
    await running
    const deadline = Date.now() + timeoutMs
    while (!done(records)) {
      if (Date.now() > deadline) {
        if (orWhatIsThere) return records
        throw new Error(`timed out after ${timeoutMs} ms reading ${topics.join(', ')} from ${brokers}; saw ${records.length} records`)
      }
      await sleep(100)
    }
    if (settleMs > 0) await sleep(settleMs)
    return records
  } finally {
    await consumer.stop()
  }
}

/** The last record per key, as a compacted changelog would keep it. */
export function lastByKey<T extends { key: Buffer | null }> (records: readonly T[]): Map<string, T> {
  const last = new Map<string, T>()
  for (const r of records) if (r.key !== null) last.set(r.key.toString('utf8'), r)
  return last
}
