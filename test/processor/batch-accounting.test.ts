import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Metrics } from '../../src/metrics/metrics.ts'
import { SKEW_BUCKETS, Tally } from '../../src/metrics/tally.ts'
import { BatchAccounting, RECORD_OUTCOMES } from '../../src/processor/batch-accounting.ts'
import type { BatchResult } from '../../src/processor/engine.ts'
import { recordingLogger } from './rig.ts'

const result = (topic: string, counts: Partial<BatchResult['counts']>, partitionMismatches = 0): BatchResult => {
  const all = { applied: 0, stale: 0, duplicate: 0, loop: 0, dead_lettered: 0, too_late: 0, ...counts }
  return { topic, counts: all, emitted: all.applied, deadLetters: all.dead_lettered, conflicts: 0, purged: 0, partitionMismatches, latency: new Tally(), ahead: new Tally(SKEW_BUCKETS, true), maxAheadMs: -Infinity }
}
const labels = (...inputs: string[]) => inputs.map(input => ({ input, sourceDc: input.startsWith('dc2.') ? 'dc2' : 'dc1', topic: 'orders', policy: 'lww' }))
const batch = (topic: string, n: number, partition = 0) => ({ topic, partition, records: Array.from({ length: n }, () => ({ offset: '0', timestamp: '0', key: null, value: null, headers: {} })) })

async function recorded (metrics: Metrics): Promise<Record<string, number>> {
  const values = (await metrics.records.get()).values
  return Object.fromEntries(values.filter(v => v.value > 0).map(v => [`${v.labels.topic}/${v.labels.source_dc}/${v.labels.outcome}`, v.value]))
}

