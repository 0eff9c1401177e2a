import { table } from '../machine.ts'
import { preloadWrites, valueOf } from '../preload.ts'
import { runKafkaStreams, type Guarantee, type KafkaStreamsResult } from '../kstreams.ts'
import { up } from '../../lab/lab.ts'
import { lastByKey, readUntil } from '../../lab/read.ts'
import { labSettings } from '../../lab/settings.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { connectProducer } from '../../src/kafka/producer.ts'
import { headerString, type OutRecord } from '../../src/model/record.ts'
import { compareStamps, type Stamp } from '../../src/model/stamp.ts'
import { DLQ, H, formatTs, originHeaders, suffixedKey } from '../../src/wire/contract.ts'

/**
 * A small check of the Kafka Streams baseline on the lab's dc1 (started if down, left up): pre-loads the
 * e2e benchmark's workload, plus a few loops and malformed records, into a fresh topic pair per guarantee,
 * runs the app under at_least_once and exactly_once_v2, prints records/s, peak RSS and CPU, and checks the
 * last merged record of every entity, the dead letters and the loop count against an oracle.
 *
 *   node bench/kstreams/try.ts [records, default 50000] [entities, default records / 10]
 *
 * The writes are bench/e2e.ts's pre-load (bench/preload.ts): entities drawn uniformly, each write by dc1 or
 * dc2 at random, timestamps increasing from 30 days ago, ~200-byte msgpack values, partitioned by entity id. Every 500th record is replaced by a loop (a dc1 write on dc2.<topic>,
 * stamped later than everything so that merging it would show) and every 500th by a malformed record.
 */
const records = Number(process.argv[2] ?? 50_000)
const entities = Number(process.argv[3] ?? Math.max(1, Math.round(records / 10)))
if (!Number.isInteger(records) || records < 1 || !Number.isInteger(entities) || entities < 1) {
  console.error('usage: node bench/kstreams/try.ts [records] [entities], both positive integers')
  process.exit(2)
}

const log = (line: string): void => { console.log(line) }

interface Expected { readonly stamp: Stamp, readonly value: Buffer }
interface Oracle { readonly winners: Map<string, Expected>, loops: number, readonly deadLetters: Map<string, number> }

/** The malformed records, in turn: each breaks one rule of the wire contract. */
const MALFORMED: ReadonlyArray<{ readonly reason: (topic: string) => string, readonly make: (r: OutRecord, topic: string) => OutRecord }> = [
  { reason: () => `no ${H.originTs} header`, make: r => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers ?? {}).filter(([name]) => name !== H.originTs)) }) },
  { reason: () => 'timestamp "12x" is not <milliseconds>[:<counter>]', make: r => ({ ...r, headers: { ...r.headers, [H.originTs]: '12x' } }) },
  { reason: () => 'key "order-x-dc9" ends in "dc9", which is not a configured DC (dc1, dc2)', make: r => ({ ...r, key: 'order-x-dc9' }) },
  {
    reason: topic => `record on ${topic} was written by dc2, but this topic carries only writes of dc1`,
    make: (r, topic) => ({ ...r, topic, key: suffixedKey('order-x', 'dc2'), headers: { ...r.headers, [H.originDc]: 'dc2' } })
  }
]

function * workload (topic: string, partitions: number, baseTs: number, oracle: Oracle): Generator<OutRecord[]> {
  for (const writes of preloadWrites({ records, entities }, topic, partitions, baseTs)) {
    const chunk: OutRecord[] = []
    for (const { seq: i, entity, stamp, record } of writes) {
      if (i % 500 === 250) {
        const late = { dc: 'dc1', ts: baseTs + records + i, counter: 0, eventId: `loop-${i}` }
        chunk.push({ ...record, topic: `dc2.${topic}`, key: suffixedKey(entity, 'dc1'), value: valueOf(entity, 'dc1', late.ts, i), headers: originHeaders(late) })
        oracle.loops++
      } else if (i % 500 === 499) {
        const bad = MALFORMED[Math.floor(i / 500) % MALFORMED.length]!
        chunk.push(bad.make(record, topic))
        oracle.deadLetters.set(bad.reason(topic), (oracle.deadLetters.get(bad.reason(topic)) ?? 0) + 1)
      } else {
        chunk.push(record)
        const held = oracle.winners.get(entity)
        if (held === undefined || compareStamps(stamp, held.stamp) > 0) oracle.winners.set(entity, { stamp, value: record.value as Buffer })
      }
    }
    yield chunk
  }
}

