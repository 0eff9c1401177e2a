import { setTimeout as sleep } from 'node:timers/promises'
import { codecs, type Codec } from '../codec/value-codec.ts'
import { ClockError, ConcordError, KafkaError, WriterError } from '../errors.ts'
import { connectAdmin } from '../kafka/admin.ts'
import { connectProducer, type KafkaProducer } from '../kafka/producer.ts'
import { recordBytes } from '../kafka/request-chunks.ts'
import { HybridClock } from '../model/hlc.ts'
import type { OutRecord } from '../model/record.ts'
import { entityPartition } from '../wire/partitioner.ts'
import { formatTs, originHeaders, suffixedKey } from '../wire/contract.ts'
import { readClockMark, writeClockMark } from './clock-file.ts'
import { uuidv7 } from './event-id.ts'
import { OwnState, type OwnOp, type OwnTopic } from './own-state.ts'
import { SendQueue } from './send-queue.ts'
import { writerSettings, type WriterOptions, type WriterSettings } from './writer-options.ts'

/** What the broker acknowledged for one write. */
export interface WriteReceipt {
  readonly topic: string
  readonly partition: number
  /** `<entityId><sep><dc>`. */
  readonly key: string
  /** The `x-origin-ts` stamped on it (`<ms>:<counter>`, the counter left out when 0). */
  readonly originTs: string
  /** The `x-event-id` (a UUIDv7). */
  readonly eventId: string
}

export type WriteOp =
  | { readonly op: 'put', readonly topic: string, readonly entityId: string, readonly value: unknown }
  | { readonly op: 'delete', readonly topic: string, readonly entityId: string }

export interface Writer {
  readonly dc: string
  /** This writer's id within its DC: the slot its counter totals take (`topics.<t>.counter.writerField`). */
  readonly writerId: string
  /** Writes a new version of the entity; resolves once the broker acknowledged it. */
  put (topic: string, entityId: string, value: unknown): Promise<WriteReceipt>
  /** Deletes the entity (a Kafka tombstone with origin headers). */
  delete (topic: string, entityId: string): Promise<WriteReceipt>
  /** Several puts and deletes in one request: every op is checked before any is stamped or sent. */
  write (ops: readonly WriteOp[]): Promise<WriteReceipt[]>
  /**
   * Adds `by` (a safe integer, may be negative) to a counter topic's entity: publishes this writer's new
   * running total for it, which the counter policy adds to every other writer's and DC's.
   */
  increment (topic: string, entityId: string, by: number): Promise<WriteReceipt>
  /** Adds elements to a set topic's entity: publishes this writer's new set, which the union policy unites with every other writer's and DC's. */
  add (topic: string, entityId: string, ...elements: unknown[]): Promise<WriteReceipt>
  /** Takes elements out of this writer's set (they stay in the merged set while another writer's set holds them). */
  remove (topic: string, entityId: string, ...elements: unknown[]): Promise<WriteReceipt>
  /** Sends what is queued, waits for its acknowledgements, then disconnects; later calls are refused. */
  close (): Promise<void>
}

/** What a writer needs of Kafka: a producer, and each topic's partition count. Tests pass a fake. */
export interface WriterPorts {
  readonly producer: KafkaProducer
  readonly partitionCounts: ReadonlyMap<string, number>
}

/** Connects to the DC's brokers, checks the topics exist, and returns a writer (see README, "Writer SDK"). */
export async function createWriter (options: WriterOptions): Promise<Writer> {
  const settings = writerSettings(options)
  const client = {
    brokers: settings.brokers,
    clientId: settings.clientId,
    ...(settings.tls === undefined ? {} : { tls: settings.tls }),
    ...(settings.sasl === undefined ? {} : { sasl: settings.sasl }),
    ...(settings.retries === undefined ? {} : { retries: settings.retries })
  }
  const admin = await connectAdmin(client)
  let partitionCounts: Map<string, number>
  try {
    partitionCounts = await admin.partitionCounts(Object.keys(settings.topics))
  } finally {
    await admin.close()
  }
  const producer = await connectProducer({ ...client, ...(settings.compression === undefined ? {} : { compression: settings.compression }) })
  try {
    return await openWriter(settings, { producer, partitionCounts })
  } catch (err) {
    await producer.close()
    throw err
  }
}

interface Bound {
  readonly name: string
  readonly codec: Codec
  readonly partitions: number
  /** For a counter or set topic: how this writer publishes its own state. */
  readonly own: OwnTopic | undefined
}

/** One call's part of a request: a record stamped when called, or this writer's own state, computed when sent. */
type Item =
  | { readonly kind: 'record', readonly record: OutRecord }
  | { readonly kind: 'own', readonly topic: Bound, readonly entityId: string, readonly op: OwnOp, receipt?: WriteReceipt }

