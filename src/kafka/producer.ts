import kafkajs from 'kafkajs'
import type { Message, Producer } from 'kafkajs'
import { KafkaError } from '../errors.ts'
import { createClient, type ClientOptions } from './client.ts'
import type { OutRecord } from './records.ts'

const { CompressionTypes, Partitioners } = kafkajs

/** The project's producer port. `send` resolves once every record is acknowledged by all in-sync replicas. */
export interface KafkaProducer {
  send (records: readonly OutRecord[]): Promise<void>
  close (): Promise<void>
}

export interface ProducerOptions extends ClientOptions {
  /** 'none' (default), 'gzip', 'snappy', 'lz4' or 'zstd'. */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
}

const compressionTypes = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD
} as const

export async function connectProducer (options: ProducerOptions): Promise<KafkaProducer> {
  // Idempotent with one request in flight: retries can neither duplicate nor reorder records within a
  // partition, which the merged changelog relies on (a stale value must never end up last).
  const producer: Producer = createClient(options).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner
  })
  try {
    await producer.connect()
  } catch (err) {
    throw new KafkaError(`cannot connect producer to ${options.brokers.join(',')}`, { cause: err })
  }
  const compression = compressionTypes[options.compression ?? 'none']
  return {
    async send (records) {
      if (records.length === 0) return
      // kafkajs does no batching of its own: group by topic and send everything in one request.
      const byTopic = new Map<string, Message[]>()
      for (const r of records) {
        let messages = byTopic.get(r.topic)
        if (messages === undefined) byTopic.set(r.topic, messages = [])
        const m: Message = { key: r.key, value: r.value }
        if (r.partition !== undefined) m.partition = r.partition
        if (r.headers !== undefined) m.headers = r.headers as Message['headers'] & object
        messages.push(m)
      }
      await producer.sendBatch({
        acks: -1,
        compression,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages }))
      })
    },
    close: () => producer.disconnect()
  }
}
