import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { connectProducer } from '../../src/kafka/producer.ts'
import { headerValues, type HeaderValue, type OutRecord, type RecordHeaders } from '../../src/model/record.ts'
import { ensureJars } from '../../lab/jars.ts'
import { readUntil } from '../../lab/read.ts'
import { labSettings } from '../../lab/settings.ts'
import { DC1 } from './lab.ts'

/**
 * Java producers and librdkafka compress with snappy, lz4 and zstd; kafkajs ships only gzip (src/kafka/codecs
 * adds the others). Records written by independent clients must be read back byte for byte by the project's
 * consumer, and what the project's producer writes must be read back by them:
 * - the Java clients (kafka-clients with snappy-java, lz4-java and zstd-jni, from the lab's Maven fetch), run
 *   by test/integration/java/Interop.java; always;
 * - librdkafka (kcat and Python's confluent_kafka, from Debian), when installed; skipped otherwise.
 * Every run uses its own keys: the lab's `orders` topic is shared with the other tests.
 */
const codecs = ['snappy', 'lz4', 'zstd', 'gzip'] as const
type Codec = typeof codecs[number]

/** Whether a command exits 0: how the optional librdkafka clients are detected. */
const runs = (command: string, args: readonly string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0
const PYTHON = '/usr/bin/python3'
const LIBRDKAFKA_PACKAGES = 'apt-get install -y kcat python3-confluent-kafka'
const haveKcat = runs('kcat', ['-V'])
const havePythonKafka = runs(PYTHON, ['-c', 'import confluent_kafka'])

/** A record as the Java client takes and prints it: header names in order, null for a null key or value. */
interface JavaRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [string, Buffer | null]>
}

const INTEROP = fileURLToPath(new URL('java/Interop.java', import.meta.url))
const LOG4J = new URL('java/log4j.properties', import.meta.url).href
let libs = ''

/**
 * Runs Interop.java with the source launcher; returns its stdout. Each call compiles it again (about 1–2 s),
 * so the tests call it once per direction, never per record. C1 alone compiles and runs these short-lived
 * JVMs fastest.
 */
