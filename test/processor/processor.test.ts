import assert from 'node:assert/strict'
import { KafkaError } from '../../src/errors.ts'
import { describe, it } from 'node:test'
import { keys, ManualSleep, rig, track, turn, writes } from './rig.ts'

/**
 * The processor against in-memory fakes of the project's Kafka ports (the real-broker behaviour is in
 * test/integration/): how committed output reaches the producer while consumption goes on, and when the
 * processor says it is ready.
 */

const gauge = async (rigged: Awaited<ReturnType<typeof rig>>, name: 'ready' | 'outboxPending'): Promise<number | undefined> =>
  (await rigged.metrics[name].get()).values[0]?.value

describe('Processor output', () => {
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
    const bound = 8
    const size = bound / 4
    const backoff = { baseMs: 7, maxMs: 7 }
    const sleeps = new ManualSleep()
    const r = await rig({ maxUnsentRecords: bound, retryBackoff: backoff, sleep: sleeps.sleep })
    const { processor, producer, store, onBatch } = r
    producer.failing = true
    for (let b = 0; b < 3; b++) await onBatch(writes(`b${b}`, size))
    const fourth = onBatch(writes('b3', size))
    const state = track(fourth)
    // The flush failed and waits out its back-off on the test's sleep, which only the test ends: the batch
    // that reached the bound cannot return before that, however long the test looked.
    await sleeps.asked(ms => ms === backoff.baseMs)
    await turn()
    assert.equal(state.settled, false, 'the batch that reached the bound waits for the producer')
    assert.equal(store.pendingCount(), bound)

    producer.failing = false
    sleeps.wake(ms => ms === backoff.baseMs)
    await fourth
    assert.equal(store.pendingCount(), 0, 'the batch returned once its output was sent')
    await onBatch(writes('c', 1))
    await processor.stop()
    assert.equal(producer.sent.length, bound + 1)
    assert.deepEqual(keys(producer.sent).slice(size - 1, size + 1), [`b0-${size - 1}`, 'b1-0'], 'in commit order')
    assert.deepEqual(keys(producer.sent).slice(-2), ['b3-1', 'c-0'])
    assert.equal(store.pendingCount(), 0)
    assert.equal(await gauge(r, 'outboxPending'), 0)
  })

  it('below the bound, a batch returns while Kafka refuses its output; the retry, and stop, wait out the back-off', async () => {
    const sleeps = new ManualSleep()
    const { processor, producer, store, onBatch } = await rig({ maxUnsentRecords: 8, retryBackoff: { baseMs: 3, maxMs: 3 }, sleep: sleeps.sleep })
    producer.failing = true
    await onBatch(writes('a', 2))
    await sleeps.asked(ms => ms === 3)
    assert.equal(store.pendingCount(), 2, 'committed, not sent')
    producer.failing = false
    const stopping = processor.stop()
    const stopped = track(stopping)
    await turn()
    assert.equal(stopped.settled, false, 'stop lets the retry in progress wait out its back-off')
    sleeps.wake(ms => ms === 3)
    await stopping
    assert.deepEqual(keys(producer.sent), ['a-0', 'a-1'], 'the retry after the back-off sent it')
    assert.equal(store.pendingCount(), 0)
  })
})

