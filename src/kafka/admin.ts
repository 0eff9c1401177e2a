import type { Admin } from 'kafkajs'
import { KafkaError } from '../errors.ts'
import { createClient, type ClientOptions } from './client.ts'

export interface TopicSpec {
  readonly topic: string
  readonly partitions: number
  readonly config?: Readonly<Record<string, string>>
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
  close (): Promise<void>
}

export async function connectAdmin (options: ClientOptions): Promise<KafkaAdmin> {
  const admin: Admin = createClient(options).admin()
  try {
    await admin.connect()
  } catch (err) {
    throw new KafkaError(`cannot connect to Kafka at ${options.brokers.join(',')}`, { cause: err })
  }
  return {
    listTopics: () => admin.listTopics(),
    async createTopics (specs) {
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
    },
    async partitionCounts (topics) {
      const existing = new Set(await admin.listTopics())
      const wanted = topics.filter(t => existing.has(t))
      const counts = new Map<string, number>()
      if (wanted.length === 0) return counts
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...wanted] })
      for (const t of meta) counts.set(t.name, t.partitions.length)
      return counts
    },
    async highWatermarks (topic) {
      const offsets = await admin.fetchTopicOffsets(topic)
      return new Map(offsets.map(o => [o.partition, BigInt(o.high)]))
    },
    close: () => admin.disconnect()
  }
}
