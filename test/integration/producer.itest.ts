import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { connectProducer } from '../../src/kafka/producer.ts'
import { readUntil } from '../../lab/read.ts'
import { DC1 } from './lab.ts'

it('one send of 4 MB to one partition (over Kafka\'s 1 MiB batch limit) arrives whole and in order', async () => {
  const topic = `producer-${randomUUID()}`
  const admin = await connectAdmin({ brokers: [DC1], clientId: 'concord-test' })
  await admin.createTopics([{ topic, partitions: 1 }])
  await admin.close()
  const sent = Array.from({ length: 4_000 }, (_, i) => ({ topic, partition: 0, key: `k-${i}`, value: Buffer.alloc(1_000, i % 251) }))
  const producer = await connectProducer({ brokers: [DC1], clientId: 'concord-test' })
  try {
    await producer.send(sent)
  } finally {
    await producer.close()
  }
  const got = await readUntil(DC1, [topic], rs => rs.length >= sent.length, { settleMs: 500 })
  assert.equal(got.length, sent.length)
  got.forEach((r, i) => {
    assert.equal(r.key?.toString(), `k-${i}`)
    assert.deepEqual(r.value, sent[i]!.value)
  })
})
