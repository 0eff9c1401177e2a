import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { E2eCase, E2eResult, LatencyPhase } from '../../bench/e2e.ts'
import type { EngineResult, EngineVariant } from '../../bench/engine.ts'
import type { KafkaStreamsResult } from '../../bench/kstreams.ts'
import { evaluateTargets, type TargetInputs, type TargetRow } from '../../bench/targets.ts'

function engineResult (variant: EngineVariant, entities: number, recordsPerSecond: number, more: Partial<EngineResult> = {}): EngineResult {
  return {
    entities,
    records: 1_000_000,
    batchSize: 2000,
    windowRecords: 50_000,
    runs: 3,
    variant,
    synchronous: 'normal',
    cacheMb: 64,
    fillSeconds: 1,
    recordsPerSecond: [recordsPerSecond],
    medianRecordsPerSecond: recordsPerSecond,
    usPerRecord: 1e6 / recordsPerSecond,
    stageUsPerRecord: {},
    maxRssMiB: 500,
    dbMiB: 100,
    ...more
  }
}

const stats = (p50: number, p99: number) => ({ count: 100, p50, p99, p999: p99, max: p99 })

function kafkaStreams (recordsPerSecond: number, peakRssMiB: number): KafkaStreamsResult {
  return { guarantee: 'at_least_once', appId: 'x', recordsPerSecond, seconds: 1, peakRssMiB, cpuSeconds: 1, startupCpuSeconds: 0.5 }
}

function e2eCase (entities: number, concord: number, ks: number, latency: { merged: [number, number], input: [number, number], rate?: number }): E2eCase {
  const fixed: LatencyPhase = {
    phase: 'fixed rate',
    targetRate: latency.rate ?? Math.round(concord / 2),
    achievedRate: concord / 2,
    produced: 100,
    ...stats(...latency.merged),
    transport: stats(...latency.input)
  }
  const throughput = (recordsPerSecond: number) => ({ records: 1000, seconds: 1000 / recordsPerSecond, recordsPerSecond })
  return {
    entities,
    topic: 't',
    meanValueBytes: 200,
    preload: throughput(1),
    bare: throughput(concord * 2),
    codec: throughput(1),
    kafkaStreams: { atLeastOnce: kafkaStreams(ks, 700), exactlyOnce: kafkaStreams(ks / 2, 800) },
    concord: { ...throughput(concord), peakRssMiB: 300, cpuSeconds: 10 },
    concordOverBare: 0.5,
    concordOverKafkaStreams: concord / ks,
    latency: [fixed],
    peakRssMiBAtEnd: 300
  }
}

const e2e = (...cases: E2eCase[]): { result: E2eResult } => ({ result: { partitions: 3, cases } })
const none: TargetInputs = { engine: { why: 'the engine suite did not run' }, e2e: { why: 'the e2e suite did not run' } }

function find (rows: readonly TargetRow[], start: string): TargetRow {
  const row = rows.find(r => r.target.startsWith(start))
  assert.ok(row !== undefined, `a row starting "${start}" in ${JSON.stringify(rows.map(r => r.target))}`)
  return row
}

test('with no suite run, every target is not measured and says why', () => {
  const rows = evaluateTargets(none)
  assert.equal(rows.length, 9)
  for (const r of rows) {
    assert.equal(r.met, 'not measured')
    assert.equal(r.ratio, null)
    assert.equal(r.measured, '')
    assert.match(r.note, /the (engine|e2e) suite did not run/)
  }
  assert.match(find(rows, 'scale: peak RSS').note, /Kafka Streams peak RSS not measured \(the e2e suite did not run\)/)
})

test('the engine target is met at 100,000 records/s or more, and lists the other variants at 1M entities', () => {
  const results = [engineResult('lww-header', 1_000_000, 120_000), engineResult('counter', 1_000_000, 80_000), engineResult('max', 10_000, 1)]
  const row = find(evaluateTargets({ ...none, engine: { result: results } }), 'engine:')
  assert.equal(row.met, 'met')
  assert.equal(row.measured, '120,000 records/s')
  assert.equal(row.ratio, 1.2)
  assert.equal(row.note, 'others at 1M entities: counter 80,000')
  const slow = find(evaluateTargets({ ...none, engine: { result: [engineResult('lww-header', 1_000_000, 99_999)] } }), 'engine:')
  assert.equal(slow.met, 'not met')
  assert.match(slow.note, /no other variant/)
})

test('the engine target is not measured without lww-header at 1M entities under synchronous=normal', () => {
  const cases: Array<[EngineResult[], RegExp]> = [
    [[engineResult('lww-header', 1000, 5e5)], /lww-header ran at 1,000 entities only, not 1,000,000/],
    [[engineResult('counter', 1_000_000, 5e5)], /lww-header was not among --variants/],
    [[engineResult('lww-header', 1_000_000, 5e5, { synchronous: 'full' })], /synchronous=full/]
  ]
  for (const [results, why] of cases) {
    const row = find(evaluateTargets({ ...none, engine: { result: results } }), 'engine:')
    assert.equal(row.met, 'not measured')
    assert.match(row.note, why)
  }
  assert.equal(find(evaluateTargets({ ...none, engine: { why: 'the engine suite failed: boom' } }), 'engine:').note, 'the engine suite failed: boom')
})

