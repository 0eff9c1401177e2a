import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startConcord, sum, type ConcordProcess } from '../lab/concord-process.ts'
import { up } from '../lab/lab.ts'
import { labSettings } from '../lab/settings.ts'
import { entityPartition } from '../src/wire/partitioner.ts'
import { decodeMsgpack, encodeMsgpack } from '../src/codec/msgpack.ts'
import { connectAdmin, type KafkaAdmin } from '../src/kafka/admin.ts'
import { connectConsumer, type KafkaConsumer } from '../src/kafka/consumer.ts'
import { connectProducer, type KafkaProducer } from '../src/kafka/producer.ts'
import { headerString, type OutRecord } from '../src/model/record.ts'
import { ensureKafkaStreamsApp, runKafkaStreams, type KafkaStreamsResult } from './kstreams.ts'
import { cpuSeconds, peakRssMiB, percentile } from './machine.ts'
import { preloadChunks, valueOf } from './preload.ts'
import { H, originHeaders, suffixedKey } from '../src/wire/contract.ts'

/**
 * End-to-end benchmark on one DC (the lab's dc1 broker, no MirrorMaker), once per entity count: N records
 * pre-loaded as dc1's writes on `<topic>` and dc2's on `dc2.<topic>` (bench/preload.ts), then, on those same
 * records, read by a bare consumer (the transport ceiling), run through the codec alone, processed by the
 * Kafka Streams baseline (bench/kstreams.ts) under at_least_once and under exactly_once_v2, and by a
 * `concord run` child process (sustained throughput, peak RSS, CPU). With concord caught up, records are
 * written at a fixed rate and at full speed, and each merged record's latency (receive time - x-origin-ts)
 * is taken on concord's merged topic.
 */
export interface E2eOptions {
  readonly records: number
  /** Entity counts, one pre-load and one set of measurements each. */
  readonly entities: readonly number[]
  /** Duration of each latency phase. */
  readonly seconds: number
  /** Fixed rate of the first latency phase; default half of concord's measured throughput. */
  readonly rate?: number
  readonly seed?: number
}

export interface Throughput {
  /** Records counted between the first observation of progress and the last record. */
  readonly records: number
  readonly seconds: number
  readonly recordsPerSecond: number
}

export interface LatencyPhase extends LatencyStats {
  readonly phase: 'fixed rate' | 'full speed'
  readonly targetRate: number
  readonly achievedRate: number
  readonly produced: number
  /** The same writes, write -> received from the input topic by a plain consumer: Kafka's share. */
  readonly transport: LatencyStats
}

/** The measurements on one pre-load. */
export interface E2eCase {
  readonly entities: number
  readonly topic: string
  readonly meanValueBytes: number
  readonly preload: Throughput
  readonly bare: Throughput
  readonly codec: Throughput
  readonly kafkaStreams: { readonly atLeastOnce: KafkaStreamsResult, readonly exactlyOnce: KafkaStreamsResult }
  /** cpuSeconds: utime + stime of the child from its start to the poll at N, start-up included. */
  readonly concord: Throughput & { readonly peakRssMiB: number, readonly cpuSeconds: number }
  readonly concordOverBare: number
  /** concord's records/s over Kafka Streams at_least_once's. */
  readonly concordOverKafkaStreams: number
  readonly latency: LatencyPhase[]
  /** concord's peak RSS over the whole case, latency phases included. */
  readonly peakRssMiBAtEnd: number
}

export interface E2eResult {
  readonly partitions: number
  readonly cases: E2eCase[]
}

type Log = (line: string) => void
interface Mark { readonly t: number, readonly n: number }

// Latency tools, shared with the two-DC suite.

export interface LatencyStats {
  readonly count: number
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

export function latencyStats (samples: readonly number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b)
  return { count: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), p999: percentile(s, 0.999), max: s.length > 0 ? s[s.length - 1]! : NaN }
}

