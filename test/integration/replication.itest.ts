import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { connectProducer } from '../../src/kafka/producer.ts'
import { headerString } from '../../src/model/record.ts'
import { DC1, DC2, PARTITIONS } from './lab.ts'
import { readUntil } from '../../lab/read.ts'

const sides = [
  { from: 'dc1', source: DC1, to: 'dc2', target: DC2 },
  { from: 'dc2', source: DC2, to: 'dc1', target: DC1 }
] as const

describe('the lab replicates between datacenters with MirrorMaker 2', () => {
  for (const { from, source, to, target } of sides) {
    it(`carries key, binary value, headers and partition from ${from} orders to ${to} ${from}.orders`, async () => {
      const run = randomUUID()
      const sent = Array.from({ length: PARTITIONS * 2 }, (_, i) => ({
        topic: 'orders',
        partition: i % PARTITIONS,
        key: `${run}-${i}-${from}`,
        value: Buffer.concat([randomBytes(64), Buffer.from([0, 255, 0x80, 0])]),
        headers: { 'x-origin-dc': from, 'x-event-id': `${run}-${i}`, 'x-binary': Buffer.from([0, 1, 2, 254]) }
      }))
      const producer = await connectProducer({ brokers: [source], clientId: 'concord-test' })
      await producer.send(sent)
      await producer.close()

      const mine = <T extends { key: Buffer | null }>(records: readonly T[]): T[] => records.filter(r => r.key?.toString().startsWith(run) === true)
      const got = await readUntil(target, [`${from}.orders`], rs => mine(rs).length >= sent.length)
      for (const s of sent) {
        const r = mine(got).find(g => g.key?.toString() === s.key)
        assert.ok(r, `record ${s.key} arrived`)
        assert.equal(r.partition, s.partition, 'same partition')
        assert.deepEqual(r.value, s.value, 'same value bytes')
        assert.equal(headerString(r.headers, 'x-origin-dc'), from)
        assert.equal(headerString(r.headers, 'x-event-id'), s.headers['x-event-id'])
        assert.deepEqual(r.headers['x-binary'], Buffer.from([0, 1, 2, 254]))
      }
    })
  }

  it('delivers each record exactly once per cluster, with no loop and no dc1.dc2.* topic', async () => {
    const run = randomUUID()
    const p1 = await connectProducer({ brokers: [DC1], clientId: 'concord-test' })
    const p2 = await connectProducer({ brokers: [DC2], clientId: 'concord-test' })
    await p1.send([{ topic: 'orders', key: `${run}-a-dc1`, value: 'a' }])
    await p2.send([{ topic: 'orders', key: `${run}-b-dc2`, value: 'b' }])
    await Promise.all([p1.close(), p2.close()])

    // MM2 polls topics every 2 s in the lab; 8 s covers several rounds in which a loop would show.
    const count = (rs: readonly { key: Buffer | null }[]) => rs.filter(r => r.key?.toString().startsWith(run) === true).length
    const expected = [
      { brokers: DC1, topics: ['orders', 'dc2.orders'], keys: [`dc2.orders/${run}-b-dc2`, `orders/${run}-a-dc1`] },
      { brokers: DC2, topics: ['orders', 'dc1.orders'], keys: [`dc1.orders/${run}-a-dc1`, `orders/${run}-b-dc2`] }
    ]
    for (const { brokers, topics, keys } of expected) {
      const got = await readUntil(brokers, topics, rs => count(rs) >= 2, { settleMs: 8_000 })
      const seen = got.filter(r => r.key?.toString().startsWith(run) === true).map(r => `${r.topic}/${r.key?.toString()}`).sort()
      assert.deepEqual(seen, keys, `each record exactly once in ${brokers}`)
    }
    for (const brokers of [DC1, DC2]) {
      const admin = await connectAdmin({ brokers: [brokers], clientId: 'concord-test' })
      const topics = await admin.listTopics()
      await admin.close()
      assert.deepEqual(topics.filter(t => /^dc\d\.dc\d\./.test(t)), [], `no multi-hop remote topics in ${brokers}`)
      assert.deepEqual(topics.filter(t => /\.(merged|dlq|conflicts)$/.test(t) && /^dc\d\./.test(t)), [], 'no replicated outputs')
    }
  })
})
