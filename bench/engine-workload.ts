import { encodeMsgpack } from '../src/codec/msgpack.ts'
import type { InBatch, InRecord } from '../src/model/record.ts'
import { prng } from '../lab/workload.ts'
import { H, suffixedKey } from '../src/wire/contract.ts'

/**
 * Batches as the consumer hands them over (Buffers for key, value and headers), for the engine benchmark:
 * writes by dc1 on `orders` and by dc2 on `dc2.orders` to entities drawn uniformly from `entities`, with
 * ~200-byte msgpack values and increasing timestamps (so most records change the merged state, the
 * expensive case). `timestamp` is also put in the value for the decoding variant, an integer `amount` and
 * an array `tags` for the policies that read a field.
 */
export function * batches (o: { entities: number, records: number, batchSize: number, seed: number, startTs: number }): Generator<InBatch> {
  const rand = prng(o.seed)
  let ts = o.startTs
  let offset = 0
  const pad = 'p'.repeat(120)
  for (let done = 0; done < o.records; done += o.batchSize) {
    const dc = (done / o.batchSize) % 2 === 0 ? 'dc1' : 'dc2'
    const records: InRecord[] = []
    const n = Math.min(o.batchSize, o.records - done)
    for (let i = 0; i < n; i++) {
      const entity = `order-${Math.floor(rand() * o.entities)}`
      ts += 1
      const eventId = `${ts.toString(16)}-${dc}-${offset}`
      records.push({
        offset: String(offset++),
        timestamp: String(ts),
        key: Buffer.from(suffixedKey(entity, dc)),
        value: encodeMsgpack({ id: entity, timestamp: ts, status: 'paid', amount: 4200 + (offset % 7), customer: 'c-1234', tags: [dc, 'paid'], pad }),
        headers: { [H.originDc]: Buffer.from(dc), [H.originTs]: Buffer.from(String(ts)), [H.eventId]: Buffer.from(eventId) }
      })
    }
    yield { topic: dc === 'dc1' ? 'orders' : 'dc2.orders', partition: 0, records }
  }
}