interface Check { readonly mismatches: number, readonly entities: number, readonly deadLetterProblems: number }

async function check (bootstrap: string, topic: string, oracle: Oracle, result: KafkaStreamsResult): Promise<Check> {
  const merged = await readUntil(bootstrap, [`${topic}.merged`], rs => rs.length >= (result.merged ?? 1), { timeoutMs: 60_000, settleMs: 1_000 })
  const last = lastByKey(merged)
  let mismatches = 0
  for (const [entity, want] of oracle.winners) {
    const got = last.get(entity)
    const same = got !== undefined && got.value !== null && got.value.equals(want.value) &&
      headerString(got.headers, H.originDc) === want.stamp.dc && headerString(got.headers, H.originTs) === formatTs(want.stamp) &&
      headerString(got.headers, H.eventId) === want.stamp.eventId && headerString(got.headers, H.mergedBy) === 'dc1'
    if (!same) mismatches++
  }
  for (const entity of last.keys()) if (!oracle.winners.has(entity)) mismatches++

  const expected = [...oracle.deadLetters.values()].reduce((a, b) => a + b, 0)
  const dlq = await readUntil(bootstrap, [`${topic}.dlq`], rs => rs.length >= expected, { timeoutMs: 60_000, settleMs: 1_000 })
  const reasons = new Map<string, number>()
  for (const r of dlq) {
    const reason = headerString(r.headers, DLQ.message) ?? '(no reason header)'
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  }
  let deadLetterProblems = Math.abs(dlq.length - expected)
  for (const [reason, n] of oracle.deadLetters) deadLetterProblems += Math.abs((reasons.get(reason) ?? 0) - n)
  if (deadLetterProblems > 0) log(`  dead letters: expected ${JSON.stringify([...oracle.deadLetters])}, got ${JSON.stringify([...reasons])}`)
  return { mismatches, entities: last.size, deadLetterProblems }
}

const settings = labSettings()
await up(settings, line => log(`lab: ${line}`))
const { bootstrap } = settings.dcs[0]
const { partitions } = settings
const id = Date.now().toString(36)
const baseTs = Date.now() - 30 * 86_400_000
const guarantees: Guarantee[] = ['at_least_once', 'exactly_once_v2']
const runs = new Map<Guarantee, { topic: string, oracle: Oracle }>()

const admin = await connectAdmin({ brokers: [bootstrap], clientId: 'concord-bench' })
const producer = await connectProducer({ brokers: [bootstrap], clientId: 'concord-bench' })
try {
  for (const g of guarantees) {
    // "-internal": the lab's MirrorMaker 2 leaves these topics alone (lab/configs.ts), as for bench/e2e.ts.
    const topic = `bench-ks-${id}-${g === 'at_least_once' ? 'alos' : 'eos'}-internal`
    await admin.createTopics([topic, `dc2.${topic}`].map(t => ({ topic: t, partitions })))
    const oracle: Oracle = { winners: new Map(), loops: 0, deadLetters: new Map() }
    log(`pre-loading ${records.toLocaleString('en-US')} records (${entities.toLocaleString('en-US')} entities) into ${topic} and dc2.${topic}`)
    for (const chunk of workload(topic, partitions, baseTs, oracle)) await producer.send(chunk)
    runs.set(g, { topic, oracle })
  }
} finally {
  await producer.close()
  await admin.close()
}

const rows: Array<Record<string, string | number>> = []
let failed = false
for (const g of guarantees) {
  const { topic, oracle } = runs.get(g)!
  const r = await runKafkaStreams({ brokers: [bootstrap], topic, records, guarantee: g, log })
  const c = await check(bootstrap, topic, oracle, r)
  const loopsOk = r.loops === oracle.loops
  failed ||= c.mismatches > 0 || c.deadLetterProblems > 0 || !loopsOk
  rows.push({
    guarantee: g,
    records,
    'records/s': Math.round(r.recordsPerSecond),
    seconds: r.seconds,
    'peak RSS MiB': Math.round(r.peakRssMiB),
    'CPU s': r.cpuSeconds,
    'start-up CPU s': r.startupCpuSeconds,
    merged: r.merged ?? '',
    entities: `${c.entities} / ${oracle.winners.size}`,
    mismatches: c.mismatches,
    'dlq / loops': `${r.deadLettered} / ${r.loops}${c.deadLetterProblems === 0 && loopsOk ? ' ok' : ' WRONG'}`
  })
}
console.log(`\n${table(rows)}`)
process.exitCode = failed ? 1 : 0
