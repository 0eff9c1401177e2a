import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StoreError } from '../../src/errors.ts'
import { Engine } from '../../src/processor/engine.ts'
import type { BatchCommit, EntityRow, PendingOutput, StateStore, Watermark } from '../../src/store/state-store.ts'
import { keys, ManualSleep, memoryStore, ordersPlans, rig, turn, writes } from './rig.ts'

/**
 * The store port used as a seam: a layer wrapping the real store, as Kafka Streams wraps its stores, makes
 * one commit fail, and the tests pin what the engine and the processor do about it.
 */

type When = 'before it writes' | 'after it wrote'

/** Passes everything to the store below, except that the next commit fails `failNext` once. */
class FailingCommitLayer implements StateStore {
  readonly #inner: StateStore
  failNext: When | undefined
  commits = 0

  constructor (inner: StateStore) { this.#inner = inner }
  topicId (name: string, stateFormat: string): number { return this.#inner.topicId(name, stateFormat) }
  getEntity (topicId: number, entity: string): EntityRow | undefined { return this.#inner.getEntity(topicId, entity) }
  atomically<T> (fn: () => T): T { return this.#inner.atomically(fn) }
  commit (batch: BatchCommit): void {
    this.commits++
    const when = this.failNext
    this.failNext = undefined
    if (when === 'before it writes') throw new StoreError('disk I/O error')
    this.#inner.commit(batch)
    if (when === 'after it wrote') throw new StoreError('disk I/O error')
  }

  offsets (): Map<string, number> { return this.#inner.offsets() }
  pending (afterSeq: number, limit: number): PendingOutput[] { return this.#inner.pending(afterSeq, limit) }
  pendingCount (): number { return this.#inner.pendingCount() }
  acknowledge (seq: number): void { this.#inner.acknowledge(seq) }
  entities (topicId: number): Map<string, EntityRow> { return this.#inner.entities(topicId) }
  watermarks (topicId: number): Watermark[] { return this.#inner.watermarks(topicId) }
  purgeDeleted (topicId: number, beforeTs: number, limit: number): number { return this.#inner.purgeDeleted(topicId, beforeTs, limit) }
  pageCount (): number { return this.#inner.pageCount() }
  close (): void { this.#inner.close() }
}

/** Everything a reader of the store sees. */
const snapshot = (store: StateStore, topicId: number, entities: readonly string[]): unknown => ({
  entities: entities.map(e => store.getEntity(topicId, e)),
  all: [...store.entities(topicId)],
  watermarks: store.watermarks(topicId),
  offsets: [...store.offsets()],
  outbox: store.pending(0, 1_000)
})

const isDiskError = (err: unknown): boolean => err instanceof StoreError && err.code === 'CONCORD_ERR_STORE' && /disk I\/O error/.test(err.message)

describe('a store commit that fails', () => {
  for (const when of ['before it writes', 'after it wrote'] as const) {
    it(`${when}: the engine throws the store's error and keeps nothing of the batch; the same batch then applies once`, () => {
      const layer = new FailingCommitLayer(memoryStore())
      const plans = ordersPlans(layer)
      const engine = new Engine(layer, plans)
      const id = plans.topics[0]!.id
      const batch = (prefix: string, from: number) => ({
        topic: 'orders', partition: 0, records: writes(prefix, 2).map((r, i) => ({ ...r, offset: String(from + i) }))
      })
      engine.process(batch('a', 0))
      const names = ['a-0', 'a-1', 'b-0', 'b-1']
      const before = snapshot(layer, id, names)

      layer.failNext = when
      assert.throws(() => engine.process(batch('b', 2)), isDiskError)
      // After it wrote, the commit was a savepoint of the batch's transaction, which the error rolled back.
      assert.deepEqual(snapshot(layer, id, names), before, 'nothing half-applied')

      const result = engine.process(batch('b', 2))
      assert.equal(result.counts.applied, 2)
      assert.equal(result.emitted, 2)
      assert.equal(layer.offsets().get('orders:0'), 4)
      assert.equal(layer.pendingCount(), 4, 'a-0, a-1, then b-0, b-1 once')
      layer.close()
    })
  }

  it('in the processor: the window is discarded uncounted, and a fresh consumer reads again from the store\'s positions after a back-off', async () => {
    let layer: FailingCommitLayer | undefined
    const sleep = new ManualSleep()
    const r = await rig({ layer: inner => (layer = new FailingCommitLayer(inner)), sleep: sleep.sleep, retryBackoff: { baseMs: 250, maxMs: 5_000 } })
    const { processor, producer, store, metrics, onBatch, deliver, number, consumers, log } = r
    producer.hold()
    await onBatch(writes('a', 1))
    const failing = number(writes('b', 2))
    layer!.failNext = 'after it wrote'
    await deliver(failing)
    assert.deepEqual(store.offsets(), new Map([['orders:0', 1]]))
    assert.equal(store.pendingCount(), 1, 'a-0\'s output only (the producer is held)')
    const applied = async (): Promise<number | undefined> =>
      (await metrics.records.get()).values.find(v => v.labels.topic === 'orders' && v.labels.outcome === 'applied')?.value
    assert.equal(await applied(), 1, 'the failed window is not counted')
    const observed = async (): Promise<number | undefined> =>
      (await metrics.replicationLatency.get()).values.find(v => v.metricName === 'concord_replication_latency_seconds_count' && v.labels.topic === 'orders')?.value
    assert.equal(await observed(), 1, 'nor is its replication latency observed')
    assert.ok(log.entries.some(e => e.level === 'error' && e.msg.startsWith('could not process a window of records')))
    // Until the fresh consumer runs, what the old one still hands over is ignored: none of it may commit past the gap.
    await deliver(number(writes('c', 1)))
    assert.deepEqual(store.offsets(), new Map([['orders:0', 1]]))

    await sleep.asked(ms => ms === 250)
    sleep.wake(ms => ms === 250)
    while (consumers.length < 2) await turn()
    assert.equal(consumers[1]!.options!.startOffset('orders', 0), '1', 'the fresh consumer starts after the last commit')
    await deliver(failing)
    assert.equal(layer!.commits, 3)
    assert.deepEqual(store.offsets(), new Map([['orders:0', 3]]))
    assert.equal(await applied(), 3)
    assert.equal(await observed(), 3, 'observed once it committed, once each')
    producer.release()
    await processor.stop()
    assert.deepEqual(keys(producer.sent), ['a-0', 'b-0', 'b-1'], 'each change produced once, in order')
    assert.equal(store.pendingCount(), 0)
  })
})
