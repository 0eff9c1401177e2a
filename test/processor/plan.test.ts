import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { policies } from '../../src/merge/index.ts'
import { planTopics } from '../../src/processor/plan.ts'

const configOf = (topics: Array<Record<string, unknown>>, peers = ['dc2', 'dc3'], replicationSeparator = '.') => validateConfig({
  dc: 'dc1', peers, kafka: { brokers: ['127.0.0.1:19092'], replicationSeparator }, topics
}, { policies })

describe('planTopics', () => {
  it('plans the local topic and each peer\'s remote copy as inputs, each with its source DC', () => {
    const plans = planTopics(configOf([{ name: 'orders', policy: 'lww' }]), () => 7)
    assert.equal(plans.localDc, 'dc1')
    assert.deepEqual([...plans.dcs], ['dc1', 'dc2', 'dc3'])
    assert.deepEqual([...plans.inputs.values()].map(i => [i.topic, i.sourceDc]), [['orders', 'dc1'], ['dc2.orders', 'dc2'], ['dc3.orders', 'dc3']])
    const plan = plans.topics[0]!
    assert.equal(plan.id, 7)
    assert.equal(plan.policy, policies.get('lww'))
    assert.deepEqual(plan.inputs.map(i => i.topic), ['orders', 'dc2.orders', 'dc3.orders'])
    for (const input of plan.inputs) assert.equal(input.plan, plan, 'every input points back at its topic')
  })

  it('names remote copies with the configured replication separator', () => {
    const plans = planTopics(configOf([{ name: 'orders', policy: 'lww' }], ['dc2'], '_'), () => 1)
    assert.deepEqual([...plans.inputs.keys()], ['orders', 'dc2_orders'])
  })

  it('asks the store for one id per topic, by name', () => {
    const asked: string[] = []
    const plans = planTopics(configOf([{ name: 'orders', policy: 'lww' }, { name: 'users', policy: 'lww' }]), name => {
      asked.push(name)
      return asked.length
    })
    assert.deepEqual(asked, ['orders', 'users'])
    assert.deepEqual(plans.topics.map(t => t.id), [1, 2])
    assert.equal(plans.inputs.get('dc3.users')?.plan, plans.topics[1])
  })

  it('decodes values only when a timestamp comes from them, with the topic\'s codec', () => {
    const plans = planTopics(configOf([
      { name: 'a', policy: 'lww' },
      { name: 'b', policy: 'lww', timestampSource: 'value' },
      { name: 'c', policy: 'lww', timestampSource: 'value', codec: 'json' }
    ]), () => 1)
    const [a, b, c] = plans.topics
    assert.equal(a!.decode, undefined, 'LWW with header timestamps never decodes')
    assert.deepEqual(b!.decode?.(encodeMsgpack({ timestamp: 5 })), { timestamp: 5 })
    assert.deepEqual(c!.decode?.(Buffer.from('{"timestamp":6}')), { timestamp: 6 })
  })

  it('starts with one output and dead-letter partition until the topics are known', () => {
    const plan = planTopics(configOf([{ name: 'orders', policy: 'lww' }]), () => 1).topics[0]!
    assert.equal(plan.outputPartitions, 1)
    assert.equal(plan.dlqPartitions, 1)
  })
})
