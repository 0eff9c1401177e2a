import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { validateConfig } from '../../src/config/validate.ts'
import type { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaConsumer, RunOptions } from '../../src/kafka/consumer.ts'
import type { KafkaProducer } from '../../src/kafka/producer.ts'
import type { InRecord, OutRecord } from '../../src/kafka/records.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { Metrics } from '../../src/metrics/metrics.ts'
import { Engine } from '../../src/processor/engine.ts'
import { OutboxFlusher } from '../../src/processor/outbox.ts'
import { planTopics } from '../../src/processor/plan.ts'
import { MAX_UNSENT_RECORDS, Processor } from '../../src/processor/processor.ts'
import { openDatabase } from '../../src/store/open.ts'
import { StateStore } from '../../src/store/state-store.ts'

/**
 * The processor against in-memory fakes of the project's Kafka ports (the real-broker behaviour is in
 * test/integration/): how committed output reaches the producer while consumption goes on.
 */

/** A producer whose sends wait for `release()` and fail while `failing` is set. */
class FakeProducer implements KafkaProducer {
  readonly sent: OutRecord[] = []
  failing = false
  #gate: Promise<void> | undefined
  #open: () => void = () => {}
  hold (): void { this.#gate = new Promise(resolve => { this.#open = resolve }) }
  release (): void { this.#open(); this.#gate = undefined }
  async send (records: readonly OutRecord[]): Promise<void> {
    await this.#gate
    if (this.failing) throw new Error('broker refuses')
    this.sent.push(...records)
  }

  async close (): Promise<void> {}
}

/** A consumer that hands the test its onBatch. */
class FakeConsumer implements KafkaConsumer {
  options: RunOptions | undefined
  async run (options: RunOptions): Promise<void> { this.options = options }
  async stop (): Promise<void> {}
}

const admin: KafkaAdmin = {
  listTopics: async () => ['orders', 'dc2.orders'],
  createTopics: async () => {},
  partitionCounts: async topics => new Map(topics.map(t => [t, 1])),
  highWatermarks: async () => new Map(),
  close: async () => {}
}

async function rig (): Promise<{ processor: Processor, producer: FakeProducer, store: StateStore, onBatch: (records: InRecord[]) => Promise<void> }> {
  const config = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy: 'lww' }] })
  const store = new StateStore(openDatabase({ dir: ':memory:', synchronous: 'normal', cacheMb: 16 }))
  const plans = planTopics(config, name => store.topicId(name))
  const producer = new FakeProducer()
  const consumer = new FakeConsumer()
  const metrics = new Metrics()
  const processor = new Processor({
    plans, engine: new Engine(store, plans), store, admin, metrics, log: silentLogger,
    outbox: new OutboxFlusher(store, producer, records => metrics.countEmitted(records)),
    newConsumer: async () => consumer,
    discoveryIntervalMs: 20
  })
  await processor.start()
  let offset = 0
  const onBatch = (records: InRecord[]): Promise<void> => consumer.options!.onBatch({
    topic: 'orders', partition: 0, records: records.map(r => ({ ...r, offset: String(offset++) }))
  })
  return { processor, producer, store, onBatch }
}

/** `n` writes by dc1 to new entities `<prefix>-<i>`: each changes the merged state and is emitted. */
const writes = (prefix: string, n: number, ts = 1_700_000_000_000): InRecord[] => Array.from({ length: n }, (_, i) => ({
  offset: '0',
  timestamp: String(ts),
  key: Buffer.from(`${prefix}-${i}-dc1`),
  value: Buffer.from(`v${i}`),
  headers: { 'x-origin-dc': 'dc1', 'x-origin-ts': String(ts + i), 'x-event-id': `${prefix}-${i}` }
}))

const keys = (records: readonly OutRecord[]): string[] => records.map(r => String(r.key))

describe('Processor output', { timeout: 30_000 }, () => {
  it('is produced in the background, in commit order: a batch returns before its output is acknowledged', async () => {
    const { processor, producer, onBatch } = await rig()
    producer.hold()
    await onBatch(writes('a', 3))
    await onBatch(writes('b', 2))
    assert.deepEqual(producer.sent, [], 'nothing acknowledged yet, and consumption went on')
    producer.release()
    await processor.stop()
    assert.deepEqual(keys(producer.sent), ['a-0', 'a-1', 'a-2', 'b-0', 'b-1'])
  })

  it('stops consumption once unsent output reaches the bound while Kafka refuses it, and loses nothing', async () => {
    const { processor, producer, store, onBatch } = await rig()
    producer.failing = true
    const size = MAX_UNSENT_RECORDS / 4
    for (let b = 0; b < 3; b++) await onBatch(writes(`b${b}`, size))
    const fourth = onBatch(writes('b3', size))
    const state = await Promise.race([fourth.then(() => 'returned'), sleep(1_500, 'waiting')])
    assert.equal(state, 'waiting', 'the batch that reached the bound waits for the producer')
    assert.equal(store.pendingCount(), MAX_UNSENT_RECORDS)
    producer.failing = false
    await fourth
    await onBatch(writes('c', 1))
    await processor.stop()
    assert.equal(producer.sent.length, MAX_UNSENT_RECORDS + 1)
    assert.deepEqual(keys(producer.sent).slice(size - 1, size + 1), [`b0-${size - 1}`, 'b1-0'], 'in commit order')
    assert.equal(store.pendingCount(), 0)
  })
})
