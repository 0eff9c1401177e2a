import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Histogram, Registry } from 'prom-client'
import { LATENCY_BUCKETS, Tally } from '../../src/metrics/tally.ts'
import { TallyHistogram } from '../../src/metrics/tally-histogram.ts'

/**
 * The Tally-fed histogram must expose exactly what prom-client's own histogram exposes for the same
 * observations: the oracle here is prom-client itself.
 */
const exposition = async (registry: Registry): Promise<string> => (await registry.metrics()).replace(/^# HELP.*\n/gm, '')

describe('Tally', () => {
  it('puts each value in the first bucket whose bound it does not exceed', () => {
    const t = new Tally([1, 2])
    for (const v of [0, 1, 1.5, 2, 2.01, 100]) t.observe(v)
    assert.deepEqual([...t.counts], [2, 2, 2])
    assert.equal(t.count, 6)
  })

  it('refuses a tally of other bounds', () => {
    assert.throws(() => new Tally([1]).add(new Tally([1, 2])), /cannot be added/)
  })

  it('resolves 10 ms to 60 s', () => {
    assert.equal(LATENCY_BUCKETS[0], 0.01)
    assert.equal(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1], 60)
  })
})

describe('TallyHistogram', () => {
  it('exposes what prom-client\'s histogram exposes for the same observations, per series', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ dc: fc.constantFrom('dc1', 'dc2'), v: fc.double({ min: 0, max: 100, noNaN: true }) }), { maxLength: 40 }),
      fc.integer({ min: 1, max: 4 }),
      async (observations, batches) => {
        const ours = new Registry()
        const theirs = new Registry()
        const config = { name: 'x_seconds', help: 'x', labelNames: ['source_dc'] as const, buckets: [...LATENCY_BUCKETS] }
        const h = new TallyHistogram({ ...config, registers: [ours] })
        const reference = new Histogram({ ...config, registers: [theirs] })
        // Bound in the same order, so that both list their series alike.
        const series = new Map(['dc1', 'dc2'].map(dc => [dc, h.series({ source_dc: dc })]))
        for (const dc of ['dc1', 'dc2']) reference.zero({ source_dc: dc })
        // Fed in several tallies, as several commit windows would.
        for (let b = 0; b < batches; b++) {
          const tallies = new Map(['dc1', 'dc2'].map(dc => [dc, new Tally()]))
          for (const [i, o] of observations.entries()) {
            if (i % batches !== b) continue
            tallies.get(o.dc)!.observe(o.v)
            reference.observe({ source_dc: o.dc }, o.v)
          }
          for (const [dc, t] of tallies) series.get(dc)!.add(t)
        }
        const [a, b] = [await exposition(ours), await exposition(theirs)]
        // Sums may differ in the last digit by the order of additions.
        const round = (s: string): string => s.replace(/_sum\{([^}]*)\} (\S+)/g, (_, l, v) => `_sum{${l}} ${Number(v).toFixed(6)}`)
        assert.equal(round(a), round(b))
      }), { numRuns: 50 })
  })

  it('zeroes its series on reset, and keeps them bound', async () => {
    const registry = new Registry()
    const h = new TallyHistogram({ name: 'y_seconds', help: 'y', labelNames: ['topic'] as const, buckets: [1], registers: [registry] })
    const s = h.series({ topic: 'orders' })
    const t = new Tally([1])
    t.observe(0.5)
    s.add(t)
    registry.resetMetrics()
    s.add(t)
    const count = (await h.get()).values.find(v => v.metricName === 'y_seconds_count')
    assert.equal(count?.value, 1)
  })
})