export async function openWriter (options: WriterOptions | WriterSettings, ports: WriterPorts): Promise<Writer> {
  const s = writerSettings(options)
  const missing = Object.keys(s.topics).filter(t => !ports.partitionCounts.has(t))
  if (missing.length > 0) {
    throw new WriterError(`topic ${missing.map(t => `"${t}"`).join(', ')} does not exist on ${s.dc}'s brokers (${s.brokers.join(',')}); create ${missing.length === 1 ? 'it' : 'them'} first, with the same partition count in every DC`)
  }
  const topics = new Map<string, Bound>(Object.entries(s.topics).map(([name, t]) => {
    const codec = codecs[t.codec ?? 'msgpack']
    const fields = t.counter ?? t.set
    const own = fields === undefined ? undefined : { name, codec, fields, kind: t.counter === undefined ? 'set' as const : 'counter' as const }
    return [name, { name, codec, partitions: ports.partitionCounts.get(name)!, own }]
  }))
  const clock = startClock(s)
  // Without a high-water mark, wait until the physical clock has passed every time an earlier run of this
  // writer can have given: at most the maximum offset ahead of the physical clock of that time.
  if (s.clockFile === undefined) await sleep(s.maxOffsetMs)
  const writerId = uuidv7(s.physicalClock(), 0)
  /** This writer's totals and sets, including only acknowledged or in-flight changes. */
  const own = new OwnState(writerId)
  let closed = false

  const stampRecord = (t: Bound, entityId: string, value: Buffer | null): { record: OutRecord, receipt: WriteReceipt } => {
    let time
    try {
      time = clock.now()
    } catch (err) {
      if (err instanceof ClockError) throw new ClockError(`${s.dc} writer refuses to stamp a write to "${t.name}": ${err.message}`, { cause: err })
      throw err
    }
    const stamp = { ts: time.ts, counter: time.counter, dc: s.dc, eventId: uuidv7(time.ts, time.counter) }
    const key = suffixedKey(entityId, s.dc, s.keySeparator)
    const partition = entityPartition(entityId, t.partitions)
    const record: OutRecord = { topic: t.name, partition, key, value, headers: originHeaders(stamp) }
    const size = recordBytes(record)
    if (size > s.maxRecordBytes) {
      throw new WriterError(`the write of "${entityId}" to "${t.name}" is ${size} bytes with its key and headers, over the limit of ${s.maxRecordBytes} ("maxRecordBytes"; Kafka's own default limit is 1 MiB)`)
    }
    return { record, receipt: { topic: t.name, partition, key, originTs: formatTs(time), eventId: stamp.eventId } }
  }

  const topicOf = (name: unknown): Bound => {
    const t = typeof name === 'string' ? topics.get(name) : undefined
    if (t === undefined) throw new WriterError(`unknown topic ${JSON.stringify(name)}: this writer writes ${[...topics.keys()].map(n => `"${n}"`).join(', ')} (its "topics" option)`)
    return t
  }
  const checkEntity = (entityId: unknown, topic: string): string => {
    if (typeof entityId !== 'string' || entityId === '') throw new WriterError(`the entity id of a write to "${topic}" must be a non-empty string, got ${JSON.stringify(entityId) ?? String(entityId)}`)
    return entityId
  }
  const encode = (t: Bound, entityId: string, value: unknown): Buffer => {
    if (value === null || value === undefined) throw new WriterError(`put of "${entityId}" to "${t.name}" has no value (${String(value)}); use delete to delete an entity`)
    if (t.codec.name === 'raw' && !Buffer.isBuffer(value)) throw new WriterError(`"${t.name}" has codec raw: the value of "${entityId}" must be a Buffer, got a ${typeof value}`)
    try {
      return t.codec.encode(value)
    } catch (err) {
      throw new WriterError(`cannot encode the value of "${entityId}" for "${t.name}" as ${t.codec.name}: ${(err as Error).message}`, { cause: err })
    }
  }
  /** Checks one put or delete and encodes its value; throws before anything is stamped. */
  const check = (op: WriteOp): { t: Bound, entityId: string, value: Buffer | null } => {
    const kind = (op as { op?: unknown } | undefined)?.op
    if (kind !== 'put' && kind !== 'delete') throw new WriterError(`each write op must have op 'put' or 'delete', got ${JSON.stringify(kind) ?? 'nothing'}`)
    const t = topicOf(op.topic)
    const entityId = checkEntity(op.entityId, t.name)
    if (t.own !== undefined) {
      const [use, what] = t.own.kind === 'counter' ? ['increment', 'total'] : ['add and remove', 'set']
      throw new WriterError(`"${t.name}" is a ${t.own.kind} topic: ${op.op === 'put' ? `use ${use}, a ${what} written by hand would be combined with the writers' own` : `a delete by one writer cannot reset the ${what}s of the DC's other writers; ${t.own.kind === 'counter' ? 'write a negative increment' : 'remove the elements'}, or use a new entity id`}`)
    }
    return { t, entityId, value: op.op === 'put' ? encode(t, entityId, op.value) : null }
  }

  const queue = new SendQueue<Item>(async items => {
    // A writer's own totals and sets are computed here, when the request is built: they then include only
    // the changes whose earlier requests succeeded, and a later state always has a later stamp.
    const undo: Array<() => void> = []
    try {
      const records = items.map(item => {
        if (item.kind === 'record') return item.record
        const change = own.apply(item.topic.own!, item.entityId, item.op)
        undo.push(change.undo)
        const { record, receipt } = stampRecord(item.topic, item.entityId, item.topic.codec.encode(change.doc))
        item.receipt = receipt
        return record
      })
      if (s.clockFile !== undefined) writeClockMark(s.clockFile, clock.last)
      await ports.producer.send(records)
    } catch (err) {
      // Not acknowledged: later states leave these changes out (even if the broker did write them).
      for (const u of undo.reverse()) u()
      throw err instanceof ConcordError ? err : new KafkaError(`write not acknowledged by ${s.dc}'s brokers: ${(err as Error).message}`, { cause: err })
    }
  })

  const open = (what: string): void => {
    if (closed) throw new WriterError(`the ${s.dc} writer is closed: cannot ${what}`)
  }

  /** Queues a change of this writer's own total or set; resolves with its receipt once acknowledged. */
  const changeOwn = async (call: string, kind: OwnTopic['kind'], topic: string, entityId: string, op: OwnOp): Promise<WriteReceipt> => {
    open(call)
    const t = topicOf(topic)
    checkEntity(entityId, t.name)
    if (t.own?.kind !== kind) {
      throw new WriterError(`${call} needs "topics.${t.name}.${kind}" ({ field, writerField }, as the topic's ${kind === 'counter' ? 'counter' : 'union'} policy has them): without a writer field, two writers of one DC would overwrite each other's ${kind === 'counter' ? 'totals' : 'sets'}`)
    }
    const item: Item = { kind: 'own', topic: t, entityId, op }
    await queue.push([item])
    return item.receipt!
  }

  const writer: Writer = {
    dc: s.dc,
    writerId,
    async put (topic, entityId, value) {
      return (await writer.write([{ op: 'put', topic, entityId, value }]))[0]!
    },
    async delete (topic, entityId) {
      return (await writer.write([{ op: 'delete', topic, entityId }]))[0]!
    },
    async write (ops) {
      open('write')
      if (!Array.isArray(ops)) throw new WriterError(`write takes a list of { op: 'put' | 'delete', topic, entityId, value }, got ${typeof ops}`)
      // Every op is checked before any is stamped: a bad op refuses the whole call, and nothing of it is sent.
      const prepared = ops.map(check).map(c => stampRecord(c.t, c.entityId, c.value))
      await queue.push(prepared.map(p => ({ kind: 'record', record: p.record })))
      return prepared.map(p => p.receipt)
    },
    increment (topic, entityId, by) {
      if (!Number.isSafeInteger(by)) return Promise.reject(new WriterError(`increment of "${String(entityId)}" in "${String(topic)}" must be by a safe integer, got ${String(by)}`))
      return changeOwn('increment', 'counter', topic, entityId, { kind: 'increment', by })
    },
    add (topic, entityId, ...elements) {
      return changeOwn('add', 'set', topic, entityId, { kind: 'add', elements })
    },
    remove (topic, entityId, ...elements) {
      return changeOwn('remove', 'set', topic, entityId, { kind: 'remove', elements })
    },
    async close () {
      if (closed) return
      closed = true
      await queue.drain()
      await ports.producer.close()
    }
  }
  return writer
}

/** The writer's clock, continuing after the clock file's high-water mark when there is one. */
function startClock (s: WriterSettings): HybridClock {
  const mark = s.clockFile === undefined ? undefined : readClockMark(s.clockFile)
  try {
    return new HybridClock({ physical: s.physicalClock, maxOffsetMs: s.maxOffsetMs, ...(mark === undefined ? {} : { start: mark }) })
  } catch (err) {
    if (!(err instanceof ClockError)) throw err
    throw new ClockError(`${s.dc} writer cannot start (clock file "${s.clockFile}"): ${err.message}`, { cause: err })
  }
}
