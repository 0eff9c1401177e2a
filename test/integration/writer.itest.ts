import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import type { ConcordProcess } from '../../lab/concord-process.ts'
import { ensureJars } from '../../lab/jars.ts'
import { lastByKey, readUntil, type ReadRecord } from '../../lab/read.ts'
import { receiptWinners, type Receipted } from '../../lab/receipt-oracle.ts'
import { createTopicPair, startDc } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { decodeMsgpack } from '../../src/codec/msgpack.ts'
import { ConfigError, KafkaError, WriterError } from '../../src/errors.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { headerString } from '../../src/model/record.ts'
import { createWriter, type Writer } from '../../src/sdk/writer.ts'
import { entityPartition } from '../../src/wire/partitioner.ts'
import { H } from '../../src/wire/contract.ts'

/**
 * The writer SDK on the real lab:
 * - its partitioner against Java's producer (the default partitioner on the entity id, and the README's
 *   formula for a suffixed key) and librdkafka's murmur2_random, on a topic of 7 partitions;
 * - puts and deletes from a writer in each DC to the same entities, merged by concord in both DCs into
 *   the state an oracle computes from the writers' receipts;
 * - a counter incremented concurrently by two writer processes in dc1 (this one and a child) and a writer in
 *   dc2, whose merged total in both DCs is the sum of the increments the brokers acknowledged; without the
 *   writer field, the two dc1 writers would replace each other's totals;
 * - its errors against real brokers.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const run = Date.now().toString(36)
const PYTHON = '/usr/bin/python3'
const PARTITIONER = fileURLToPath(new URL('java/Partitioner.java', import.meta.url))
const LOG4J = new URL('java/log4j.properties', import.meta.url).href
const COUNTER_WRITER = fileURLToPath(new URL('fixtures/counter-writer.ts', import.meta.url))
const execFileAsync = promisify(execFile)

/** Entity ids of several lengths (every murmur2 tail length), scripts and the key separator. */
const ENTITIES = [
  ...Array.from({ length: 150 }, (_, i) => `order-${i}`),
  'a', 'ab', 'abc', 'abcd', 'é', 'ü-42', '注文-7', '🦀-crab', 'with-dash-in-it', 'x'.repeat(300)
]

