import kafkajs from './kafkajs.ts'
import type { Message, Producer } from 'kafkajs'
import { KafkaError } from '../errors.ts'
import { connectFailureMessage } from './connect-error.ts'
import { createClient, type ClientOptions } from './client.ts'
import type { OutRecord } from '../model/record.ts'
import { DEFAULT_MAX_REQUEST_BYTES, requestChunks } from './request-chunks.ts'

const { CompressionTypes, Partitioners } = kafkajs

/**
 * What kafkajs warns at each start of an idempotent producer whose retries are finite (kafkajs merges the
 * client's `retries` into the producer's). Finite on purpose: a send that keeps failing rejects, and the
 * outbox's background flush retries it with a back-off, logging each failure, and can stop (SIGTERM) while
 * the cluster is away; with unbounded retries a send would never return. What the warning guards (Java's
 * exactly-once) concord does not rely on: kafkajs rolls a partition's sequence number back when a request
 * fails, so a retry never reorders records; a record written by a failed attempt may be written again, which
 * a changelog absorbs (the last record per entity is still the newest). The README explains it once; the
 * line is dropped here.
 */
export const LIMITED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees'

/** The client's onLog without kafkajs' limited-retries warning (see LIMITED_RETRIES_WARNING). */
function withoutRetriesWarning (options: ClientOptions): ClientOptions {
  const onLog = options.onLog
  if (onLog === undefined) return options
  return { ...options, onLog: (level, message, extra) => { if (message !== LIMITED_RETRIES_WARNING) onLog(level, message, extra) } }
}

/**
 * The project's producer port. `send` resolves once every record is acknowledged by all in-sync replicas;
 * records of one partition are written in the order given.
 */
export interface KafkaProducer {
  send (records: readonly OutRecord[]): Promise<void>
  close (): Promise<void>
}

export interface ProducerOptions extends ClientOptions {
  /** 'none' (default), 'gzip', 'snappy', 'lz4' or 'zstd'. */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Uncompressed bytes per produce request, at most (default 900,000: under Kafka's 1 MiB batch limit). */
  readonly maxRequestBytes?: number
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
  const producer: Producer = createClient(withoutRetriesWarning(options)).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner
  })
  try {
    await producer.connect()
  } catch (err) {
    throw new KafkaError(connectFailureMessage('cannot connect producer to', options.brokers, err), { cause: err })
  }
  const compression = compressionTypes[options.compression ?? 'none']
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES
  return {
    async send (records) {
      // kafkajs does no batching of its own: group by topic and send as few requests as Kafka's size limit
      // allows, one after the other (one request in flight keeps each partition's order).
      for (const chunk of requestChunks(records, maxRequestBytes)) {
        await producer.sendBatch({ acks: -1, compression, topicMessages: byTopic(chunk) })
      }
    },
    close: () => producer.disconnect()
  }
}

function byTopic (records: readonly OutRecord[]): Array<{ topic: string, messages: Message[] }> {
  const topics = new Map<string, Message[]>()
  for (const r of records) {
    let messages = topics.get(r.topic)
    if (messages === undefined) topics.set(r.topic, messages = [])
    const m: Message = { key: r.key, value: r.value }
    if (r.partition !== undefined) m.partition = r.partition
    if (r.headers !== undefined) m.headers = r.headers as Message['headers'] & object
    messages.push(m)
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }))
}