describe('BatchAccounting', () => {
  it('counts each outcome by input topic and its source DC, and records per batch', async () => {
    const metrics = new Metrics()
    const a = new BatchAccounting(metrics, recordingLogger(), labels('orders', 'dc2.orders'))
    a.count(batch('orders', 6), result('orders', { applied: 3, stale: 1, duplicate: 1, loop: 1 }))
    a.count(batch('dc2.orders', 2), result('dc2.orders', { applied: 2 }))
    a.count(batch('orders', 1), result('orders', { applied: 1 }))
    assert.deepEqual(await recorded(metrics), { 'orders/dc1/applied': 4, 'orders/dc1/stale': 1, 'orders/dc1/duplicate': 1, 'orders/dc1/loop': 1, 'dc2.orders/dc2/applied': 2 })
    const sizes = (await metrics.batchRecords.get()).values.find(v => v.metricName === 'concord_batch_records_sum')
    assert.equal(sizes?.value, 9)
  })

  it('adds each batch\'s replication latency to its input\'s series, by source DC', async () => {
    const metrics = new Metrics()
    const a = new BatchAccounting(metrics, recordingLogger(), labels('orders', 'dc2.orders'))
    const observed = (...seconds: number[]): Tally => {
      const t = new Tally()
      for (const s of seconds) t.observe(s)
      return t
    }
    a.count(batch('orders', 2), { ...result('orders', { applied: 2 }), latency: observed(0.005, 0.3) })
    a.count(batch('dc2.orders', 1), { ...result('dc2.orders', { applied: 1 }), latency: observed(2) })
    a.count(batch('dc2.orders', 1), { ...result('dc2.orders', { applied: 1 }), latency: observed(70) })
    const values = (await metrics.replicationLatency.get()).values
    const sample = (name: string, labels: Record<string, string | number>): number | undefined =>
      values.find(v => v.metricName === name && Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value
    assert.equal(sample('concord_replication_latency_seconds_count', { source_dc: 'dc1', topic: 'orders' }), 2)
    assert.equal(sample('concord_replication_latency_seconds_bucket', { source_dc: 'dc1', le: 0.01 }), 1)
    assert.equal(sample('concord_replication_latency_seconds_bucket', { source_dc: 'dc1', le: 0.5 }), 2)
    assert.equal(sample('concord_replication_latency_seconds_count', { source_dc: 'dc2', topic: 'dc2.orders' }), 2)
    assert.equal(sample('concord_replication_latency_seconds_bucket', { source_dc: 'dc2', le: 60 }), 1, '70 s is past the last bound')
    assert.equal(sample('concord_replication_latency_seconds_bucket', { source_dc: 'dc2', le: '+Inf' }), 2)
    assert.equal(sample('concord_replication_latency_seconds_sum', { source_dc: 'dc2' }), 72)
  })

  it('exports every series it binds at 0 from the start, so that Prometheus sees the first increment', async () => {
    const metrics = new Metrics()
    new BatchAccounting(metrics, recordingLogger(), labels('orders', 'dc2.orders')) // eslint-disable-line no-new
    const records = (await metrics.records.get()).values
    assert.equal(records.length, 2 * RECORD_OUTCOMES.length)
    assert.ok(records.every(v => v.value === 0))
    assert.deepEqual(records.filter(v => v.labels.outcome === 'dead_lettered').map(v => [v.labels.topic, v.labels.source_dc]), [['orders', 'dc1'], ['dc2.orders', 'dc2']])
    assert.deepEqual((await metrics.conflicts.get()).values.map(v => v.value), [0])
    assert.deepEqual((await metrics.purged.get()).values.map(v => v.value), [0])
  })

  it('knows every outcome the engine counts (the compiler holds the list to RecordOutcome)', () => {
    assert.deepEqual([...RECORD_OUTCOMES].sort(), ['applied', 'dead_lettered', 'duplicate', 'loop', 'stale', 'too_late'])
  })

  it('counts partition mismatches every time but warns once per input topic', async () => {
    const metrics = new Metrics()
    const log = recordingLogger()
    const a = new BatchAccounting(metrics, log, labels('orders', 'dc2.orders'))
    a.count(batch('orders', 2, 1), result('orders', { applied: 2 }, 2))
    a.count(batch('orders', 3, 2), result('orders', { applied: 3 }, 3))
    a.count(batch('dc2.orders', 1), result('dc2.orders', { applied: 1 }, 1))
    const mismatches = (await metrics.partitionMismatches.get()).values.map(v => [v.labels.topic, v.value])
    assert.deepEqual(mismatches, [['orders', 5], ['dc2.orders', 1]])
    const warnings = log.entries.filter(e => e.msg.startsWith('versions of one entity arrive in different partitions'))
    assert.deepEqual(warnings.map(w => w.obj), [{ topic: 'orders', partition: 1 }, { topic: 'dc2.orders', partition: 0 }])
  })

  it('counts conflicts by topic and policy, and purges by topic', async () => {
    const metrics = new Metrics()
    const a = new BatchAccounting(metrics, recordingLogger(), labels('orders', 'dc2.orders'))
    a.count(batch('orders', 2), { ...result('orders', { applied: 2 }), conflicts: 2 })
    a.count(batch('dc2.orders', 1), { ...result('dc2.orders', { applied: 1 }), conflicts: 1 })
    a.committed({ purged: new Map([['orders', 1]]) })
    a.committed({ purged: new Map([['orders', 3]]) })
    assert.deepEqual((await metrics.conflicts.get()).values.map(v => [v.labels, v.value]), [[{ topic: 'orders', policy: 'lww' }, 3]])
    assert.deepEqual((await metrics.purged.get()).values.map(v => [v.labels, v.value]), [[{ topic: 'orders' }, 4]])
  })

  it('warns of dead letters with their number, each batch that has some', () => {
    const log = recordingLogger()
    const a = new BatchAccounting(new Metrics(), log, labels('orders'))
    a.count(batch('orders', 3), result('orders', { applied: 1, dead_lettered: 2 }))
    a.count(batch('orders', 1), result('orders', { applied: 1 }))
    a.count(batch('orders', 1), result('orders', { dead_lettered: 1 }))
    assert.deepEqual(log.entries.map(e => [e.level, e.msg, e.obj]), [
      ['warn', 'records sent to the dead-letter topic', { topic: 'orders', partition: 0, records: 2 }],
      ['warn', 'records sent to the dead-letter topic', { topic: 'orders', partition: 0, records: 1 }]
    ])
  })
})