/** A live write by dc1 to a new entity `<prefix>-<i>`, stamped with `now` (its x-origin-ts). */
export function latencyRecord (topic: string, prefix: string, i: number, now: number, partitions: number): OutRecord {
  const entity = `${prefix}-${i}`
  return {
    topic,
    partition: entityPartition(entity, partitions),
    key: suffixedKey(entity, 'dc1'),
    value: valueOf(entity, 'dc1', now, i),
    headers: originHeaders({ dc: 'dc1', ts: now, counter: 0, eventId: `${now.toString(16)}-${prefix}-${i}` })
  }
}

/**
 * Consumes `topics` in a fresh group (from `startOffset`, default the beginning) and calls `onRecord` with
 * each record's key and its latency: the wall-clock time its batch was received minus its x-origin-ts, ms.
 */
export async function startProbe (
  bootstrap: string,
  topics: readonly string[],
  onRecord: (key: string, latencyMs: number) => void,
  startOffset: (topic: string, partition: number) => string | undefined = () => undefined
): Promise<KafkaConsumer> {
  const consumer = await connectConsumer({ brokers: [bootstrap], clientId: 'concord-bench', groupId: `bench-probe-${randomUUID()}` })
  try {
    await consumer.run({
      topics,
      startOffset,
      onBatch: async batch => {
        const now = Date.now()
        for (const r of batch.records) {
          const ts = headerString(r.headers, H.originTs)
          if (r.key !== null && ts !== undefined) onRecord(r.key.toString('utf8'), now - Number.parseInt(ts, 10))
        }
      }
    })
  } catch (err) {
    await consumer.stop()
    throw err
  }
  return consumer
}

/** Sends every 5 ms what is due at a fixed rate; at full speed, back-to-back sends of this many records. */
const TICK_MS = 5
const FULL_SPEED_CHUNK = 1_000
const MAX_CHUNK = 5_000

export interface Paced { readonly produced: number, readonly seconds: number, readonly rate: number }

/**
 * Produces `make(i, now)` for i = 0, 1, ... during `seconds`: at `rate` records/s, each tick sending the
 * records due by then, or with `rate` Infinity as fast as the broker acknowledges. `now` is the wall-clock
 * time the chunk is built, the records' write time. One send in flight, acks from all in-sync replicas.
 */
export async function producePaced (producer: KafkaProducer, make: (i: number, now: number) => OutRecord, rate: number, seconds: number): Promise<Paced> {
  const start = performance.now()
  const end = start + seconds * 1000
  let sent = 0
  for (let now = start; now < end; now = performance.now()) {
    const due = rate === Infinity ? sent + FULL_SPEED_CHUNK : Math.floor((now - start) * rate / 1000)
    const n = Math.min(due - sent, MAX_CHUNK)
    if (n > 0) {
      const ts = Date.now()
      const chunk: OutRecord[] = []
      for (let k = 0; k < n; k++) chunk.push(make(sent + k, ts))
      await producer.send(chunk)
      sent += n
    }
    if (rate !== Infinity) await sleep(TICK_MS - (performance.now() - start) % TICK_MS)
  }
  const elapsed = (performance.now() - start) / 1000
  return { produced: sent, seconds: elapsed, rate: sent / elapsed }
}

/** Waits until `count()` reaches `expected`, or gives up (without throwing) once it has not grown for `idleMs`. */
export async function waitForCount (count: () => number, expected: number, idleMs: number): Promise<void> {
  let last = count()
  let since = performance.now()
  while (count() < expected) {
    const c = count()
    if (c !== last) {
      last = c
      since = performance.now()
    } else if (performance.now() - since > idleMs) {
      return
    }
    await sleep(50)
  }
}

/** The error for a pipeline that stopped making progress, with what concord says about its output. */
export async function stalled (what: string, procs: readonly ConcordProcess[]): Promise<Error> {
  const pending = await Promise.all(procs.map(p => p.metrics().then(m => sum(m, 'concord_outbox_pending'), () => NaN)))
  return new Error(`${what}, none for 15 s: stalled (concord_outbox_pending ${procs.map((p, i) => `${p.dc} ${pending[i]}`).join(', ')}; see ${procs.map(p => p.log).join(', ')})`)
}

