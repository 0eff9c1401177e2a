import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Engine } from '../../src/processor/engine.ts'
import { memoryStore, ordersPlans, writes } from './rig.ts'

/**
 * The engine's replication latency: per applied record, the batch's processing time (the injected clock)
 * minus the record's origin timestamp; nothing else is observed.
 */
const T = 1_700_000_000_000

function engineAt (now: number): { engine: Engine, batch: (topic: string, records: ReturnType<typeof writes>) => ReturnType<Engine['process']> } {
  const store = memoryStore()
  const plans = ordersPlans(store)
  const engine = new Engine(store, plans, { clock: () => now })
  let offset = 0
  return {
    engine,
    batch: (topic, records) => engine.process({ topic, partition: 0, records: records.map(r => ({ ...r, offset: String(offset++) })) })
  }
}

describe('Engine replication latency', () => {
  it('observes processing time minus origin time, in seconds, for each applied record', () => {
    // writes() stamps record i at ts + i: 1.5 s and 1.499 s before the clock.
    const { batch } = engineAt(T + 1_500)
    const result = batch('orders', writes('a', 2, T))
    assert.equal(result.counts.applied, 2)
    assert.equal(result.latency.count, 2)
    assert.ok(Math.abs(result.latency.sum - (1.5 + 1.499)) < 1e-9, `sum ${result.latency.sum}`)
    const le = (bound: number): number => {
      const i = result.latency.bounds.indexOf(bound)
      return result.latency.counts.slice(0, i + 1).reduce((a, b) => a + b, 0)
    }
    assert.equal(le(1), 0)
    assert.equal(le(2.5), 2)
  })

  it('observes nothing for stale, duplicate, looped or dead-lettered records', () => {
    const { batch } = engineAt(T + 10)
    batch('orders', writes('a', 1, T + 5))
    const again = batch('orders', writes('a', 1, T + 5))
    assert.equal(again.counts.duplicate, 1)
    const older = batch('orders', writes('a', 1, T))
    assert.equal(older.counts.stale, 1)
    const echo = batch('dc2.orders', writes('b', 1, T))
    assert.equal(echo.counts.loop, 1)
    const bad = batch('orders', writes('c', 1, T).map(w => ({ ...w, headers: { ...w.headers, 'x-origin-ts': 'soon' } })))
    assert.equal(bad.counts.dead_lettered, 1)
    assert.deepEqual([again, older, echo, bad].map(r => r.latency.count), [0, 0, 0, 0])
  })

  it('counts a write stamped after the processing time (a clock ahead) as 0', () => {
    const { batch } = engineAt(T)
    const result = batch('orders', writes('a', 1, T + 2_000))
    assert.equal(result.latency.count, 1)
    assert.equal(result.latency.sum, 0)
    assert.equal(result.latency.counts[0], 1)
  })
})