describe('Processor readiness', () => {
  it('is ready only while partitions of the inputs are assigned, and not once it stops', async () => {
    const r = await rig()
    const { processor, consumer } = r
    assert.ok(consumer.options !== undefined, 'consuming the inputs that exist')
    assert.deepEqual(consumer.options.topics, ['orders', 'dc2.orders'])
    assert.equal(processor.ready, false, 'the consumer runs but the group has not assigned anything yet')
    assert.equal(await gauge(r, 'ready'), 0)

    consumer.assign([{ topic: 'orders', partition: 0 }, { topic: 'dc2.orders', partition: 0 }])
    assert.equal(processor.ready, false, 'not before the lag of the new assignment is read')
    await turn()
    assert.equal(processor.ready, true)
    assert.equal(await gauge(r, 'ready'), 1)
    consumer.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    assert.equal(processor.ready, true, 'still holds a partition after a rebalance took one')
    consumer.assign([])
    await turn()
    assert.equal(processor.ready, false, 'a rebalance took every partition')
    assert.equal(await gauge(r, 'ready'), 0)
    consumer.assign([{ topic: 'dc2.orders', partition: 0 }])
    await turn()
    assert.equal(processor.ready, true)

    await processor.stop()
    assert.equal(consumer.stopped, true)
    assert.equal(processor.ready, false)
    assert.equal(await gauge(r, 'ready'), 0)
  })

  it('picks up an input topic that appears: outputs first, then a fresh consumer of every input; the replaced consumer is ignored', async () => {
    const interval = 1_000
    const sleeps = new ManualSleep()
    const topics = new Map([['orders', 3]])
    const r = await rig({ topics, sleep: sleeps.sleep, discoveryIntervalMs: interval })
    const { processor, consumers, admin, log } = r
    assert.deepEqual(consumers[0]?.options?.topics, ['orders'], 'consumes what exists')
    assert.deepEqual(admin.created.flat().map(s => [s.topic, s.partitions]), [['orders.merged', 3], ['orders.dlq', 3], ['orders.conflicts', 3]])
    assert.ok(log.entries.some(e => e.msg === 'waiting for input topics that do not exist yet'))
    consumers[0]!.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    assert.equal(processor.ready, true)

    topics.set('dc2.orders', 3)
    sleeps.wake(ms => ms === interval)
    // The loop asks for its next wait once the look that found the topic has been handled.
    await sleeps.asked(ms => ms === interval, 2)
    assert.equal(consumers.length, 2)
    assert.equal(consumers[0]!.stopped, true)
    assert.deepEqual(consumers[1]!.options?.topics, ['orders', 'dc2.orders'])
    assert.equal(processor.ready, false, 'the old consumer gave its partitions back; the new one holds none yet')
    consumers[0]!.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    assert.equal(processor.ready, false, 'a late callback of the replaced consumer changes nothing')
    consumers[1]!.assign([{ topic: 'orders', partition: 1 }, { topic: 'dc2.orders', partition: 1 }])
    await turn()
    assert.equal(processor.ready, true)

    sleeps.wake(ms => ms === interval)
    await sleeps.asked(ms => ms === interval, 3)
    assert.equal(consumers.length, 2, 'nothing changed, nothing restarted')
    await processor.stop()
    assert.equal(consumers[1]!.stopped, true)
  })

  it('starts when the first look for topics fails with a Kafka error, and the next look picks the topics up', async () => {
    const interval = 1_000
    const sleeps = new ManualSleep()
    let failures = 1
    const r = await rig({
      sleep: sleeps.sleep,
      discoveryIntervalMs: interval,
      adminLayer: admin => ({
        ...admin,
        partitionCounts: async topics => {
          if (failures-- > 0) throw new KafkaError('cannot read topic metadata: This server does not host this topic-partition')
          return admin.partitionCounts(topics)
        }
      })
    })
    assert.equal(r.consumers.length, 0, 'nothing to consume yet')
    assert.ok(r.log.entries.some(e => e.level === 'warn' && e.msg === 'could not look for the input topics yet; will retry'))
    sleeps.wake(ms => ms === interval)
    await sleeps.asked(ms => ms === interval, 2)
    assert.deepEqual(r.consumers[0]?.options?.topics, ['orders', 'dc2.orders'])
    await r.processor.stop()
  })
})

describe('Processor lag and readiness', () => {
  const lag = async (r: Awaited<ReturnType<typeof rig>>): Promise<Record<string, number>> =>
    Object.fromEntries((await r.metrics.consumerLag.get()).values.map(v => [`${v.labels.topic}:${v.labels.partition}`, v.value]))

  it('is not ready while the assigned partitions lag more than maxLagRecords in all, and is once they catch up', async () => {
    const sleeps = new ManualSleep()
    const r = await rig({ sleep: sleeps.sleep, readiness: { maxLagRecords: 3, lagIntervalMs: 250 } })
    // Nothing committed for orders:0 yet: its position is its log start offset.
    r.admin.ends.set('orders:0', { low: 0n, high: 5n })
    r.admin.ends.set('dc2.orders:0', { low: 10n, high: 12n })
    r.consumer.assign([{ topic: 'orders', partition: 0 }, { topic: 'dc2.orders', partition: 0 }])
    await turn()
    assert.deepEqual(await lag(r), { 'orders:0': 5, 'dc2.orders:0': 2 })
    assert.equal(r.processor.ready, false, '7 records behind, 3 allowed')
    assert.equal(await gauge(r, 'ready'), 0)

    await r.deliver(r.number(writes('a', 4)), 1)
    await r.deliver(r.number(writes('b', 1)))
    assert.deepEqual(r.store.offsets(), new Map([['orders:0', 5]]))
    assert.equal(r.processor.ready, false, 'the lag is read on the interval, not at each commit')
    sleeps.wake(ms => ms === 250)
    await sleeps.asked(ms => ms === 250, 2)
    assert.deepEqual(await lag(r), { 'orders:0': 0, 'dc2.orders:0': 2 })
    assert.equal(r.processor.ready, true, '2 records behind')
    assert.equal(await gauge(r, 'ready'), 1)

    r.consumer.assign([{ topic: 'dc2.orders', partition: 0 }])
    await turn()
    assert.deepEqual(await lag(r), { 'dc2.orders:0': 2 }, 'only the partitions this instance holds')
    await r.processor.stop()
  })

  it('keeps the last reading when Kafka cannot tell the offsets, and says so once', async () => {
    const sleeps = new ManualSleep()
    let failing = false
    const r = await rig({
      sleep: sleeps.sleep,
      readiness: { maxLagRecords: 10, lagIntervalMs: 250 },
      adminLayer: admin => ({
        ...admin,
        logOffsets: async topic => {
          if (failing) throw new KafkaError(`cannot read the offsets of ${topic}: broker down`)
          return admin.logOffsets(topic)
        }
      })
    })
    r.admin.ends.set('orders:0', { low: 0n, high: 4n })
    r.consumer.assign([{ topic: 'orders', partition: 0 }])
    await turn()
    assert.equal(r.processor.ready, true)
    failing = true
    for (let i = 2; i <= 3; i++) {
      sleeps.wake(ms => ms === 250)
      await sleeps.asked(ms => ms === 250, i)
    }
    assert.deepEqual(await lag(r), { 'orders:0': 4 })
    assert.equal(r.processor.ready, true)
    assert.equal(r.log.entries.filter(e => e.msg.startsWith('could not read the lag')).length, 1)
    await r.processor.stop()
  })
})

