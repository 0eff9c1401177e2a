import { randomUUID } from 'node:crypto'
import { KafkaError } from '../errors.ts'
import { connectAdmin } from '../kafka/admin.ts'
import type { ClientOptions } from '../kafka/client.ts'
import { connectConsumer } from '../kafka/consumer.ts'
import { partitionKey, type InBatch } from '../model/record.ts'

/** The end (high watermark) of every non-empty partition of the topics that exist, by "topic:partition"; and the topics that do not. */
export async function endsOf (client: ClientOptions, topics: readonly string[]): Promise<{ ends: Map<string, bigint>, missing: string[] }> {
  const admin = await connectAdmin(client)
  try {
    const existing = await admin.partitionCounts(topics)
    const ends = new Map<string, bigint>()
    for (const topic of topics.filter(t => existing.has(t))) {
      for (const [partition, high] of await admin.highWatermarks(topic)) if (high > 0n) ends.set(`${topic}:${partition}`, high)
    }
    return { ends, missing: topics.filter(t => !existing.has(t)) }
  } finally {
    await admin.close()
  }
}

/**
 * Reads every partition of `ends` from its beginning up to its end (records written since are left for the
 * next time), with a consumer group of its own (`<groupPrefix>-<uuid>`), handing each batch's records below
 * the end to `onBatch`, in offset order per partition. Resolves once every partition reached its end; rejects
 * with what `onBatch` threw, or when `timeoutMs` (if given) passes first.
 */
export async function readToEnds (client: ClientOptions, groupPrefix: string, ends: ReadonlyMap<string, bigint>, onBatch: (batch: InBatch) => void, timeoutMs?: number): Promise<void> {
  if (ends.size === 0) return
  const left = new Set(ends.keys())
  const consumer = await connectConsumer({ ...client, groupId: `${groupPrefix}-${randomUUID()}` })
  let finished = (): void => {}
  let failed = (_err: unknown): void => {}
  const done = new Promise<void>((resolve, reject) => { finished = resolve; failed = reject })
  await consumer.run({
    topics: [...new Set([...ends.keys()].map(k => k.slice(0, k.lastIndexOf(':'))))],
    startOffset: () => undefined,
    onBatch: async batch => {
      const at = partitionKey(batch)
      const end = ends.get(at)
      if (end === undefined || !left.has(at)) return
      try {
        onBatch({ topic: batch.topic, partition: batch.partition, records: batch.records.filter(r => BigInt(r.offset) < end) })
      } catch (err) {
        failed(err)
        return
      }
      const last = batch.records[batch.records.length - 1]
      if (last !== undefined && BigInt(last.offset) + 1n >= end) left.delete(at)
      if (left.size === 0) finished()
    }
  })
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([done, ...(timeoutMs === undefined
      ? []
      : [new Promise<void>((_resolve, reject) => {
          timer = setTimeout(() => reject(new KafkaError(`could not read ${[...left].join(', ')} to the end within ${timeoutMs / 1000} s`)), timeoutMs)
        })])])
  } finally {
    clearTimeout(timer)
    await consumer.stop()
  }
}
