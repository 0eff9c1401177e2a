import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeDeadLetter, dlqTopicsOf, readDeadLetter, replayRecord } from '../../src/cli/dlq.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { UsageError } from '../../src/errors.ts'
import { policies } from '../../src/merge/index.ts'
import { DLQ } from '../../src/wire/contract.ts'

/** A dead letter as the engine writes it (src/processor/output-records.ts): the record, plus the error headers. */
const letter = (headers: Record<string, string>) => ({
  offset: '41',
  timestamp: '0',
  key: Buffer.from('order-7-dc2'),
  value: Buffer.from([0xc1]),
  headers: {
    'x-origin-dc': Buffer.from('dc2'),
    'x-event-id': Buffer.from('ev-9'),
    [DLQ.topic]: Buffer.from('dc2.orders'),
    [DLQ.partition]: Buffer.from('2'),
    [DLQ.offset]: Buffer.from('1234'),
    [DLQ.exceptionClass]: Buffer.from('RecordError'),
    [DLQ.message]: Buffer.from('value is not valid msgpack'),
    [DLQ.stage]: Buffer.from('parse'),
    [DLQ.dc]: Buffer.from('dc1'),
    ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]))
  }
})

test('a dead letter reads as where it came from, why, and the record with its own headers only', () => {
  const d = readDeadLetter('orders.dlq', 0, letter({}))
  assert.deepEqual(d.source, { topic: 'dc2.orders', partition: 2, offset: '1234' })
  assert.equal(d.reason, 'value is not valid msgpack')
  assert.equal(d.dc, 'dc1')
  assert.deepEqual(Object.keys(d.headers), ['x-origin-dc', 'x-event-id'])
  assert.equal(describeDeadLetter(d), 'orders.dlq:0@41  dc2.orders:2@1234  parse  RecordError: value is not valid msgpack  key="order-7-dc2"')
})

test('replay sends the record as it was to its input topic and partition', () => {
  const d = readDeadLetter('orders.dlq', 0, letter({}))
  assert.deepEqual(replayRecord(d), { topic: 'dc2.orders', partition: 2, key: d.key, value: d.value, headers: d.headers })
})

test('a record without valid source headers is not replayed, and says why', () => {
  for (const bad of [{ [DLQ.topic]: '' }, { [DLQ.partition]: 'x' }, { [DLQ.partition]: '-1' }]) {
    const r = replayRecord(readDeadLetter('orders.dlq', 1, letter(bad)))
    assert.equal(r, 'orders.dlq:1@41 has no valid __connect.errors.topic / __connect.errors.partition headers: not a concord dead letter')
  }
})

test('--topic picks one configured topic\'s dead-letter topic, and refuses another name', () => {
  const config = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['h:1'] }, topics: [{ name: 'orders', policy: 'lww' }, { name: 'carts', policy: 'lww', dlqTopic: 'carts-dead' }] }, { policies })
  assert.deepEqual(dlqTopicsOf(config, []), ['orders.dlq', 'carts-dead'])
  assert.deepEqual(dlqTopicsOf(config, ['carts']), ['carts-dead'])
  assert.throws(() => dlqTopicsOf(config, ['order']), (err: unknown) => err instanceof UsageError && err.message === '--topic must be one of the configured topics (orders, carts), got "order"')
})
