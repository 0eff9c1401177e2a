import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ensureOutputTopics, type OutputTopicsPlan } from '../../src/processor/output-topics.ts'
import { fakeAdmin } from './rig.ts'

const plan = (): OutputTopicsPlan => ({
  config: { outputTopic: 'orders.merged', dlqTopic: 'orders.dlq', conflictTopic: 'orders.conflicts' },
  inputs: [{ topic: 'orders' }, { topic: 'dc2.orders' }],
  outputPartitions: 1,
  dlqPartitions: 1,
  conflictPartitions: 1,
  inputPartitions: 0
})

describe('ensureOutputTopics', () => {
  it('creates the compacted output, the dead-letter and the conflict topic with the inputs\' partition count', async () => {
    const topics = new Map([['orders', 6], ['dc2.orders', 6]])
    const admin = fakeAdmin(topics)
    const p = plan()
    await ensureOutputTopics(admin, p, topics)
    assert.deepEqual(admin.created, [[
      { topic: 'orders.merged', partitions: 6, config: { 'cleanup.policy': 'compact' } },
      { topic: 'orders.dlq', partitions: 6 },
      { topic: 'orders.conflicts', partitions: 6 }
    ]])
    assert.equal(p.outputPartitions, 6)
    assert.equal(p.dlqPartitions, 6)
    assert.equal(p.conflictPartitions, 6)
    assert.equal(p.inputPartitions, 6)
  })

  it('takes the largest input while a copy is missing or smaller, and does nothing while no input exists', async () => {
    const admin = fakeAdmin(new Map())
    const p = plan()
    await ensureOutputTopics(admin, p, new Map())
    assert.equal(admin.created.length, 0)
    assert.equal(p.outputPartitions, 1)
    await ensureOutputTopics(admin, p, new Map([['dc2.orders', 4]]))
    assert.deepEqual(admin.created[0]?.map(s => s.partitions), [4, 4, 4])
  })

  it('keeps output topics that exist as they are and routes by their actual partition counts', async () => {
    const topics = new Map([['orders', 3], ['dc2.orders', 3], ['orders.merged', 12], ['orders.dlq', 1]])
    const p = plan()
    await ensureOutputTopics(fakeAdmin(topics), p, topics)
    assert.equal(topics.get('orders.merged'), 12, 'not recreated')
    assert.equal(p.outputPartitions, 12)
    assert.equal(p.dlqPartitions, 1)
  })
})
