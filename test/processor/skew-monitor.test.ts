import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Metrics } from '../../src/metrics/metrics.ts'
import { SkewMonitor } from '../../src/processor/skew-monitor.ts'
import { recordingLogger } from './rig.ts'

async function gauge (metrics: Metrics): Promise<Record<string, number>> {
  const values = (await metrics.originAheadMax.get()).values
  return Object.fromEntries(values.map(v => [String(v.labels.source_dc), v.value]))
}

describe('the skew monitor', () => {
  it('shows the greatest origin-minus-arrival of the current interval per source DC, and starts again each interval', async () => {
    const metrics = new Metrics()
    let now = 0
    const skew = new SkewMonitor(metrics, recordingLogger(), { warnAheadMs: 1_000, intervalMs: 60_000 }, () => now)
    skew.observe('dc2', 'dc2.orders', 300_000)
    skew.observe('dc2', 'dc2.orders', 2_000)
    skew.observe('dc1', 'orders', -40)
    skew.observe('dc3', 'dc3.orders', -Infinity)
    assert.deepEqual(await gauge(metrics), { dc2: 300, dc1: -0.04 })
    now = 60_000
    skew.observe('dc2', 'dc2.orders', 5)
    assert.deepEqual(await gauge(metrics), { dc2: 0.005, dc1: -0.04 })
  })

  it('warns about a source DC ahead by more than warnAheadMs at most once per interval, and never about one behind', () => {
    const log = recordingLogger()
    let now = 0
    const skew = new SkewMonitor(new Metrics(), log, { warnAheadMs: 1_000, intervalMs: 60_000 }, () => now)
    skew.observe('dc2', 'dc2.orders', 300_000)
    now = 30_000
    skew.observe('dc2', 'dc2.orders', 300_000)
    skew.observe('dc3', 'dc3.orders', -300_000)
    skew.observe('dc1', 'orders', 999)
    now = 60_000
    skew.observe('dc2', 'dc2.orders', 300_000)
    const warned = log.entries.filter(e => e.level === 'warn')
    assert.deepEqual(warned.map(e => e.obj), [
      { sourceDc: 'dc2', topic: 'dc2.orders', aheadMs: 300_000 },
      { sourceDc: 'dc2', topic: 'dc2.orders', aheadMs: 300_000 }
    ])
    assert.match(warned[0]!.msg, /origin timestamps from dc2 are ahead of this processor's clock.*merges are unaffected/)
  })
})
