import type { Consumer } from 'kafkajs'
import { KafkaError } from '../errors.ts'
import { connectFailureMessage } from './connect-error.ts'
import { createClient, type ClientOptions } from './client.ts'
import { partitionKey, type InBatch, type InRecord, type TopicPartition } from '../model/record.ts'

export interface ConsumerOptions extends ClientOptions {
  readonly groupId: string
}

export interface RunOptions {
  readonly topics: readonly string[]
  /**
   * The next offset to read for a partition, as stored by the caller (the state store is the source of truth
   * for positions), or undefined to start at the earliest offset. Consulted whenever partitions are assigned.
   */
  readonly startOffset: (topic: string, partition: number) => string | undefined
  /** Called for each fetched batch, one at a time. The batch counts as consumed once this resolves. */
  readonly onBatch: (batch: InBatch) => Promise<void>
  /**
   * Called each time the member joins the group, with every partition it is now assigned (possibly none),
   * after `onRevoked` for the ones it lost. Must not throw (it runs inside the client's group join).
   */
  readonly onAssigned?: (partitions: readonly TopicPartition[]) => void
  /**
   * Called with the partitions the member held and no longer does: at a group join, the previous assignment
   * minus the new one; when the consumer stops (or the client stops it after a crash), everything it held.
   * Never called with an empty list. Must not throw.
   */
  readonly onRevoked?: (partitions: readonly TopicPartition[]) => void
}

/** The project's consumer port: batches in offset order per partition, positions owned by the caller. */
export interface KafkaConsumer {
  run (options: RunOptions): Promise<void>
  /** Stops fetching after the batch in progress and leaves the group. */
  stop (): Promise<void>
}

export async function connectConsumer (options: ConsumerOptions): Promise<KafkaConsumer> {
  const consumer: Consumer = createClient(options).consumer({
    groupId: options.groupId,
    rebalanceTimeout: 30_000,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTimeInMs: 100
  })
  try {
    await consumer.connect()
  } catch (err) {
    throw new KafkaError(connectFailureMessage('cannot connect consumer to', options.brokers, err), { cause: err })
  }
  // Next offset to hand out per "topic:partition"; records below it were consumed already. kafkajs applies a
  // seek on its next fetch, so a fetch already in flight at assignment may still return older records.
  const expected = new Map<string, bigint>()
  // The partitions assigned at the last group join, by "topic:partition".
  let held = new Map<string, TopicPartition>()
  return {
    async run ({ topics, startOffset, onBatch, onAssigned = () => {}, onRevoked = () => {} }) {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true })
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assigned: TopicPartition[] = []
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            assigned.push({ topic, partition })
            const offset = startOffset(topic, partition)
            if (offset === undefined) continue
            expected.set(partitionKey({ topic, partition }), BigInt(offset))
            consumer.seek({ topic, partition, offset })
          }
        }
        const now = new Set(assigned.map(partitionKey))
        const lost = [...held.values()].filter(tp => !now.has(partitionKey(tp)))
        held = new Map(assigned.map(tp => [partitionKey(tp), tp]))
        if (lost.length > 0) onRevoked(lost)
        onAssigned(assigned)
      })
      // kafkajs emits STOP both for stop() and when it stops the consumer after a crash (before any restart,
      // which joins the group again): either way the member has left the group and holds nothing.
      consumer.on(consumer.events.STOP, () => {
        const lost = [...held.values()]
        held = new Map()
        if (lost.length > 0) onRevoked(lost)
      })
      await consumer.run({
        autoCommit: true,
        autoCommitInterval: 5_000,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return
          const key = partitionKey(batch)
          const floor = expected.get(key)
          let records = batch.messages as unknown as InRecord[]
          if (floor !== undefined && BigInt(records[0]!.offset) < floor) {
            records = records.filter(r => BigInt(r.offset) >= floor)
            if (records.length === 0) return
          }
          await onBatch({ topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark })
          const last = records[records.length - 1]!.offset
          expected.set(key, BigInt(last) + 1n)
          // Committed to Kafka only for lag monitoring; positions are resumed from the caller's store.
          resolveOffset(last)
          await heartbeat()
        }
      })
    },
    async stop () {
      await consumer.disconnect()
    }
  }
}
