import type { Config } from '../config/schema.ts'
import { UsageError } from '../errors.ts'
import type { ClientOptions } from '../kafka/client.ts'
import { connectProducer } from '../kafka/producer.ts'
import { headerString, type InRecord, type OutRecord, type RecordHeaders } from '../model/record.ts'
import { DLQ } from '../wire/contract.ts'
import { commandClient } from './kafka-client.ts'
import { endsOf, readToEnds } from './read-to-ends.ts'

/** A dead letter as `dlq list` shows it: where it sits, where it came from, why, and the record as it was. */
export interface DeadLetter {
  readonly dlq: { readonly topic: string, readonly partition: number, readonly offset: string }
  /** The input record it was, from its `__connect.errors.*` headers; undefined when they are missing or bad. */
  readonly source: { readonly topic: string, readonly partition: number, readonly offset: string } | undefined
  readonly stage: string | undefined
  readonly errorClass: string | undefined
  readonly reason: string | undefined
  /** The DC whose concord dead-lettered it. */
  readonly dc: string | undefined
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** The input record's own headers: every header but the dead-letter ones. */
  readonly headers: RecordHeaders
}

const ERROR_HEADERS: ReadonlySet<string> = new Set(Object.values(DLQ))

export function readDeadLetter (topic: string, partition: number, record: InRecord): DeadLetter {
  const h = (name: string): string | undefined => headerString(record.headers, name)
  const sourceTopic = h(DLQ.topic)
  const sourcePartition = Number(h(DLQ.partition))
  const sourceOffset = h(DLQ.offset)
  const source = sourceTopic !== undefined && sourceTopic !== '' && Number.isSafeInteger(sourcePartition) && sourcePartition >= 0 && sourceOffset !== undefined
    ? { topic: sourceTopic, partition: sourcePartition, offset: sourceOffset }
    : undefined
  return {
    dlq: { topic, partition, offset: record.offset },
    source,
    stage: h(DLQ.stage),
    errorClass: h(DLQ.exceptionClass),
    reason: h(DLQ.message),
    dc: h(DLQ.dc),
    key: record.key,
    value: record.value,
    headers: Object.fromEntries(Object.entries(record.headers).filter(([name]) => !ERROR_HEADERS.has(name)))
  }
}

/** The record to send back for processing: the input record as it was, to its topic and partition; or why it cannot be. */
export function replayRecord (d: DeadLetter): OutRecord | string {
  if (d.source === undefined) return `${d.dlq.topic}:${d.dlq.partition}@${d.dlq.offset} has no valid ${DLQ.topic} / ${DLQ.partition} headers: not a concord dead letter`
  return { topic: d.source.topic, partition: d.source.partition, key: d.key, value: d.value, headers: d.headers }
}

/** One line per dead letter: `dlq:partition@offset  source:partition@offset  stage  class: reason  key=…`. */
export function describeDeadLetter (d: DeadLetter): string {
  const source = d.source === undefined ? '(unknown source)' : `${d.source.topic}:${d.source.partition}@${d.source.offset}`
  const key = d.key === null ? 'null' : JSON.stringify(d.key.toString('utf8'))
  return `${d.dlq.topic}:${d.dlq.partition}@${d.dlq.offset}  ${source}  ${d.stage ?? '?'}  ${d.errorClass ?? '?'}: ${d.reason ?? '?'}  key=${key}`
}

/** The dead-letter topics of the configuration, or those of `--topic` (configured topics' names); none given: all. */
export function dlqTopicsOf (config: Config, topics: readonly string[]): string[] {
  if (topics.length === 0) return config.topics.map(t => t.dlqTopic)
  return topics.map(name => {
    const t = config.topics.find(t => t.name === name)
    if (t === undefined) throw new UsageError(`--topic must be one of the configured topics (${config.topics.map(t => t.name).join(', ')}), got "${name}"`)
    return t.dlqTopic
  })
}

/** Every dead letter of `topics` up to their ends now, oldest first per partition. */
export async function readDeadLetters (client: ClientOptions, topics: readonly string[], timeoutMs = 60_000): Promise<DeadLetter[]> {
  const { ends } = await endsOf(client, topics)
  const letters: DeadLetter[] = []
  await readToEnds(client, `${client.clientId}-dlq`, ends, batch => {
    for (const r of batch.records) letters.push(readDeadLetter(batch.topic, batch.partition, r))
  }, timeoutMs)
  return letters.sort((a, b) => a.dlq.topic.localeCompare(b.dlq.topic) || a.dlq.partition - b.dlq.partition || Number(BigInt(a.dlq.offset) - BigInt(b.dlq.offset)))
}

/** `concord dlq list`: the dead letters of the configured topics (or one), oldest first. */
export async function dlqList (config: Config, topics: readonly string[]): Promise<DeadLetter[]> {
  return readDeadLetters(commandClient(config), dlqTopicsOf(config, topics))
}

/**
 * `concord dlq replay`: sends each dead letter back to the input topic and partition it came from, as it
 * was (its own headers, its event id), to be processed again after a fix (a larger `maxValueBytes`, a
 * corrected policy module). A dry run unless `execute`. Replaying twice sends them twice: those applied the
 * first time are then dropped as duplicates, those that fail again are dead-lettered again.
 */
export async function dlqReplay (config: Config, topics: readonly string[], execute: boolean): Promise<{ replayable: DeadLetter[], refused: string[] }> {
  const letters = await dlqList(config, topics)
  const replayable: DeadLetter[] = []
  const records: OutRecord[] = []
  const refused: string[] = []
  for (const d of letters) {
    const r = replayRecord(d)
    if (typeof r === 'string') refused.push(r)
    else {
      replayable.push(d)
      records.push(r)
    }
  }
  if (execute && records.length > 0) {
    const producer = await connectProducer(commandClient(config))
    try {
      await producer.send(records)
    } finally {
      await producer.close()
    }
  }
  return { replayable, refused }
}
