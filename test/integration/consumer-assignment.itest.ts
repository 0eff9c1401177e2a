import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { connectConsumer, type KafkaConsumer } from '../../src/kafka/consumer.ts'
import type { InBatch, TopicPartition } from '../../src/model/record.ts'
import { produce } from '../../lab/scenario.ts'
import { DC1 } from './lab.ts'

/**
 * The consumer port's partition assignment on the lab's dc1 broker. Topic and group names are unique per run:
 * other suites may use the same broker at the same time.
 */

const PARTITIONS = 4
const fresh = (name: string): string => `it-${name}-${randomUUID()}`

async function until (what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

const sorted = (tps: readonly TopicPartition[]): string[] => tps.map(tp => `${tp.topic}:${tp.partition}`).sort()
const all = (topic: string): string[] => sorted(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))

/** A consumer of `topic` in `group` that records what it is told. */
async function member (topic: string, group: string, startOffset: (topic: string, partition: number) => string | undefined = () => undefined) {
  const events: Array<{ kind: 'assigned' | 'revoked', partitions: readonly TopicPartition[] }> = []
  const batches: InBatch[] = []
  const consumer: KafkaConsumer = await connectConsumer({ brokers: [DC1], clientId: 'concord-test', groupId: group })
  await consumer.run({
    topics: [topic],
    startOffset,
    onBatch: async batch => { batches.push(batch) },
    onAssigned: partitions => { events.push({ kind: 'assigned', partitions }) },
    onRevoked: partitions => { events.push({ kind: 'revoked', partitions }) }
  })
  const last = (kind: 'assigned' | 'revoked') => events.filter(e => e.kind === kind).at(-1)
  return { consumer, events, batches, last }
}

async function createTopic (topic: string): Promise<void> {
  const admin = await connectAdmin({ brokers: [DC1], clientId: 'concord-test' })
  try {
    await admin.createTopics([{ topic, partitions: PARTITIONS }])
  } finally {
    await admin.close()
  }
}

describe('the consumer\'s partition assignment', { timeout: 120_000 }, () => {
  it('reports every partition of the topic to a single member, still seeks to the start offsets, and revokes all on stop', async () => {
    const topic = fresh('assign')
    await createTopic(topic)
    await produce(DC1, Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, key: `k${i}`, value: `v${i}` })))
    const m = await member(topic, fresh('group'), (_, partition) => partition === 0 ? '3' : undefined)
    try {
      await until('the assignment', () => m.last('assigned') !== undefined)
      assert.deepEqual(sorted(m.last('assigned')!.partitions), all(topic))
      assert.equal(m.events.filter(e => e.kind === 'revoked').length, 0, 'nothing held before, nothing revoked')
      await until('partition 0 from offset 3', () => m.batches.flatMap(b => b.records).length >= 2)
      assert.deepEqual(m.batches.flatMap(b => b.records.map(r => r.offset)), ['3', '4'], 'started where startOffset said')
    } finally {
      await m.consumer.stop()
    }
    assert.deepEqual(sorted(m.last('revoked')?.partitions ?? []), all(topic), 'leaving the group gives every partition back')
  })

  it('at a rebalance, revokes from the first member what the second member is given', async () => {
    const topic = fresh('rebalance')
    const group = fresh('group')
    await createTopic(topic)
    const first = await member(topic, group)
    let second: Awaited<ReturnType<typeof member>> | undefined
    try {
      await until('the first assignment', () => first.last('assigned') !== undefined)
      second = await member(topic, group)
      const s = second
      await until('the second member\'s share', () => (s.last('assigned')?.partitions.length ?? 0) > 0 &&
        first.events.some(e => e.kind === 'revoked'))
      await until('both shares to settle', () => first.last('assigned')!.partitions.length + s.last('assigned')!.partitions.length === PARTITIONS)
      const kept = sorted(first.last('assigned')!.partitions)
      const given = sorted(s.last('assigned')!.partitions)
      assert.deepEqual([...kept, ...given].sort(), all(topic), 'the two shares split the topic')
      assert.ok(given.length > 0 && kept.length > 0)
      const revoked = first.events.filter(e => e.kind === 'revoked').flatMap(e => sorted(e.partitions))
      assert.deepEqual(revoked.sort(), given, 'the first member lost exactly what the second was given')
    } finally {
      await second?.consumer.stop()
      await first.consumer.stop()
    }
  })
})