describe('the writer\'s partitioner agrees with Java and librdkafka', () => {
  const topic = `it-partitioner-${run}`
  const PARTITIONS = 7
  before(async () => {
    const admin = await connectAdmin({ brokers: [dc1.bootstrap], clientId: 'concord-test' })
    try {
      await admin.createTopics([{ topic, partitions: PARTITIONS }])
    } finally {
      await admin.close()
    }
  })

  it('gives every entity the partition that Java\'s default partitioner gives its id, as does the README\'s Java formula', () => {
    const libs = ensureJars(settings, line => { console.log(`lab: ${line}`) })
    const input = ENTITIES.map(e => Buffer.from(e, 'utf8').toString('base64')).join('\n') + '\n'
    const java = spawnSync('java', ['-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=${LOG4J}`, '-cp', join(libs, '*'), PARTITIONER, dc1.bootstrap, topic, String(PARTITIONS)],
      { input, encoding: 'utf8', timeout: 120_000 })
    assert.equal(java.status, 0, `java Partitioner.java failed: ${java.error?.message ?? java.stderr}`)
    const lines = java.stdout.trim().split('\n').map(l => l.split('\t'))
    assert.equal(lines.length, ENTITIES.length)
    const wrong = lines.flatMap(([b64, byDefault, byFormula]) => {
      const entity = Buffer.from(b64!, 'base64').toString('utf8')
      const ours = entityPartition(entity, PARTITIONS)
      return ours === Number(byDefault) && ours === Number(byFormula) ? [] : [`${entity}: ours ${ours}, Java default ${byDefault}, formula ${byFormula}`]
    })
    assert.deepEqual(wrong, [])
    // Not all in one partition: the check would pass for a constant partitioner otherwise.
    assert.ok(new Set(lines.map(l => l[1])).size === PARTITIONS)
  })

  it('gives every entity the partition that librdkafka\'s murmur2_random partitioner gives its id', () => {
    const script = `
import sys
from confluent_kafka import Producer
got = {}
p = Producer({'bootstrap.servers': sys.argv[1], 'partitioner': 'murmur2_random'})
for e in sys.stdin.read().splitlines():
    p.produce(sys.argv[2], key=e.encode(), value=b'probe', on_delivery=lambda err, m: got.__setitem__(m.key().decode(), m.partition()))
assert p.flush(30) == 0
for e, part in got.items():
    print(e.encode().hex() + '\\t' + str(part))
`
    const py = spawnSync(PYTHON, ['-c', script, dc1.bootstrap, topic], { input: ENTITIES.join('\n'), encoding: 'utf8', timeout: 60_000 })
    assert.equal(py.status, 0, `confluent_kafka failed (${'apt-get install -y python3-confluent-kafka'}): ${py.error?.message ?? py.stderr}`)
    const got = new Map(py.stdout.trim().split('\n').map(l => l.split('\t')).map(([hex, p]) => [Buffer.from(hex!, 'hex').toString('utf8'), Number(p)]))
    assert.equal(got.size, ENTITIES.length)
    assert.deepEqual(ENTITIES.filter(e => got.get(e) !== entityPartition(e, PARTITIONS)), [])
  })
})

describe('writers in both DCs, merged by concord', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-writer-'))
  const topic = `it-writer-${run}`
  const stock = `it-writer-stock-${run}`
  const labels = `it-writer-labels-${run}`
  const counter = { field: 'qty', writerField: 'writer' }
  const set = { field: 'tags', writerField: 'writer' }
  /** Per entity, per writer, the set its acknowledged adds and removes leave (each writer's calls in order). */
  const sets = new Map<string, Map<string, Set<string>>>()
  let procs: ConcordProcess[] = []
  const writers: Writer[] = []
  const receipted: Receipted[] = []
  /** Acknowledged increments per entity. */
  const acknowledged = new Map<string, number>()
  let merged: Array<Map<string, ReadRecord>> = []
  const oracle = (): Map<string, Receipted> => receiptWinners(receipted)

  before(async () => {
    await createTopicPair(settings, topic)
    await createTopicPair(settings, stock)
    await createTopicPair(settings, labels)
    const open = (dc: typeof dc1, name: string): Promise<Writer> => createWriter({
      dc: dc.id,
      brokers: [dc.bootstrap],
      topics: { [topic]: { codec: 'msgpack' }, [stock]: { codec: 'msgpack', counter }, [labels]: { codec: 'msgpack', set } },
      clockFile: join(work, `${name}.clock`)
    })
    writers.push(await open(dc1, 'a'), await open(dc2, 'c'), await open(dc1, 'a2'))
    const [a, c, a2] = writers as [Writer, Writer, Writer]
    // dc1's second counter writer is a process of its own, incrementing the same entities at the same time.
    const second = execFileAsync(process.execPath, [COUNTER_WRITER, dc1.bootstrap, dc1.id, stock, '60', join(work, 'dc1-second.clock')], { timeout: 120_000 })
    // Conflicting versions of 40 entities from both DCs, some deleted, written concurrently in small batches.
    const calls: Array<Promise<void>> = []
    for (let round = 0; round < 5; round++) {
      for (const [w, dc] of [[a, dc1.id], [c, dc2.id]] as const) {
        for (let e = 0; e < 40; e++) {
          const entity = `order-${e}`
          const del = (e + round) % 7 === 0
          const value = del ? null : { id: entity, by: dc, round }
          calls.push((del ? w.delete(topic, entity) : w.put(topic, entity, value)).then(receipt => { receipted.push({ entity, dc, value, receipt }) }))
        }
      }
    }
    // Increments of the same entities from two writers of dc1 and one of dc2, all at once.
    for (let i = 0; i < 60; i++) {
      for (const [w, by] of [[a, 1], [c, -1]] as const) {
        const entity = `sku-${i % 6}`
        calls.push(w.increment(stock, entity, by * (i % 4 + 1)).then(() => { acknowledged.set(entity, (acknowledged.get(entity) ?? 0) + by * (i % 4 + 1)) }))
      }
    }
    // Tags of the same entities added and removed by two writers of dc1 and one of dc2, all at once.
    for (const [w, name] of [[a, 'a'], [a2, 'a2'], [c, 'c']] as const) {
      for (let i = 0; i < 30; i++) {
        const entity = `doc-${i % 5}`
        const tag = `${name}-${String(i % 7).padStart(2, '0')}`
        const remove = i % 4 === 3
        let mine = sets.get(entity)?.get(name)
        if (mine === undefined) sets.set(entity, (sets.get(entity) ?? new Map()).set(name, mine = new Set()))
        const held = mine
        calls.push((remove ? w.remove(labels, entity, tag) : w.add(labels, entity, tag)).then(() => { if (remove) held.delete(tag); else held.add(tag) }))
      }
    }
    await Promise.all(calls)
    for (const [entity, n] of Object.entries(JSON.parse((await second).stdout) as Record<string, number>)) acknowledged.set(entity, (acknowledged.get(entity) ?? 0) + n)
    const topics = [{ name: topic, policy: 'lww' }, { name: stock, policy: { type: 'counter', ...counter } }, { name: labels, policy: { type: 'union', ...set } }]
    procs = await Promise.all([startDc(settings, 0, topics, work), startDc(settings, 1, topics, work)])
    const outputs = [`${topic}.merged`, `${stock}.merged`, `${labels}.merged`]
    const done = (rs: readonly ReadRecord[]): boolean => {
      const last = lastByKey(rs)
      const tagsDone = [...sets].every(([e, byWriter]) => {
        const r = last.get(e)
        const want = new Set([...byWriter.values()].flatMap(x => [...x]))
        const got = r?.value == null ? [] : (decodeMsgpack(r.value) as { tags: string[] }).tags
        return got.length === want.size && got.every(t => want.has(t))
      })
      return tagsDone && [...oracle()].every(([k]) => last.has(k)) && [...acknowledged].every(([e, n]) => {
        const r = last.get(`${e}`)
        return r !== undefined && r.value !== null && (decodeMsgpack(r.value) as { qty: number }).qty === n
      })
    }
    merged = await Promise.all([dc1, dc2].map(async dc =>
      lastByKey(await readUntil(dc.bootstrap, outputs, done, { timeoutMs: 60_000, settleMs: 2_000, orWhatIsThere: true }))))
  })
  after(async () => {
    await Promise.all(writers.map(w => w.close()))
    await Promise.all(procs.map(p => p.stop()))
    rmSync(work, { recursive: true, force: true })
  })

  it('wrote every record with the DC-suffixed key, the origin headers and the partition of its receipt', async () => {
    const mine = (rs: readonly ReadRecord[]): ReadRecord[] => rs.filter(r => r.topic === topic)
    const records = mine(await readUntil(dc1.bootstrap, [topic], rs => mine(rs).length >= receipted.filter(r => r.dc === 'dc1').length))
    const byEvent = new Map(receipted.map(r => [r.receipt.eventId, r]))
    const wrong = records.flatMap(rec => {
      const r = byEvent.get(headerString(rec.headers, H.eventId) ?? '')
      if (r === undefined) return [`record at ${rec.partition}/${rec.offset} matches no receipt`]
      const ok = rec.key?.toString() === `${r.entity}-dc1` && rec.partition === r.receipt.partition &&
        rec.partition === entityPartition(r.entity, settings.partitions) &&
        headerString(rec.headers, H.originDc) === 'dc1' && headerString(rec.headers, H.originTs) === r.receipt.originTs
      return ok ? [] : [`${r.entity}: key ${rec.key?.toString()}, partition ${rec.partition}`]
    })
    assert.deepEqual(wrong, [])
  })

  it('merges to the receipts\' winners in dc1 and dc2', () => {
    const expected = [...oracle()].map(([entity, r]) => `${entity} ${r.value === null ? 'deleted' : JSON.stringify(r.value)} ${r.receipt.eventId}`).sort()
    for (const [i, m] of merged.entries()) {
      const got = [...oracle().keys()].map(entity => {
        const rec = m.get(entity)
        if (rec === undefined) return `${entity} missing`
        return `${entity} ${rec.value === null ? 'deleted' : JSON.stringify(decodeMsgpack(rec.value))} ${headerString(rec.headers, H.eventId)}`
      }).sort()
      assert.deepEqual(got, expected, settings.dcs[i]!.id)
    }
  })

  it('counts every acknowledged increment of two concurrent writer processes in one DC and one in the other, in both DCs', () => {
    const expected = Object.fromEntries([...acknowledged].sort())
    for (const [i, m] of merged.entries()) {
      const got = Object.fromEntries([...acknowledged.keys()].sort().map(e => [e, (decodeMsgpack(m.get(e)?.value ?? Buffer.from([0xc0])) as { qty?: number } | null)?.qty]))
      assert.deepEqual(got, expected, settings.dcs[i]!.id)
    }
  })

  it('unites the sets of two concurrent writers in one DC and one in the other, in both DCs', () => {
    const expected = Object.fromEntries([...sets].sort().map(([e, byWriter]) => [e, [...new Set([...byWriter.values()].flatMap(x => [...x]))].sort()]))
    for (const [i, m] of merged.entries()) {
      const got = Object.fromEntries([...sets.keys()].sort().map(e => [e, [...((decodeMsgpack(m.get(e)?.value ?? Buffer.from([0xc0])) as { tags?: string[] } | null)?.tags ?? [])].sort()]))
      assert.deepEqual(got, expected, settings.dcs[i]!.id)
    }
  })
})

