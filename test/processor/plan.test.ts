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
    assert.equal(plan.merger.policy, 'lww')
    assert.deepEqual(plan.inputs.map(i => i.topic), ['orders', 'dc2.orders', 'dc3.orders'])
    for (const input of plan.inputs) assert.equal(input.plan, plan, 'every input points back at its topic')
  })

  it('names remote copies with the configured replication separator', () => {
    const plans = planTopics(configOf([{ name: 'orders', policy: 'lww' }], ['dc2'], '_'), () => 1)
    assert.deepEqual([...plans.inputs.keys()], ['orders', 'dc2_orders'])
  })

  it('asks the store for one id per topic, by name and the layout of its policy\'s state', () => {
    const asked: string[] = []
    const plans = planTopics(configOf([{ name: 'orders', policy: 'lww' }, { name: 'users', policy: 'lww' }]), (name, format) => {
      asked.push(`${name}/${format}`)
      return asked.length
    })
    assert.deepEqual(asked, ['orders/siblings', 'users/siblings'])
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
    assert.equal(a!.validate?.(Buffer.from([0xc1])) !== undefined, true, 'it validates instead')
    assert.deepEqual(b!.decode?.(encodeMsgpack({ timestamp: 5 })), { timestamp: 5 })
    assert.deepEqual(c!.decode?.(Buffer.from('{"timestamp":6}')), { timestamp: 6 })
  })

  it('validates values that nothing decodes unless validateValues is false, and never raw ones', () => {
    const [on, off, raw, decoded] = planTopics(configOf([
      { name: 'a', policy: 'lww' },
      { name: 'b', policy: 'lww', validateValues: false },
      { name: 'c', policy: 'lww', codec: 'raw' },
      { name: 'd', policy: 'lww', timestampSource: 'value' }
    ]), () => 1).topics
    assert.equal(on!.validate?.(encodeMsgpack({ a: 1 })), undefined)
    assert.equal(off!.validate, undefined)
    assert.equal(raw!.validate, undefined)
    assert.equal(decoded!.validate, undefined, 'decoding validates already')
  })

  it('starts with one output, dead-letter and conflict partition, and no known input partitions', () => {
    const plan = planTopics(configOf([{ name: 'orders', policy: 'lww' }]), () => 1).topics[0]!
    assert.equal(plan.outputPartitions, 1)
    assert.equal(plan.dlqPartitions, 1)
    assert.equal(plan.conflictPartitions, 1)
    assert.equal(plan.inputPartitions, 0)
  })
})