describe('Processor commit window', () => {
  const records = async (r: Awaited<ReturnType<typeof rig>>): Promise<number> =>
    (await r.metrics.records.get()).values.filter(v => v.labels.outcome === 'applied').reduce((n, v) => n + v.value, 0)

  it('absorbs batches that leave their partition behind into one window, committed by the batch that reaches the end', async () => {
    const r = await rig({ commitWindow: { intervalMs: 60_000, maxRecords: 1_000 } })
    await r.deliver(r.number(writes('a', 2)), 5)
    await r.deliver(r.number(writes('b', 2)), 3)
    assert.deepEqual(r.store.offsets(), new Map(), 'nothing committed while behind')
    assert.equal(r.store.pendingCount(), 0)
    assert.equal(await records(r), 0, 'counted at commit only')
    await r.deliver(r.number(writes('c', 1)))
    assert.deepEqual(r.store.offsets(), new Map([['orders:0', 5]]))
    assert.equal(await records(r), 5)
    await r.processor.stop()
    assert.deepEqual(keys(r.producer.sent).sort(), ['a-0', 'a-1', 'b-0', 'b-1', 'c-0'])
  })

  it('commits a window once it holds maxRecords records, while still behind', async () => {
    const r = await rig({ commitWindow: { intervalMs: 60_000, maxRecords: 4 } })
    await r.deliver(r.number(writes('a', 3)), 100)
    assert.deepEqual(r.store.offsets(), new Map())
    await r.deliver(r.number(writes('b', 1)), 100)
    assert.deepEqual(r.store.offsets(), new Map([['orders:0', 4]]))
    await r.processor.stop()
  })

  it('commits a window that reaches intervalMs on its timer, with no batch after it', async () => {
    const r = await rig({ commitWindow: { intervalMs: 20, maxRecords: 1_000 } })
    await r.deliver(r.number(writes('a', 2)), 100)
    assert.deepEqual(r.store.offsets(), new Map())
    const until = Date.now() + 5_000
    while (r.store.offsets().size === 0 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 5))
    assert.deepEqual(r.store.offsets(), new Map([['orders:0', 2]]))
    await r.processor.stop()
    assert.deepEqual(keys(r.producer.sent), ['a-0', 'a-1'])
  })

  it('commits the open window on stop, and its output goes out', async () => {
    const r = await rig({ commitWindow: { intervalMs: 60_000, maxRecords: 1_000 } })
    await r.deliver(r.number(writes('a', 2)), 100)
    await r.processor.stop()
    assert.deepEqual(r.store.offsets(), new Map([['orders:0', 2]]))
    assert.deepEqual(keys(r.producer.sent), ['a-0', 'a-1'])
  })

  it('an entity updated twice in one window is emitted once, with its last value', async () => {
    const r = await rig({ commitWindow: { intervalMs: 60_000, maxRecords: 1_000 } })
    await r.deliver(r.number(writes('a', 1, 1_700_000_000_000)), 1)
    await r.deliver(r.number(writes('a', 1, 1_700_000_000_500).map(w => ({ ...w, value: Buffer.from('newer') }))))
    await r.processor.stop()
    assert.deepEqual(r.producer.sent.map(s => [String(s.key), String(s.value)]), [['a-0', 'newer']])
  })
})