describe('the writer against real brokers', () => {
  it('refuses a topic that does not exist, by name', async () => {
    await assert.rejects(createWriter({ dc: 'dc1', brokers: [dc1.bootstrap], topics: { [`it-missing-${run}`]: {} }, maxOffsetMs: 1 }),
      (err: unknown) => err instanceof WriterError && new RegExp(`topic "it-missing-${run}" does not exist on dc1's brokers`).test(err.message))
  })

  it('fails to connect to brokers that are not there with a retriable KafkaError naming them', async () => {
    await assert.rejects(createWriter({ dc: 'dc1', brokers: ['127.0.0.1:1'], topics: { orders: {} }, retries: 0, maxOffsetMs: 1 }),
      (err: unknown) => err instanceof KafkaError && err.retriable && /127\.0\.0\.1:1/.test(err.message))
  })

  it('refuses bad options before it connects', async () => {
    await assert.rejects(createWriter({ dc: 'dc1', brokers: [dc1.bootstrap], topics: {} }), ConfigError)
  })

  it('refuses a value over the size limit without sending it, and writes one under it', async () => {
    const writer = await createWriter({ dc: 'dc1', brokers: [dc1.bootstrap], topics: { orders: { codec: 'raw' } }, maxOffsetMs: 1 })
    try {
      await assert.rejects(writer.put('orders', `${run}-big`, Buffer.alloc(1_000_001)), /over the limit of 1000000 \("maxRecordBytes"/)
      const r = await writer.put('orders', `${run}-fits`, Buffer.alloc(900_000))
      assert.equal(r.key, `${run}-fits-dc1`)
    } finally {
      await writer.close()
    }
  })
})
