import type { Admin } from 'kafkajs'
import { KafkaError } from '../errors.ts'
import { connectFailureMessage } from './connect-error.ts'
import { createClient, type ClientOptions } from './client.ts'

export interface TopicSpec {
  readonly topic: string
  readonly partitions: number
  readonly config?: Readonly<Record<string, string>>
}

export interface LogOffsets {
  readonly low: bigint
  readonly high: bigint
}

/** The project's admin port: the few cluster operations concord and its lab need. */
export interface KafkaAdmin {
  listTopics (): Promise<string[]>
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  createTopics (specs: readonly TopicSpec[]): Promise<void>
  /** Partition count of each existing topic among `topics`; missing topics are absent from the map. */
  partitionCounts (topics: readonly string[]): Promise<Map<string, number>>
  /** High watermark (next offset to be written) per partition. */
  highWatermarks (topic: string): Promise<Map<number, bigint>>
  /** Per partition: the log start offset (`low`, the oldest offset still kept) and the high watermark. */
  logOffsets (topic: string): Promise<Map<number, LogOffsets>>
  /** Per partition: the offset of the first record whose timestamp is at or after `ts` (ms), else the high watermark. */
  offsetsAt (topic: string, ts: number): Promise<Map<number, bigint>>
  close (): Promise<void>
}

export async function connectAdmin (options: ClientOptions): Promise<KafkaAdmin> {
  const admin: Admin = createClient(options).admin()
  try {
    await admin.connect()
  } catch (err) {
    throw new KafkaError(connectFailureMessage('cannot connect to Kafka at', options.brokers, err), { cause: err })
  }
  // Every failure of a cluster operation is a KafkaError (retriable): right after a topic is created, its
  // metadata can be missing for a moment ("This server does not host this topic-partition").
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw new KafkaError(`${what}: ${(err as Error).message}`, { cause: err })
    }
  }
  return {
    listTopics: () => attempt('cannot list topics', () => admin.listTopics()),
    createTopics: specs => attempt('cannot create topics', async () => {
      const existing = new Set(await admin.listTopics())
      const missing = specs.filter(s => !existing.has(s.topic))
      if (missing.length === 0) return
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(s => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: -1,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value }))
        }))
      })
    }),
    partitionCounts: topics => attempt('cannot read topic metadata', async () => {
      const existing = new Set(await admin.listTopics())
      const wanted = topics.filter(t => existing.has(t))
      const counts = new Map<string, number>()
      if (wanted.length === 0) return counts
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...wanted] })
      for (const t of meta) counts.set(t.name, t.partitions.length)
      return counts
    }),
    highWatermarks: topic => attempt(`cannot read the offsets of ${topic}`, async () => {
      const offsets = await admin.fetchTopicOffsets(topic)
      return new Map(offsets.map(o => [o.partition, BigInt(o.high)]))
    }),
    logOffsets: topic => attempt(`cannot read the offsets of ${topic}`, async () => {
      const offsets = await admin.fetchTopicOffsets(topic)
      return new Map(offsets.map(o => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]))
    }),
    offsetsAt: (topic, ts) => attempt(`cannot read the offsets of ${topic} at ${new Date(ts).toISOString()}`, async () => {
      // kafkajs answers the high watermark where no record is that recent (Kafka's -1).
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, ts)
      return new Map(offsets.map(o => [o.partition, BigInt(o.offset)]))
    }),
    close: () => admin.disconnect()
  }
}