/** SIGTERM each concord child and wait for it; one that has not exited after 30 s is killed. */
export async function stopAll (procs: readonly ConcordProcess[]): Promise<void> {
  await Promise.all(procs.map(async p => {
    const timeout = new AbortController()
    const late = sleep(30_000, 'late' as const, { signal: timeout.signal }).catch(() => 'stopped' as const)
    const outcome = await Promise.race([p.stop().then(() => 'stopped' as const), late])
    timeout.abort()
    if (outcome === 'late') await p.kill()
  }))
}

function throughput (first: Mark | undefined, last: Mark): Throughput {
  const records = last.n - (first?.n ?? 0)
  const seconds = first === undefined ? 0 : (last.t - first.t) / 1000
  return { records, seconds, recordsPerSecond: seconds > 0 ? records / seconds : NaN }
}

async function preload (producer: KafkaProducer, chunks: Iterable<OutRecord[]>): Promise<Throughput & { meanValueBytes: number }> {
  const start = performance.now()
  let n = 0
  let bytes = 0
  for (const chunk of chunks) {
    await producer.send(chunk)
    n += chunk.length
    for (const r of chunk) bytes += (r.value as Buffer).length
  }
  return { ...throughput({ t: start, n: 0 }, { t: performance.now(), n }), meanValueBytes: bytes / n }
}

/** msgpack decode + encode of every pre-loaded value, in this process; only the codec calls are timed. */
function codecBaseline (chunks: Iterable<OutRecord[]>): Throughput {
  let ms = 0
  let n = 0
  for (const chunk of chunks) {
    const values = chunk.map(r => r.value as Buffer)
    const start = performance.now()
    for (const v of values) encodeMsgpack(decodeMsgpack(v))
    ms += performance.now() - start
    n += values.length
  }
  return { records: n, seconds: ms / 1000, recordsPerSecond: n / (ms / 1000) }
}

/**
 * A consumer of the project's port in a fresh group, counting records and doing nothing else, from the
 * first batch to the batch that brings the count to `total` (the first batch's records are not counted).
 */
async function bareConsumer (bootstrap: string, topics: readonly string[], total: number): Promise<Throughput> {
  let count = 0
  let first: Mark | undefined
  let last: Mark | undefined
  const consumer = await connectConsumer({ brokers: [bootstrap], clientId: 'concord-bench', groupId: `bench-bare-${randomUUID()}` })
  try {
    await consumer.run({
      topics,
      startOffset: () => undefined,
      onBatch: async batch => {
        count += batch.records.length
        const mark = { t: performance.now(), n: count }
        first ??= mark
        if (count >= total) last ??= mark
      }
    })
    await waitForCount(() => last === undefined ? count : total, total, 60_000)
    if (last === undefined) throw new Error(`bare consumer stalled at ${count} of ${total} records`)
    return throughput(first, last)
  } finally {
    await consumer.stop()
  }
}

/**
 * Polls concord_records_total every 100 ms until it reaches `total`: records/s from the first poll that
 * shows progress to the first poll at `total`, counting only the records consumed in between.
 */
async function concordThroughput (proc: ConcordProcess, total: number): Promise<Throughput> {
  let first: Mark | undefined
  let prev: Mark = { t: performance.now(), n: -1 }
  for (;;) {
    const n = sum(await proc.metrics(), 'concord_records_total{')
    const t = performance.now()
    if (first === undefined && n > 0) first = { t, n }
    if (n >= total) return throughput(first, { t, n })
    if (n !== prev.n) prev = { t, n }
    else if (t - prev.t > 60_000) throw new Error(`concord stalled at ${n} of ${total} records; see ${proc.log}`)
    await sleep(Math.max(0, 100 - (performance.now() - t)))
  }
}

interface Lab {
  readonly bootstrap: string
  readonly partitions: number
  readonly root: string
  readonly id: string
  readonly admin: KafkaAdmin
  readonly producer: KafkaProducer
}