function java (args: readonly string[], input = ''): string {
  const run = spawnSync('java', ['-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=${LOG4J}`, '-cp', join(libs, '*'), INTEROP, ...args],
    { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
  assert.equal(run.status, 0, `java Interop.java ${args.join(' ')} failed (${run.error?.message ?? `exit ${run.status}, ${run.signal}`}):\n${run.stderr}`)
  return run.stdout
}

// Interop.java's line format: tab-separated base64 fields, '-' for null.
const field = (bytes: Buffer | string | null): string => bytes === null ? '-' : Buffer.from(bytes).toString('base64')
const unfield = (text: string): Buffer | null => text === '-' ? null : Buffer.from(text, 'base64')

function javaProduce (topic: string, partition: number, records: ReadonlyArray<JavaRecord & { codec: Codec }>): void {
  const lines = records.map(r => [r.codec, field(r.key), field(r.value), ...r.headers.flatMap(([k, v]) => [field(k), field(v)])].join('\t'))
  java(['produce', DC1, topic, String(partition)], lines.join('\n') + '\n')
}

/** The partition's records from the first one stamped at or after `sinceMs` to its current end. */
function javaConsume (topic: string, partition: number, sinceMs: number): JavaRecord[] {
  return java(['consume', DC1, topic, String(partition), `@${sinceMs}`]).split('\n').filter(l => l !== '').map(line => {
    const [, key = '-', value = '-', ...headers] = line.split('\t')
    const pairs: Array<[string, Buffer | null]> = []
    for (let i = 0; i < headers.length; i += 2) pairs.push([unfield(headers[i]!)!.toString('utf8'), unfield(headers[i + 1]!)])
    return { key: unfield(key), value: unfield(value), headers: pairs }
  })
}

/** Compressible text then random bytes: a codec must carry both, and non-UTF-8 bytes, unchanged. */
function sample (key: string, codec: Codec, i: number): JavaRecord {
  const value = Buffer.concat([Buffer.from(`${codec} value ${i} `.repeat(40)), randomBytes(64)])
  return { key: Buffer.from(key), value, headers: [['x-codec', Buffer.from(codec)], ['x-bytes', randomBytes(16)]] }
}

/** Headers as name -> values, for comparing the project's headers with a sample's. */
function headerMap (headers: RecordHeaders | JavaRecord['headers']): Record<string, HeaderValue[]> {
  const map: Record<string, HeaderValue[]> = {}
  if (Array.isArray(headers)) {
    for (const [k, v] of headers as JavaRecord['headers']) (map[k] ??= []).push(v)
  } else {
    for (const [k, v] of Object.entries(headers as RecordHeaders)) map[k] = headerValues(v).map(x => typeof x === 'string' ? Buffer.from(x) : x)
  }
  return map
}

describe('compressed batches interoperate with the Java clients', () => {
  before(() => { libs = ensureJars(labSettings(), line => { console.log(`lab: ${line}`) }) })

  it('reads snappy, lz4, zstd and gzip batches written by Java producers, byte for byte', async () => {
    const run = randomUUID()
    const sent = new Map<string, JavaRecord & { codec: Codec }>()
    for (const codec of codecs) {
      for (let i = 0; i < 20; i++) {
        const key = `${run}-java-${codec}-${i}`
        sent.set(key, { ...sample(key, codec, i), codec })
      }
    }
    javaProduce('orders', 0, [...sent.values()])
    const mine = <T extends { key: Buffer | null }>(rs: readonly T[]): T[] => rs.filter(r => sent.has(r.key?.toString() ?? ''))
    const got = mine(await readUntil(DC1, ['orders'], rs => mine(rs).length >= sent.size))
    assert.equal(got.length, sent.size)
    for (const r of got) {
      const s = sent.get(r.key!.toString())!
      assert.deepEqual(r.value, s.value, `value of ${r.key!.toString()}`)
      assert.deepEqual(headerMap(r.headers), headerMap(s.headers), `headers of ${r.key!.toString()}`)
    }
  })

  it('writes snappy, lz4, zstd and gzip batches that a Java consumer reads back, byte for byte', async () => {
    const run = randomUUID()
    const since = Date.now()
    const sent = new Map<string, OutRecord>()
    for (const codec of codecs) {
      const records = Array.from({ length: 50 }, (_, i) => {
        const key = `${run}-${codec}-${i}`
        const s = sample(key, codec, i)
        return { topic: 'orders', partition: 0, key, value: s.value, headers: Object.fromEntries(s.headers) }
      })
      const producer = await connectProducer({ brokers: [DC1], clientId: 'concord-test', compression: codec })
      try {
        await producer.send(records)
      } finally {
        await producer.close()
      }
      for (const r of records) sent.set(r.key, r)
    }
    const got = javaConsume('orders', 0, since).filter(r => r.key?.toString().startsWith(run))
    assert.equal(got.length, sent.size, 'the Java consumer read every record once')
    for (const r of got) {
      const s = sent.get(r.key!.toString())
      assert.ok(s !== undefined, `unexpected key ${r.key!.toString()}`)
      assert.deepEqual(r.value, s.value, `value of ${r.key!.toString()}`)
      assert.deepEqual(headerMap(r.headers), headerMap(s.headers ?? {}), `headers of ${r.key!.toString()}`)
    }
  })
})

function kcatProduce (codec: string, key: string, value: string): void {
  const run = spawnSync('kcat', ['-P', '-b', DC1, '-t', 'orders', '-K', ':', '-z', codec, '-H', `x-codec=${codec}`], { input: `${key}:${value}\n`, encoding: 'utf8' })
  assert.equal(run.status, 0, `kcat failed: ${run.error?.message ?? run.stderr}`)
}

function pythonProduce (codec: string, keys: string[], value: string): void {
  const script = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'compression.type': sys.argv[2], 'linger.ms': 50})
for k in sys.argv[4:]:
    p.produce('orders', key=k.encode(), value=sys.argv[3].encode(), headers=[('x-codec', sys.argv[2].encode())])
assert p.flush(10) == 0
`
  const run = spawnSync(PYTHON, ['-c', script, DC1, codec, value, ...keys], { encoding: 'utf8' })
  assert.equal(run.status, 0, `confluent_kafka failed: ${run.error?.message ?? run.stderr}`)
}

/** Reads librdkafka's records of this run back with the project's consumer: value and x-codec header. */
async function readBack (expected: ReadonlyMap<string, string>, value: string): Promise<void> {
  const mine = <T extends { key: Buffer | null }>(rs: readonly T[]): T[] => rs.filter(r => expected.has(r.key?.toString() ?? ''))
  const got = mine(await readUntil(DC1, ['orders'], rs => mine(rs).length >= expected.size))
  assert.equal(got.length, expected.size)
  for (const r of got) {
    assert.equal(r.value?.toString(), value, `value of ${r.key?.toString()}`)
    assert.equal(r.headers['x-codec']?.toString(), expected.get(r.key!.toString()))
  }
}

describe('compressed batches interoperate with librdkafka (kcat, confluent_kafka), when installed', () => {
  const value = 'v'.repeat(500) + ' compressible ' + 'x'.repeat(500)
  const noKcat = !haveKcat && `kcat is not installed (${LIBRDKAFKA_PACKAGES})`
  const noPython = !havePythonKafka && `Python's confluent_kafka is not installed (${LIBRDKAFKA_PACKAGES})`

  it('reads snappy, lz4, zstd and gzip batches from kcat', { skip: noKcat }, async () => {
    const run = randomUUID()
    const expected = new Map<string, string>()
    for (const codec of codecs) {
      const key = `${run}-kcat-${codec}`
      kcatProduce(codec, key, value)
      expected.set(key, codec)
    }
    await readBack(expected, value)
  })

  it('reads snappy, lz4, zstd and gzip batches from confluent_kafka', { skip: noPython }, async () => {
    const run = randomUUID()
    const expected = new Map<string, string>()
    for (const codec of codecs) {
      const keys = Array.from({ length: 20 }, (_, i) => `${run}-py-${codec}-${i}`)
      pythonProduce(codec, keys, value)
      for (const key of keys) expected.set(key, codec)
    }
    await readBack(expected, value)
  })

  it('writes snappy, lz4 and zstd batches that kcat reads back', { skip: noKcat }, async () => {
    for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
      const run = randomUUID()
      const producer = await connectProducer({ brokers: [DC1], clientId: 'concord-test', compression: codec })
      const records = Array.from({ length: 50 }, (_, i) => ({ topic: 'orders', partition: 0, key: `${run}-${i}`, value: `${codec} value ${i} `.repeat(20) }))
      await producer.send(records)
      await producer.close()
      const read = spawnSync('kcat', ['-C', '-b', DC1, '-t', 'orders', '-p', '0', '-o', '-2000', '-e', '-q', '-f', '%k\t%s\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      assert.equal(read.status, 0, `kcat failed: ${read.stderr}`)
      const seen = new Map(read.stdout.split('\n').filter(l => l.startsWith(run)).map(l => l.split('\t') as [string, string]))
      assert.equal(seen.size, records.length, `kcat read every ${codec} record`)
      for (const r of records) assert.equal(seen.get(r.key), r.value)
    }
  })
})
