import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Metrics } from '../../src/metrics/metrics.ts'
import { newestOriginTs, SentAccounting } from '../../src/processor/sent-accounting.ts'
import { H, sourcesHeader } from '../../src/wire/contract.ts'
import { memoryStore, ordersPlans } from './rig.ts'

const T = 1_700_000_000_000
const stamp = (dc: string, ts: number, counter = 0) => ({ dc, ts, counter, eventId: `${dc}-${ts}` })

describe('SentAccounting', () => {
  it('counts acknowledged records by topic, and observes end-to-end latency for merged records only', async () => {
    const metrics = new Metrics()
    const sent = new SentAccounting(metrics, ordersPlans(memoryStore()), () => T + 3_000)
    sent.sent([
      { topic: 'orders.merged', headers: { [H.originDc]: 'dc1', [H.originTs]: `${T + 1_000}:4` } },
      { topic: 'orders.merged', headers: { [H.mergedSources]: sourcesHeader([stamp('dc1', T), stamp('dc2', T + 2_950)]) } },
      { topic: 'orders.dlq', headers: { [H.originTs]: String(T) } },
      { topic: 'orders.conflicts', headers: {} },
      { topic: 'orders.merged', headers: { [H.originTs]: String(T) } }
    ])
    const emitted = Object.fromEntries((await metrics.emitted.get()).values.map(v => [v.labels.topic, v.value]))
    assert.deepEqual(emitted, { 'orders.merged': 3, 'orders.dlq': 1, 'orders.conflicts': 1 })
    const values = (await metrics.endToEndLatency.get()).values
    const get = (name: string): number | undefined => values.find(v => v.metricName === name && v.labels.topic === 'orders.merged')?.value
    assert.equal(get('concord_end_to_end_latency_seconds_count'), 3)
    assert.ok(Math.abs(get('concord_end_to_end_latency_seconds_sum')! - (2 + 0.05 + 3)) < 1e-9)
    assert.deepEqual(values.map(v => v.labels.topic).filter(t => t !== 'orders.merged'), [], 'no latency for dead letters or conflicts')
  })

  it('counts a topic it did not bind (a record of another run) too', async () => {
    const metrics = new Metrics()
    new SentAccounting(metrics, ordersPlans(memoryStore())).sent([{ topic: 'old.merged' }])
    assert.deepEqual((await metrics.emitted.get()).values.find(v => v.labels.topic === 'old.merged')?.value, 1)
  })
})

describe('newestOriginTs', () => {
  it('reads x-origin-ts, else the newest of x-merged-sources, else nothing', () => {
    assert.equal(newestOriginTs({ [H.originTs]: Buffer.from('42:1') }), 42)
    assert.equal(newestOriginTs({ [H.mergedSources]: sourcesHeader([stamp('dc2', 9), stamp('dc1', 7, 3)]) }), 9)
    assert.equal(newestOriginTs({}), undefined)
    assert.equal(newestOriginTs({ [H.originTs]: 'later' }), undefined)
    assert.equal(newestOriginTs({ [H.mergedSources]: '[{' }), undefined)
  })
})
