import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { decodeMsgpack } from '../../src/codec/msgpack.ts'
import { ClockError, ConfigError, KafkaError, WriterError } from '../../src/errors.ts'
import type { KafkaProducer } from '../../src/kafka/producer.ts'
import { headerString, type OutRecord } from '../../src/model/record.ts'
import { openWriter } from '../../src/sdk/writer.ts'
import type { WriterOptions } from '../../src/sdk/writer-options.ts'
import { entityPartition } from '../../src/wire/partitioner.ts'

const dir = mkdtempSync(join(tmpdir(), 'concord-writer-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A producer that records each request and acknowledges it when the test says so (or at once). */
function fakeProducer (autoAck = true): KafkaProducer & { requests: OutRecord[][], ack: (err?: Error) => void, closed: boolean } {
  const waiting: Array<{ resolve: () => void, reject: (e: Error) => void }> = []
  const p = {
    requests: [] as OutRecord[][],
    closed: false,
    async send (records: readonly OutRecord[]) {
      p.requests.push([...records])
      if (autoAck) return
      await new Promise<void>((resolve, reject) => { waiting.push({ resolve, reject }) })
    },
    ack (err?: Error) {
      const w = waiting.shift()
      assert.ok(w, 'a request is in flight')
      if (err === undefined) w.resolve()
      else w.reject(err)
    },
    async close () { p.closed = true }
  }
  return p
}

let fileNo = 0
const base = (over: Partial<WriterOptions> = {}): WriterOptions => ({
  dc: 'dc1',
  brokers: ['127.0.0.1:9092'],
  topics: { orders: { codec: 'msgpack' }, docs: { codec: 'json' }, blobs: { codec: 'raw' }, stock: { counter: { field: 'qty', writerField: 'writer' } }, tags: { set: { field: 'tags', writerField: 'writer' } } },
  // A fresh clock file keeps the tests from waiting out the maximum offset at start.
  clockFile: join(dir, `clock-${fileNo++}`),
  ...over
})
const partitionCounts = new Map([['orders', 6], ['docs', 3], ['blobs', 3], ['stock', 3], ['tags', 3]])
const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

describe('the writer', () => {
  it('writes the wire contract: suffixed key, origin headers, HLC timestamp, UUIDv7 event id, partition by entity id', async () => {
    const producer = fakeProducer()
    const writer = await openWriter(base(), { producer, partitionCounts })
    const receipt = await writer.put('orders', 'order-42', { status: 'paid' })
    const [record] = producer.requests[0]!
    assert.equal(record!.key, 'order-42-dc1')
    assert.equal(record!.partition, entityPartition('order-42', 6))
    assert.deepEqual(decodeMsgpack(record!.value as Buffer), { status: 'paid' })
    assert.equal(headerString(record!.headers!, 'x-origin-dc'), 'dc1')
    assert.match(headerString(record!.headers!, 'x-origin-ts')!, /^\d{13}(:\d+)?$/)
    const eventId = headerString(record!.headers!, 'x-event-id')!
    assert.match(eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepEqual(receipt, { topic: 'orders', partition: record!.partition, key: 'order-42-dc1', originTs: headerString(record!.headers!, 'x-origin-ts'), eventId })
    const deleted = await writer.delete('orders', 'order-42')
    assert.equal(producer.requests[1]![0]!.value, null)
    assert.ok(deleted.originTs > receipt.originTs || deleted.originTs.length > receipt.originTs.length)
    await writer.close()
    assert.ok(producer.closed)
  })

  it('gives the writes of one DC and entity the same partition in every DC, whatever the key suffix', async () => {
    for (const dc of ['dc1', 'dc2', 'dc3']) {
      const producer = fakeProducer()
      const writer = await openWriter(base({ dc }), { producer, partitionCounts })
      await writer.put('orders', 'order-7', { a: 1 })
      assert.equal(producer.requests[0]![0]!.partition, entityPartition('order-7', 6))
      await writer.close()
    }
  })

  it('stamps every write later than the one before, and event ids in the same order', async () => {
    const producer = fakeProducer()
    const pt = 1_800_000_000_000
    const writer = await openWriter(base({ physicalClock: () => pt }), { producer, partitionCounts })
    const receipts = await Promise.all(Array.from({ length: 5 }, (_, i) => writer.put('orders', `e${i}`, i)))
    assert.deepEqual(receipts.map(r => r.originTs), [`${pt}`, `${pt}:1`, `${pt}:2`, `${pt}:3`, `${pt}:4`])
    const ids = receipts.map(r => r.eventId)
    assert.deepEqual([...ids].sort(), ids)
    await writer.close()
  })

  it('sends the calls of one tick in one request, and the calls made while it is in flight in the next', async () => {
    const producer = fakeProducer(false)
    const writer = await openWriter(base(), { producer, partitionCounts })
    const first = Array.from({ length: 50 }, (_, i) => writer.put('orders', `e${i}`, i))
    await tick()
    assert.equal(producer.requests.length, 1)
    assert.equal(producer.requests[0]!.length, 50)
    const second = Array.from({ length: 30 }, (_, i) => writer.put('orders', `f${i}`, i))
    await tick()
    assert.equal(producer.requests.length, 1, 'one request in flight at a time')
    let settled = false
    const all = Promise.all(first).then(() => { settled = true })
    await tick()
    assert.equal(settled, false, 'a write resolves only once the broker acknowledged it')
    producer.ack()
    await all
    assert.ok(settled)
    await tick()
    assert.equal(producer.requests.length, 2)
    assert.equal(producer.requests[1]!.length, 30)
    producer.ack()
    await Promise.all(second)
    await writer.close()
  })

  it('rejects every call of a failed request with a retriable KafkaError, and keeps working after it', async () => {
    const producer = fakeProducer(false)
    const writer = await openWriter(base(), { producer, partitionCounts })
    const calls = [writer.put('orders', 'a', 1), writer.put('orders', 'b', 2)]
    await tick()
    producer.ack(new Error('broker went away'))
    for (const c of calls) await assert.rejects(c, (err: unknown) => err instanceof KafkaError && err.retriable && /not acknowledged by dc1's brokers: broker went away/.test(err.message))
    const next = writer.put('orders', 'c', 3)
    await tick()
    producer.ack()
    await next
    await writer.close()
  })

  it('sends what is queued when closed, then refuses every call by name', async () => {
    const producer = fakeProducer(false)
    const writer = await openWriter(base(), { producer, partitionCounts })
    const pending = writer.put('orders', 'a', 1)
    await tick()
    const closing = writer.close()
    await assert.rejects(writer.put('orders', 'b', 2), (err: unknown) => err instanceof WriterError && /the dc1 writer is closed: cannot write/.test(err.message))
    await assert.rejects(writer.increment('stock', 'sku', 1), /closed: cannot increment/)
    assert.equal(producer.closed, false, 'close waits for the acknowledgement')
    producer.ack()
    await pending
    await closing
    assert.ok(producer.closed)
  })

  it('refuses bad writes with errors that name the problem, and sends nothing of a refused batch', async () => {
    const producer = fakeProducer()
    const writer = await openWriter(base({ maxRecordBytes: 200 }), { producer, partitionCounts })
    await assert.rejects(writer.put('payments', 'a', 1), /unknown topic "payments": this writer writes "orders", "docs", "blobs", "stock", "tags"/)
    await assert.rejects(writer.put('dc2.orders', 'a', 1), /unknown topic "dc2.orders"/)
    await assert.rejects(writer.put('orders', '', 1), /entity id of a write to "orders" must be a non-empty string, got ""/)
    await assert.rejects(writer.put('orders', 'a', null), /has no value \(null\); use delete/)
    await assert.rejects(writer.put('blobs', 'a', 'text'), /codec raw: the value of "a" must be a Buffer, got a string/)
    await assert.rejects(writer.put('orders', 'a', 'x'.repeat(300)), (err: unknown) => err instanceof WriterError && /is \d+ bytes with its key and headers, over the limit of 200 \("maxRecordBytes"/.test(err.message))
    await assert.rejects(writer.put('stock', 'a', { qty: 1 }), /"stock" is a counter topic: use increment/)
    await assert.rejects(writer.delete('stock', 'a'), /cannot reset the totals of the DC's other writers/)
    await assert.rejects(writer.write([{ op: 'put', topic: 'orders', entityId: 'ok', value: 1 }, { op: 'put', topic: 'orders', entityId: 'bad', value: undefined }]), /has no value/)
    await assert.rejects(writer.write([{ op: 'upsert', topic: 'orders', entityId: 'x' } as never]), /op 'put' or 'delete', got "upsert"/)
    assert.equal(producer.requests.length, 0)
    const receipts = await writer.write([{ op: 'put', topic: 'docs', entityId: 'd', value: { n: 1n } }, { op: 'delete', topic: 'orders', entityId: 'o' }])
    assert.equal(receipts.length, 2)
    assert.equal(producer.requests.length, 1)
    assert.equal(producer.requests[0]![0]!.value!.toString(), '{"n":1}')
    await writer.close()
  })

  it('checks its options at once, naming each bad key and what it expects', async () => {
    const producer = fakeProducer()
    await assert.rejects(openWriter({ dc: 'dc 1', brokers: [], topics: { 'dc2.orders': { codec: 'xml' } }, maxOffsetMs: 0, lingerMs: 5 } as never, { producer, partitionCounts }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems, [
        'writer: "lingerMs" is not a writer option (options: dc, brokers, topics, clientId, keySeparator, maxOffsetMs, clockFile, maxRecordBytes, compression, tls, sasl, retries, physicalClock)',
        'writer: "dc" must be a DC id of 1 to 64 letters, digits and _, got "dc 1"',
        'writer: "brokers" must be a non-empty list of host:port, got []',
        'writer: "topics.dc2.orders": a writer writes its DC\'s own topics, named with letters, digits, _ and - (no dots: a dotted name is a remote copy), got "dc2.orders"',
        'writer: "topics.dc2.orders".codec must be one of msgpack, json, raw, got "xml"',
        'writer: "maxOffsetMs" must be a positive integer of milliseconds, got 0'
      ])
      return true
    })
    await assert.rejects(openWriter(base({ topics: { orders: {}, payments: {} } }), { producer, partitionCounts }),
      /topic "payments" does not exist on dc1's brokers \(127.0.0.1:9092\); create it first, with the same partition count in every DC/)
  })

  it('refuses to stamp while its physical clock is further behind its own time than the maximum offset', async () => {
    const producer = fakeProducer()
    let pt = 1_800_000_000_000
    const writer = await openWriter(base({ physicalClock: () => pt, maxOffsetMs: 500 }), { producer, partitionCounts })
    await writer.put('orders', 'a', 1)
    pt -= 2_000
    await assert.rejects(writer.put('orders', 'a', 2), (err: unknown) => err instanceof ClockError && /dc1 writer refuses to stamp a write to "orders": .* 2000 ms ahead of the physical clock/.test(err.message))
    pt += 1_600
    await writer.put('orders', 'a', 3)
    assert.equal(producer.requests.length, 2)
    await writer.close()
  })

  it('keeps its clock across restarts in the clock file, and refuses a file further ahead than the bound', async () => {
    const clockFile = join(dir, 'restart')
    let pt = 1_800_000_000_000
    const first = await openWriter(base({ clockFile, physicalClock: () => pt }), { producer: fakeProducer(), partitionCounts })
    await first.put('orders', 'a', 1)
    await first.put('orders', 'a', 2)
    await first.close()
    assert.equal(readFileSync(clockFile, 'utf8'), `${pt}:1\n`)
    const second = await openWriter(base({ clockFile, physicalClock: () => pt }), { producer: fakeProducer(), partitionCounts })
    assert.equal((await second.put('orders', 'a', 3)).originTs, `${pt}:2`)
    await second.close()
    pt -= 10_000
    await assert.rejects(openWriter(base({ clockFile, physicalClock: () => pt }), { producer: fakeProducer(), partitionCounts }),
      (err: unknown) => err instanceof ClockError && /dc1 writer cannot start \(clock file ".*restart"\): the high-water mark of an earlier run .* 10000 ms ahead/.test(err.message))
    writeFileSync(clockFile, 'soon\n')
    await assert.rejects(openWriter(base({ clockFile }), { producer: fakeProducer(), partitionCounts }), /clock file ".*restart" does not hold a clock time/)
  })

  it('waits out the maximum offset at start when it has no clock file', async () => {
    const { clockFile: _none, ...withoutFile } = base()
    const started = Date.now()
    const writer = await openWriter({ ...withoutFile, maxOffsetMs: 150 }, { producer: fakeProducer(), partitionCounts })
    assert.ok(Date.now() - started >= 140)
    await writer.close()
  })
})

describe('the writer\'s counter', () => {
  const total = (r: OutRecord): unknown => decodeMsgpack(r.value as Buffer)

  it('publishes its own running total under its writer id, computed when the request goes out', async () => {
    const producer = fakeProducer()
    const writer = await openWriter(base(), { producer, partitionCounts })
    await writer.increment('stock', 'sku-1', 5)
    await Promise.all([writer.increment('stock', 'sku-1', 2), writer.increment('stock', 'sku-1', -1), writer.increment('stock', 'sku-2', 4)])
    assert.deepEqual(producer.requests.flat().map(total), [
      { qty: 5, writer: writer.writerId }, { qty: 7, writer: writer.writerId }, { qty: 6, writer: writer.writerId }, { qty: 4, writer: writer.writerId }
    ])
    await writer.close()
  })

  it('leaves a refused increment out of every later total', async () => {
    const producer = fakeProducer(false)
    const writer = await openWriter(base(), { producer, partitionCounts })
    const refused = writer.increment('stock', 'sku', 10)
    await tick()
    const queued = writer.increment('stock', 'sku', 1)
    producer.ack(new Error('timeout'))
    await assert.rejects(refused, KafkaError)
    await tick()
    producer.ack()
    await queued
    assert.deepEqual(producer.requests.map(r => r.map(total)), [[{ qty: 10, writer: writer.writerId }], [{ qty: 1, writer: writer.writerId }]])
    await writer.close()
  })

  it('gives two writers of one DC different writer ids, and refuses increment where the topic has no writer field', async () => {
    const a = await openWriter(base(), { producer: fakeProducer(), partitionCounts })
    const b = await openWriter(base(), { producer: fakeProducer(), partitionCounts })
    assert.notEqual(a.writerId, b.writerId)
    await assert.rejects(a.increment('orders', 'x', 1), /increment needs "topics.orders.counter"/)
    await assert.rejects(a.increment('stock', 'x', 1.5), /must be by a safe integer, got 1.5/)
    await a.close()
    await b.close()
  })
})

describe('the writer\'s set', () => {
  const setOf = (r: OutRecord): unknown => decodeMsgpack(r.value as Buffer)

  it('publishes its own set under its writer id: adds once, removes what it holds', async () => {
    const producer = fakeProducer()
    const writer = await openWriter(base(), { producer, partitionCounts })
    await writer.add('tags', 'doc-1', 'red', 'blue')
    await Promise.all([writer.add('tags', 'doc-1', 'red', 'green'), writer.remove('tags', 'doc-1', 'blue', 'pink'), writer.add('tags', 'doc-2', { k: 1 })])
    const w = writer.writerId
    assert.deepEqual(producer.requests.flat().map(setOf), [
      { tags: ['red', 'blue'], writer: w }, { tags: ['red', 'blue', 'green'], writer: w }, { tags: ['red', 'green'], writer: w }, { tags: [{ k: 1 }], writer: w }
    ])
    await writer.close()
  })

  it('takes back the adds and removes of a refused request', async () => {
    const producer = fakeProducer(false)
    const writer = await openWriter(base(), { producer, partitionCounts })
    const first = writer.add('tags', 'doc', 'a')
    await tick()
    producer.ack()
    await first
    const refused = [writer.add('tags', 'doc', 'b'), writer.remove('tags', 'doc', 'a')]
    await tick()
    producer.ack(new Error('timeout'))
    for (const r of refused) await assert.rejects(r, KafkaError)
    const next = writer.add('tags', 'doc', 'c')
    await tick()
    producer.ack()
    await next
    assert.deepEqual(producer.requests.map(r => r.map(setOf)), [
      [{ tags: ['a'], writer: writer.writerId }],
      [{ tags: ['a', 'b'], writer: writer.writerId }, { tags: ['b'], writer: writer.writerId }],
      [{ tags: ['a', 'c'], writer: writer.writerId }]
    ])
    await writer.close()
  })

  it('refuses add on a topic without a set, and put or delete on a set topic', async () => {
    const writer = await openWriter(base(), { producer: fakeProducer(), partitionCounts })
    await assert.rejects(writer.add('orders', 'x', 'a'), /add needs "topics.orders.set" \({ field, writerField }, as the topic's union policy has them\)/)
    await assert.rejects(writer.increment('tags', 'x', 1), /increment needs "topics.tags.counter"/)
    await assert.rejects(writer.put('tags', 'x', { tags: [] }), /"tags" is a set topic: use add and remove/)
    await assert.rejects(writer.delete('tags', 'x'), /cannot reset the sets of the DC's other writers; remove the elements/)
    await writer.close()
  })

  it('refuses a topic with both a counter and a set', async () => {
    await assert.rejects(openWriter(base({ topics: { t: { counter: { field: 'q', writerField: 'w' }, set: { field: 's', writerField: 'w' } } } }), { producer: fakeProducer(), partitionCounts: new Map([['t', 1]]) }),
      /"topics.t" has both counter and set: a topic has one policy/)
  })
})