test('scale: the 10M ÷ 10k ratio and the 10M peak RSS under the default config, with Kafka Streams RSS beside it', () => {
  const engine = { result: [engineResult('lww-header', 10_000, 100_000), engineResult('lww-header', 10_000_000, 80_000, { maxRssMiB: 900 })] }
  const rows = evaluateTargets({ engine, e2e: e2e(e2eCase(2000, 40_000, 20_000, { merged: [5, 20], input: [2, 10] })) })
  const ratio = find(rows, 'scale: engine')
  assert.equal(ratio.met, 'met')
  assert.equal(ratio.measured, '0.80')
  assert.ok(Math.abs(ratio.ratio! - 0.8 / 0.75) < 1e-9)
  const rss = find(rows, 'scale: peak RSS')
  assert.equal(rss.met, 'met')
  assert.equal(rss.measured, '900 MiB')
  assert.equal(rss.note, 'Kafka Streams peak RSS (e2e): 2,000 entities at_least_once 700 MiB, exactly_once_v2 800 MiB')

  const worse = evaluateTargets({ ...none, engine: { result: [engineResult('lww-header', 10_000, 100_000), engineResult('lww-header', 10_000_000, 70_000, { maxRssMiB: 1024 })] } })
  assert.equal(find(worse, 'scale: engine').met, 'not met')
  assert.equal(find(worse, 'scale: peak RSS').met, 'not met')

  const tuned = evaluateTargets({ ...none, engine: { result: [engineResult('lww-header', 10_000_000, 80_000, { cacheMb: 256 })] } })
  assert.equal(find(tuned, 'scale: engine').met, 'not measured')
  assert.match(find(tuned, 'scale: engine').note, /not 10,000$/)
  const rssTuned = find(tuned, 'scale: peak RSS')
  assert.equal(rssTuned.met, 'not measured')
  assert.match(rssTuned.note, /^ran with --cache-mb 256 \(default 64\): 500 MiB/)
})

test('end to end: concord at 2x Kafka Streams at_least_once and 50,000 records/s, at 100k and at 1M entities', () => {
  const rows = evaluateTargets({ ...none, e2e: e2e(e2eCase(100_000, 60_000, 25_000, { merged: [5, 20], input: [2, 10] }), e2eCase(1_000_000, 45_000, 30_000, { merged: [5, 20], input: [2, 10] })) })
  const at100k = find(rows, 'e2e, 100,000 entities: concord ÷ Kafka Streams')
  assert.equal(at100k.met, 'met')
  assert.equal(at100k.measured, '2.40')
  assert.equal(at100k.ratio, 1.2)
  assert.equal(at100k.note, 'concord 60,000, Kafka Streams at_least_once 25,000, exactly_once_v2 12,500 records/s; concord ÷ bare consumer 0.50')
  assert.equal(find(rows, 'e2e, 100,000 entities: concord records/s').met, 'met')
  assert.equal(find(rows, 'e2e, 1,000,000 entities: concord ÷ Kafka Streams').met, 'not met')
  assert.equal(find(rows, 'e2e, 1,000,000 entities: concord records/s').met, 'not met')
})

test('end to end at other entity counts only: not measured, with what was measured there', () => {
  const rows = evaluateTargets({ ...none, e2e: e2e(e2eCase(2000, 30_000, 20_000, { merged: [5, 20], input: [2, 10] })) })
  for (const start of ['e2e, 100,000', 'e2e, 1,000,000']) {
    const row = find(rows, start)
    assert.equal(row.met, 'not measured')
    assert.equal(row.note, 'e2e ran at 2,000 entities only (at 2,000: 1.50x, 30,000 records/s)')
  }
})

test("latency: concord's share of p99 and p50 in each case's fixed-rate phase, flagged when not at half throughput", () => {
  const rows = evaluateTargets({
    ...none,
    e2e: e2e(e2eCase(100_000, 40_000, 20_000, { merged: [12, 45], input: [3, 20] }), e2eCase(1_000_000, 40_000, 20_000, { merged: [12, 45], input: [1, 10], rate: 5000 }))
  })
  const p99 = find(rows, 'latency, e2e 100,000 entities, fixed rate: merged p99')
  assert.equal(p99.met, 'met')
  assert.equal(p99.measured, '25.0 ms')
  assert.equal(p99.note, "45.0 - 20.0 ms at 20,000 records/s (half of concord's)")
  assert.equal(find(rows, 'latency, e2e 100,000 entities, fixed rate: merged p50').met, 'met')
  const p99At1M = find(rows, 'latency, e2e 1,000,000 entities, fixed rate: merged p99')
  assert.equal(p99At1M.met, 'not met')
  assert.match(p99At1M.note, /at 5,000 records\/s, not half of concord's 40,000 \(--rate\)/)
  assert.equal(find(rows, 'latency, e2e 1,000,000 entities, fixed rate: merged p50').met, 'not met')
})

test('rows come in the order of the targets: engine, end to end, latency, scale', () => {
  const rows = evaluateTargets({ ...none, e2e: e2e(e2eCase(2000, 1, 1, { merged: [1, 1], input: [1, 1] })) })
  assert.deepEqual(rows.map(r => r.target.split(/[:,]/)[0]), ['engine', 'e2e', 'e2e', 'e2e', 'e2e', 'latency', 'latency', 'scale', 'scale'])
})
