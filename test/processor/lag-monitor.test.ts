import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LogOffsets } from '../../src/kafka/admin.ts'
import { LagMonitor } from '../../src/processor/lag-monitor.ts'
import { recordingLogger, turn } from './rig.ts'

/** A gauge that keeps what it is set to, by "topic:partition". */
function gauge (): { values: Map<string, number>, reset (): void, set (l: { topic: string, partition: string }, n: number): void } {
  const values = new Map<string, number>()
  return { values, reset: () => values.clear(), set: (l, n) => values.set(`${l.topic}:${l.partition}`, n) }
}

/** An admin whose offset reads wait until the test releases them, in order. */
function heldAdmin (ends: Record<string, Record<number, LogOffsets>>) {
  const waiting: Array<() => void> = []
  return {
    waiting,
    logOffsets: (topic: string) => new Promise<Map<number, LogOffsets>>(resolve => {
      waiting.push(() => resolve(new Map(Object.entries(ends[topic] ?? {}).map(([p, o]) => [Number(p), o]))))
    })
  }
}

/** Lets the next read reach the admin, answers it, and lets its result land. */
async function release (admin: { waiting: Array<() => void> }): Promise<void> {
  await turn()
  admin.waiting.shift()!()
  await turn()
}

describe('LagMonitor', () => {
  it('computes end minus committed position, from the log start where nothing is committed', async () => {
    const admin = heldAdmin({ orders: { 0: { low: 3n, high: 10n }, 1: { low: 0n, high: 4n } } })
    const g = gauge()
    const m = new LagMonitor({ admin, store: { offsets: () => new Map([['orders:1', 4]]) }, gauge: g, log: recordingLogger() })
    m.assign([{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }])
    assert.equal(m.total, undefined, 'unknown until read')
    await release(admin)
    assert.equal(m.total, 7)
    assert.deepEqual(g.values, new Map([['orders:0', 7], ['orders:1', 0]]))
  })

  it('drops a reading made for an assignment that changed meanwhile', async () => {
    const admin = heldAdmin({ orders: { 0: { low: 0n, high: 10n } }, 'dc2.orders': { 0: { low: 0n, high: 2n } } })
    const m = new LagMonitor({ admin, store: { offsets: () => new Map() }, gauge: gauge(), log: recordingLogger() })
    m.assign([{ topic: 'orders', partition: 0 }])
    await turn() // its reading is in flight
    m.assign([{ topic: 'dc2.orders', partition: 0 }])
    await release(admin)
    assert.equal(m.total, undefined, 'the first reading was of orders')
    await release(admin)
    assert.equal(m.total, 2)
  })

  it('keeps the readings of the partitions a rebalance leaves, and reads only when one is new', async () => {
    const admin = heldAdmin({ orders: { 0: { low: 0n, high: 5n }, 1: { low: 0n, high: 2n } } })
    const m = new LagMonitor({ admin, store: { offsets: () => new Map() }, gauge: gauge(), log: recordingLogger() })
    m.assign([{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }])
    await release(admin)
    assert.equal(m.total, 7)
    m.assign([{ topic: 'orders', partition: 1 }])
    assert.equal(m.total, 2, 'known at once')
    await turn()
    assert.equal(admin.waiting.length, 0, 'nothing new to read')
    m.assign([{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 0 }])
    assert.equal(m.total, undefined, 'partition 0 is new again')
    await release(admin)
    assert.equal(m.total, 7)
  })

  it('needs no reading for no partitions, and stops without waiting for a reading in flight', async () => {
    const admin = heldAdmin({ orders: { 0: { low: 0n, high: 10n } } })
    const g = gauge()
    const m = new LagMonitor({ admin, store: { offsets: () => new Map() }, gauge: g, log: recordingLogger() })
    m.assign([])
    assert.equal(m.total, 0)
    m.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    m.stop()
    await release(admin)
    assert.equal(m.total, undefined, 'the reading that came after the stop was dropped')
    m.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    assert.equal(admin.waiting.length, 0, 'no reading once stopped')
  })
})
