import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaError } from '../../src/errors.ts'
import { createClient } from '../../src/kafka/client.ts'
import { connectProducer, LIMITED_RETRIES_WARNING } from '../../src/kafka/producer.ts'

// A refused broker, retried briefly: the producer is built (and kafkajs logs its warnings) before it connects.
const refused = { brokers: ['127.0.0.1:1'], clientId: 'concord-test', retries: 1, retryTimeMs: 10 }

describe('the producer\'s kafkajs log', () => {
  it('is where kafkajs warns of limited retries for an idempotent producer with the client\'s settings', () => {
    const messages: string[] = []
    createClient({ ...refused, onLog: (_level, message) => messages.push(message) }).producer({ idempotent: true })
    assert.ok(messages.includes(LIMITED_RETRIES_WARNING), `kafkajs logged: ${JSON.stringify(messages)}`)
  })

  it('leaves that warning out and passes kafkajs\' other lines on', async () => {
    const messages: string[] = []
    await assert.rejects(connectProducer({ ...refused, onLog: (_level, message) => messages.push(message) }), KafkaError)
    assert.ok(!messages.includes(LIMITED_RETRIES_WARNING), `kafkajs logged: ${JSON.stringify(messages)}`)
    assert.ok(messages.some(m => m.includes('ECONNREFUSED')), `the connection errors still reach the log: ${JSON.stringify(messages)}`)
  })
})