export async function runE2e (o: E2eOptions, log: Log): Promise<E2eResult> {
  const settings = labSettings()
  await up(settings, line => log(`lab: ${line}`))
  ensureKafkaStreamsApp(log)
  const { bootstrap } = settings.dcs[0]
  const admin = await connectAdmin({ brokers: [bootstrap], clientId: 'concord-bench' })
  try {
    const producer = await connectProducer({ brokers: [bootstrap], clientId: 'concord-bench' })
    try {
      const lab: Lab = { bootstrap, partitions: settings.partitions, root: settings.root, id: Date.now().toString(36), admin, producer }
      const cases: E2eCase[] = []
      for (const entities of o.entities) cases.push(await runCase(lab, o, entities, log))
      return { partitions: lab.partitions, cases }
    } finally {
      await producer.close().catch((err: unknown) => { log(`cleanup: ${String(err)}`) })
    }
  } finally {
    await admin.close().catch((err: unknown) => { log(`cleanup: ${String(err)}`) })
  }
}

async function runCase (lab: Lab, o: E2eOptions, entities: number, log: Log): Promise<E2eCase> {
  const { bootstrap, partitions, admin, producer } = lab
  // The "-internal" suffix matches the lab MM2's topics.exclude, so MM2 does not copy the pre-load to dc2
  // while it is being measured.
  const topic = `bench-${lab.id}-e${entities}-internal`
  const inputs = [topic, `dc2.${topic}`]
  // Kafka Streams writes `<topic>.merged` and `<topic>.dlq` (bench/kstreams); concord gets outputs of its own,
  // created by itself as usual (a compacted changelog), so neither reads or appends to the other's.
  const output = `${topic}.concord.merged`
  const work = join(lab.root, '.cache', 'bench', `e2e-${lab.id}-e${entities}`)
  const baseTs = Date.now() - 30 * 86_400_000 // the pre-load is older than anything written live
  const workload = { records: o.records, entities, ...(o.seed === undefined ? {} : { seed: o.seed }) }
  const stops: Array<() => Promise<unknown>> = []
  let ok = false
  try {
    await admin.createTopics(inputs.map(t => ({ topic: t, partitions })))
    log(`e2e, ${entities.toLocaleString('en-US')} entities: pre-loading ${o.records.toLocaleString('en-US')} records into ${inputs.join(' and ')} on dc1`)
    const pre = await preload(producer, preloadChunks(workload, topic, partitions, baseTs))
    log(`  ${Math.round(pre.recordsPerSecond).toLocaleString('en-US')} records/s produced, mean value ${pre.meanValueBytes.toFixed(0)} bytes`)

    const codec = codecBaseline(preloadChunks(workload, topic, partitions, baseTs))
    log(`codec alone: ${Math.round(codec.recordsPerSecond).toLocaleString('en-US')} records/s (msgpack decode + encode)`)

    const bare = await bareConsumer(bootstrap, inputs, o.records)
    log(`bare consumer: ${Math.round(bare.recordsPerSecond).toLocaleString('en-US')} records/s`)

    const kafkaStreams = async (guarantee: 'at_least_once' | 'exactly_once_v2'): Promise<KafkaStreamsResult> => {
      const r = await runKafkaStreams({ brokers: [bootstrap], topic, records: o.records, guarantee, log })
      log(`Kafka Streams ${guarantee}: ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} records/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, CPU ${r.cpuSeconds.toFixed(1)} s`)
      return r
    }
    const atLeastOnce = await kafkaStreams('at_least_once')
    const exactlyOnce = await kafkaStreams('exactly_once_v2')

    const proc = await startConcord({
      dc: 'dc1',
      peers: ['dc2'],
      brokers: bootstrap,
      topics: [{ name: topic, policy: 'lww', outputTopic: output, dlqTopic: `${topic}.concord.dlq`, conflictTopic: `${topic}.concord.conflicts` }],
      dir: work,
      groupId: `bench-e2e-${lab.id}-e${entities}`,
      // Not ready while it works through the pre-loaded backlog (readiness waits for the lag): start timing at once.
      waitReady: false
    })
    stops.push(() => stopAll([proc]))
    log(`concord started (pid ${proc.pid}, log ${proc.log})`)
    const run = await concordThroughput(proc, o.records)
    const concord = { ...run, peakRssMiB: peakRssMiB(proc.pid), cpuSeconds: cpuSeconds(proc.pid) }
    log(`concord: ${Math.round(concord.recordsPerSecond).toLocaleString('en-US')} records/s, peak RSS ${concord.peakRssMiB.toFixed(0)} MiB, CPU ${concord.cpuSeconds.toFixed(1)} s`)

    // Latency: new entities (each record changes the merged state and is emitted), read from the merged
    // topic's end as it was once the pre-load was consumed; the pre-load's own output is filtered out by key.
    // A second probe reads the input topic itself from its end: the transport's share of the same writes.
    const samples = new Map<string, number[]>([['warm', []]])
    const inputSamples = new Map<string, number[]>([['warm', []]])
    for (const [t, into] of [[output, samples], [topic, inputSamples]] as const) {
      const end = await admin.highWatermarks(t)
      const probe: KafkaConsumer = await startProbe(bootstrap, [t], (key, ms) => {
        into.get(key.slice(0, key.indexOf('-')))?.push(ms)
      }, (_, partition) => end.get(partition)?.toString())
      stops.push(() => probe.stop())
    }
    await producer.send([latencyRecord(topic, 'warm', 0, Date.now(), partitions)])
    await waitForCount(() => Math.min(samples.get('warm')!.length, inputSamples.get('warm')!.length), 1, 60_000)
    if (samples.get('warm')!.length === 0) throw new Error(`no merged output seen on ${output} within 60 s; see ${proc.log}`)
    if (inputSamples.get('warm')!.length === 0) throw new Error(`the warm-up write was not read back from ${topic} within 60 s`)

    const fixed = o.rate ?? (Number.isFinite(concord.recordsPerSecond) ? Math.max(1, Math.round(concord.recordsPerSecond / 2)) : 1_000)
    const latency: LatencyPhase[] = []
    for (const [phase, rate] of [['fixed rate', fixed], ['full speed', Infinity]] as const) {
      const prefix = phase === 'fixed rate' ? 'fixed' : 'full'
      const got: number[] = []
      const transport: number[] = []
      samples.set(prefix, got)
      inputSamples.set(prefix, transport)
      log(`latency, ${phase}${rate === Infinity ? '' : ` ${rate.toLocaleString('en-US')} records/s`}, ${o.seconds} s`)
      const paced = await producePaced(producer, (i, now) => latencyRecord(topic, prefix, i, now, partitions), rate, o.seconds)
      await waitForCount(() => got.length, paced.produced, 15_000)
      if (got.length < paced.produced) throw await stalled(`${phase}: ${got.length} of ${paced.produced} merged records seen`, [proc])
      await waitForCount(() => transport.length, paced.produced, 15_000)
      latency.push({ phase, targetRate: rate, achievedRate: paced.rate, produced: paced.produced, ...latencyStats(got), transport: latencyStats(transport) })
      log(`  produced ${paced.produced.toLocaleString('en-US')} at ${Math.round(paced.rate).toLocaleString('en-US')} records/s, ${got.length.toLocaleString('en-US')} merged records seen`)
    }
    const result: E2eCase = {
      entities,
      topic,
      meanValueBytes: pre.meanValueBytes,
      preload: { records: pre.records, seconds: pre.seconds, recordsPerSecond: pre.recordsPerSecond },
      bare,
      codec,
      kafkaStreams: { atLeastOnce, exactlyOnce },
      concord,
      concordOverBare: concord.recordsPerSecond / bare.recordsPerSecond,
      concordOverKafkaStreams: concord.recordsPerSecond / atLeastOnce.recordsPerSecond,
      latency,
      peakRssMiBAtEnd: peakRssMiB(proc.pid)
    }
    ok = true
    return result
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => { log(`cleanup: ${String(err)}`) })
    if (ok) rmSync(work, { recursive: true, force: true })
    else log(`concord state and log kept in ${work}`)
  }
}
