import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import type { OutRecord } from '../../src/model/record.ts'
import { recordBytes, requestChunks } from '../../src/kafka/request-chunks.ts'

const record = (i: number, valueBytes: number): OutRecord => ({
  topic: 'orders.merged',
  partition: i % 3,
  key: `order-${i}`,
  value: Buffer.alloc(valueBytes, 1),
  headers: { 'x-origin-dc': 'dc1', 'x-origin-ts': '1732530000123', 'x-event-id': `e-${i}` }
})

it('estimates a record at no less than its key, value and header bytes', () => {
  const r = record(7, 200)
  const raw = 'order-7'.length + 200 + 'x-origin-dc'.length + 3 + 'x-origin-ts'.length + 13 + 'x-event-id'.length + 3
  assert.ok(recordBytes(r) > raw)
  assert.equal(recordBytes({ topic: 't', key: null, value: null }), recordBytes({ topic: 't', key: '', value: '' }))
  assert.ok(recordBytes({ topic: 't', key: 'k', value: 'é' }) > recordBytes({ topic: 't', key: 'k', value: 'e' }), 'strings count in UTF-8 bytes')
})

it('keeps every record, in order, in runs under the budget (a record over it alone)', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 200 }),
    fc.integer({ min: 100, max: 20_000 }),
    (sizes, budget) => {
      const records = sizes.map((n, i) => record(i, n))
      const chunks = requestChunks(records, budget)
      assert.deepEqual(chunks.flat(), records)
      for (const chunk of chunks) {
        assert.ok(chunk.length > 0)
        const bytes = chunk.reduce((s, r) => s + recordBytes(r), 0)
        assert.ok(bytes <= budget || chunk.length === 1, `a run of ${chunk.length} records holds ${bytes} > ${budget} bytes`)
      }
      // Runs are as long as the budget allows: the next run's first record did not fit.
      for (let k = 0; k + 1 < chunks.length; k++) {
        const bytes = chunks[k]!.reduce((s, r) => s + recordBytes(r), 0)
        assert.ok(bytes + recordBytes(chunks[k + 1]![0]!) > budget)
      }
    }
  ))
})

it('sends 10,000 output records of ~250 bytes (2.5 MB) in several requests by default', () => {
  const chunks = requestChunks(Array.from({ length: 10_000 }, (_, i) => record(i, 200)))
  assert.ok(chunks.length >= 3, `${chunks.length} requests`)
})
