import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { connectProducer } from '../../src/kafka/producer.ts'
import { DC1 } from './lab.ts'
import { readUntil } from '../../lab/read.ts'

/**
 * Java producers and librdkafka compress with snappy, lz4 and zstd; kafkajs ships only gzip. These records are
 * written by independent clients (kcat and Python's confluent_kafka, both librdkafka, from Debian) and must
 * be read back byte for byte by the project's consumer.
 */
const codecs = ['snappy', 'lz4', 'zstd', 'gzip'] as const
const PYTHON = '/usr/bin/python3'

function kcatProduce (codec: string, key: string, value: string): void {
  const run = spawnSync('kcat', ['-P', '-b', DC1, '-t', 'orders', '-K', ':', '-z', codec, '-H', `x-codec=${codec}`], { input: `${key}:${value}\n`, encoding: 'utf8' })
  assert.equal(run.status, 0, `kcat failed: ${run.stderr}`)
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
  assert.equal(run.status, 0, `confluent_kafka failed: ${run.stderr}`)
}

describe('records compressed by independent clients are read by the project consumer', () => {
  it('reads snappy, lz4, zstd and gzip batches from kcat and confluent_kafka', async () => {
    const run = randomUUID()
    const value = 'v'.repeat(500) + ' compressible ' + 'x'.repeat(500)
    const expected = new Map<string, string>()
    for (const codec of codecs) {
      const k = `${run}-kcat-${codec}`
      kcatProduce(codec, k, value)
      expected.set(k, codec)
      const keys = Array.from({ length: 20 }, (_, i) => `${run}-py-${codec}-${i}`)
      pythonProduce(codec, keys, value)
      for (const key of keys) expected.set(key, codec)
    }
    const mine = <T extends { key: Buffer | null }>(rs: readonly T[]): T[] => rs.filter(r => expected.has(r.key?.toString() ?? ''))
    const got = mine(await readUntil(DC1, ['orders'], rs => mine(rs).length >= expected.size))
    assert.equal(got.length, expected.size)
    for (const r of got) {
      assert.equal(r.value?.toString(), value, `value of ${r.key?.toString()}`)
      assert.equal(r.headers['x-codec']?.toString(), expected.get(r.key!.toString()))
    }
  })

  it('writes snappy, lz4 and zstd batches that kcat reads back', async () => {
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
