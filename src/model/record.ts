/**
 * The project's own record types. Everything outside src/kafka speaks these, never kafkajs types, so the
 * client library can be swapped (kafkajs is in maintenance mode).
 */

/**
 * Header values as they come off the wire (Buffer, or null for a null value) or as written (string); a
 * repeated key gives an array.
 */
export type HeaderValue = Buffer | string | null
export type RecordHeaders = Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>

/** A record read from a topic-partition. `offset` and `timestamp` are decimal strings, as Kafka's int64s. */
export interface InRecord {
  readonly offset: string
  readonly timestamp: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeaders
}

/** All records fetched in one go from one topic-partition, in offset order. */
export interface InBatch {
  readonly topic: string
  readonly partition: number
  readonly records: readonly InRecord[]
  /**
   * The partition's high watermark (the offset after its last record) when the batch was fetched, where the
   * source knows it: a batch whose last record is just below it left the partition caught up.
   */
  readonly highWatermark?: string
}

/** Whether a batch reached the end of its partition as it stood when fetched (true when that is unknown). */
export function reachesEnd (batch: InBatch): boolean {
  const last = batch.records[batch.records.length - 1]
  if (batch.highWatermark === undefined || last === undefined) return true
  return BigInt(last.offset) + 1n >= BigInt(batch.highWatermark)
}

export interface OutRecord {
  readonly topic: string
  /** Explicit partition; when omitted the producer's default partitioner hashes the key. */
  readonly partition?: number
  readonly key: Buffer | string | null
  readonly value: Buffer | string | null
  readonly headers?: RecordHeaders
}

/** The values a header entry holds, in order: one, several for a repeated key, none when absent. */
export function headerValues (raw: RecordHeaders[string]): HeaderValue[] {
  const values: ReadonlyArray<HeaderValue | undefined> = Array.isArray(raw) ? raw : [raw as HeaderValue | undefined]
  return values.filter(v => v !== undefined)
}

/** The first value of header `name` as a UTF-8 string, or undefined when absent. */
export function headerString (headers: RecordHeaders, name: string): string | undefined {
  const raw = headers[name]
  const first: HeaderValue | undefined = Array.isArray(raw) ? raw[0] : raw as HeaderValue | undefined
  if (first === undefined || first === null) return undefined
  return typeof first === 'string' ? first : first.toString('utf8')
}

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** `topic:partition`, the key of per-partition maps (positions, assignments). */
export const partitionKey = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`
