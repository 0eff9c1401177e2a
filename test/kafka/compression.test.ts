import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createZstdCompress } from 'node:zlib'
import kafkajs from '../../src/kafka/kafkajs.ts'
import xxh32 from 'lz4js/xxh32.js'
import { CompressionError } from '../../src/errors.ts'
import * as lz4 from '../../src/kafka/codecs/lz4.ts'
import * as snappy from '../../src/kafka/codecs/snappy.ts'
import * as zstd from '../../src/kafka/codecs/zstd.ts'
import { registerCodecs } from '../../src/kafka/compression.ts'

const MiB = 1 << 20
const empty = Buffer.alloc(0)
const small = Buffer.from('hello, kafka')
const repetitive = Buffer.from('concord '.repeat(MiB / 8))
const roundTrips = { 'an empty buffer': empty, 'a 12-byte buffer': small, '1 MiB of random bytes': randomBytes(MiB), '1 MiB of repetitive text': repetitive }
// Several kinds of content in one buffer, long enough to span many 64 KiB and 32 KiB blocks.
const mixed = Buffer.concat([randomBytes(150_000), Buffer.alloc(100_000, 7), Buffer.from('x,y;'.repeat(20_000))])

/** Zeros with one 1 placed so lz4js would start a match 10 bytes before the end of a `blockLength`-byte block. */
function nearEndMatch (blockLength: number): Buffer {
  const input = Buffer.alloc(2 * blockLength)
  input[blockLength - 11] = 1
  return input
}

const codecs = { snappy, lz4, zstd } as const
const isCompressionError = (err: unknown): boolean => err instanceof CompressionError && err.code === 'CONCORD_ERR_COMPRESSION' && !err.retriable

for (const [name, codec] of Object.entries(codecs)) {
  describe(`the ${name} codec`, () => {
    for (const [description, input] of Object.entries(roundTrips)) {
      it(`round-trips ${description}`, () => {
        const compressed = codec.compress(input)
        assert.ok(Buffer.isBuffer(compressed))
        assert.deepEqual(codec.decompress(compressed), input)
        if (input === repetitive) assert.ok(compressed.length < input.length / 10, `compressed to ${compressed.length} bytes`)
      })
    }
  })
}

describe('snappy decompression', () => {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
  const xerial = (blocks: readonly Buffer[]): Buffer => Buffer.concat([header, ...blocks.flatMap(b => {
    const length = Buffer.alloc(4)
    length.writeInt32BE(b.length)
    return [length, b]
  })])

  it('reads Xerial framing of several blocks, as Java producers write it', () => {
    const chunks = [mixed.subarray(0, 32_768), mixed.subarray(32_768, 65_536), mixed.subarray(65_536)]
    assert.deepEqual(snappy.decompress(xerial(chunks.map(c => snappy.compress(c)))), mixed)
  })

  it('reads a Xerial header with no blocks as empty, as Java writes an empty batch', () => {
    assert.deepEqual(snappy.decompress(xerial([])), Buffer.alloc(0))
  })

  it('rejects a Xerial block that runs past the input with a CompressionError', () => {
    const frame = xerial([snappy.compress(small)])
    assert.throws(() => snappy.decompress(frame.subarray(0, frame.length - 1)), isCompressionError)
  })

  it('rejects bytes that are not snappy with a CompressionError', () => {
    assert.throws(() => snappy.decompress(Buffer.from([0x05, 0x01, 0x02])), isCompressionError)
  })
})

/** The blocks of an LZ4 frame this codec wrote (no optional fields). */
function lz4Blocks (frame: Buffer): { data: Buffer, stored: boolean }[] {
  const blocks = []
  for (let at = 7; ;) {
    const word = frame.readUInt32LE(at)
    if (word === 0) return blocks
    const size = word & 0x7fffffff
    blocks.push({ data: frame.subarray(at + 4, at + 4 + size), stored: word !== size })
    at += 4 + size
  }
}

/** Output offsets, within its block, where each match of an LZ4 block starts. */
function matchStarts (block: Buffer): number[] {
  const starts = []
  const length = (initial: number, at: number): [number, number] => {
    let n = initial
    if (n === 15) for (let b = 255; b === 255; n += b) b = block[at++]!
    return [n, at]
  }
  for (let at = 0, out = 0; at < block.length;) {
    const token = block[at++]!
    const [literals, afterLength] = length(token >> 4, at)
    at = afterLength + literals
    out += literals
    if (at >= block.length) break
    starts.push(out)
    const [match, afterMatch] = length(token & 15, at + 2)
    at = afterMatch
    out += match + 4
  }
  return starts
}

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b }
/** The LZ4 header checksum byte of a frame descriptor (FLG onwards). */
const lz4Hc = (descriptor: Buffer): Buffer => Buffer.from([(xxh32.hash(0, descriptor, 0, descriptor.length) >> 8) & 0xff])

/** Rewrites a frame from this codec with a content size, block checksums and a content checksum. */
function withAllLz4Fields (frame: Buffer, content: Buffer): Buffer {
  const descriptor = Buffer.alloc(10)
  descriptor[0] = 0x60 | 0x10 | 0x08 | 0x04
  descriptor[1] = 0x40
  descriptor.writeBigUInt64LE(BigInt(content.length), 2)
  const blocks = lz4Blocks(frame).flatMap(({ data, stored }) => [
    u32(stored ? 0x80000000 + data.length : data.length), data, u32(xxh32.hash(0, data, 0, data.length))
  ])
  return Buffer.concat([frame.subarray(0, 4), descriptor, lz4Hc(descriptor), ...blocks, u32(0), u32(xxh32.hash(0, content, 0, content.length))])
}

describe('lz4 frames', () => {
  it('are written with independent 64 KiB blocks and a correct header checksum, as Kafka\'s Java reader requires', () => {
    const frame = lz4.compress(mixed)
    assert.equal(frame.readUInt32LE(0), 0x184d2204)
    assert.equal(frame[4], 0x60)
    assert.equal(frame[5], 0x40)
    assert.deepEqual(frame.subarray(6, 7), lz4Hc(frame.subarray(4, 6)))
    assert.ok(lz4Blocks(frame).length > 4)
  })

  it('never end a block with a match closer than 12 bytes to the 64 KiB output window', () => {
    for (const input of [nearEndMatch(65_536), nearEndMatch(65_534), repetitive, mixed]) {
      let checked = 0
      for (const block of lz4Blocks(lz4.compress(input))) {
        if (block.stored) continue
        for (const start of matchStarts(block.data)) assert.ok(start <= 65_536 - 12, `match at ${start}`)
        checked++
      }
      assert.ok(checked > 0)
    }
  })

  it('are read with a content size, block checksums and a content checksum', () => {
    assert.deepEqual(lz4.decompress(withAllLz4Fields(lz4.compress(mixed), mixed)), mixed)
    assert.deepEqual(lz4.decompress(withAllLz4Fields(lz4.compress(empty), empty)), empty)
  })

  it('are read when a block refers back into the previous one (linked blocks)', () => {
    const first = randomBytes(64)
    // Block 2: token 0x0C = no literals + match of 12 + 4 at offset 64; token 0x50 = five closing literals.
    const second = Buffer.from([0x0c, 64, 0, 0x50, 1, 2, 3, 4, 5])
    const descriptor = Buffer.from([0x40, 0x40]) // version 01 with the independence bit clear, 64 KiB
    const frame = Buffer.concat([
      u32(0x184d2204), descriptor, lz4Hc(descriptor),
      u32(0x80000000 + first.length), first,
      u32(second.length), second,
      u32(0)
    ])
    assert.deepEqual(lz4.decompress(frame), Buffer.concat([first, first.subarray(0, 16), Buffer.from([1, 2, 3, 4, 5])]))
  })

  it('are rejected with a CompressionError when truncated, mislabelled or not LZ4', () => {
    const frame = lz4.compress(mixed)
    assert.throws(() => lz4.decompress(frame.subarray(0, frame.length - 1)), isCompressionError)
    assert.throws(() => lz4.decompress(frame.subarray(0, frame.length - 4)), isCompressionError)
    const wrongSize = withAllLz4Fields(frame, mixed)
    wrongSize.writeBigUInt64LE(BigInt(mixed.length - 1), 6)
    assert.throws(() => lz4.decompress(wrongSize), isCompressionError)
    assert.throws(() => lz4.decompress(Buffer.from('not an lz4 frame')), isCompressionError)
  })
})

describe('zstd frames', () => {
  it('are read when written by a streaming compressor without the content size', async () => {
    const stream = createZstdCompress()
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    const done = new Promise(resolve => stream.on('end', resolve))
    for (let at = 0; at < mixed.length; at += 10_000) stream.write(mixed.subarray(at, at + 10_000))
    stream.end()
    await done
    const frame = Buffer.concat(chunks)
    const descriptor = frame[4]!
    assert.equal(descriptor >> 6, 0, 'no Frame_Content_Size field')
    assert.equal(descriptor & 0x20, 0, 'not Single_Segment, which would imply a content size')
    assert.deepEqual(zstd.decompress(frame), mixed)
  })

  it('are rejected with a CompressionError when corrupt', () => {
    const frame = zstd.compress(mixed)
    assert.throws(() => zstd.decompress(frame.subarray(0, frame.length - 10)), isCompressionError)
  })
})

describe('registration with kafkajs', () => {
  const { CompressionCodecs, CompressionTypes } = kafkajs
  const types = { snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD } as const

  it('puts snappy, lz4 and zstd into CompressionCodecs, and a second call changes nothing', async () => {
    registerCodecs()
    const first = Object.values(types).map(t => CompressionCodecs[t])
    registerCodecs()
    assert.deepEqual(Object.values(types).map(t => CompressionCodecs[t]), first)
    for (const type of Object.values(types)) {
      const codec = CompressionCodecs[type]()
      const compressed: Buffer = await codec.compress({ buffer: mixed })
      assert.deepEqual(await codec.decompress(compressed), mixed)
    }
  })

  it('lets kafkajs encode and decode a record batch with each codec', async () => {
    registerCodecs()
    // kafkajs' own record batch encoder and decoder, as its producer and consumer call them.
    const require = createRequire(import.meta.url)
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0')
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0')
    const Decoder = require('kafkajs/src/protocol/decoder')
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder')
    const values = Array.from({ length: 50 }, (_, i) => `value ${i} `.repeat(40))
    for (const [name, compression] of Object.entries(types)) {
      const records = values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(value), headers: {} }))
      const encoded = await RecordBatch({ compression, records, lastOffsetDelta: values.length - 1 })
      const batch = await decodeBatch(new Decoder(encoded.buffer))
      assert.deepEqual(batch.records.map((r: { value: Buffer }) => r.value.toString()), values, name)
    }
  })
})

/** Whether a command exits 0: how the optional reference tools are detected. */
const runs = (command: string, args: readonly string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0
const PYTHON = '/usr/bin/python3'
const haveLz4 = runs('lz4', ['--version'])
const haveZstd = runs('zstd', ['--version'])
const havePythonSnappy = runs(PYTHON, ['-c', 'import snappy'])

function tool (command: string, args: readonly string[], input: Buffer): Buffer {
  const run = spawnSync(command, args, { input, maxBuffer: 64 * MiB })
  assert.equal(run.status, 0, `${command} ${args.join(' ')} failed: ${run.stderr?.toString()}`)
  return run.stdout
}

describe('frames from independent implementations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-compression-'))
  const file = join(dir, 'mixed.bin')
  writeFileSync(file, mixed)
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('decodes lz4 CLI (liblz4) frames of every layout, and liblz4 decodes ours', { skip: !haveLz4 && 'the lz4 CLI is not installed (apt-get install -y lz4)' }, () => {
    const layouts = [
      ['-B4', '--no-frame-crc'], // what librdkafka and Java write
      [], // 4 MiB blocks with a content checksum
      ['-B4', '-BD'], // linked blocks
      ['-B5', '-BX', '--content-size', file] // block checksums and a content size (needs a file to know the size)
    ]
    const frames = layouts.map(layout => tool('lz4', ['-c', '-q', ...layout], mixed))
    assert.equal(frames[3]![4]! & 0x08, 0x08, 'the content size is present')
    for (const [i, frame] of frames.entries()) assert.deepEqual(lz4.decompress(frame), mixed, layouts[i]!.join(' '))
    for (const input of [empty, small, mixed, nearEndMatch(65_536), nearEndMatch(65_534)]) {
      assert.deepEqual(tool('lz4', ['-d', '-c', '-q'], lz4.compress(input)), input)
    }
  })

  it('decodes zstd CLI (libzstd) frames streamed without a content size, and libzstd decodes ours', { skip: !haveZstd && 'the zstd CLI is not installed (apt-get install -y zstd)' }, () => {
    const frame = tool('zstd', ['-c', '-q'], mixed)
    assert.equal(frame[4]! >> 6, 0, 'no Frame_Content_Size field')
    assert.deepEqual(zstd.decompress(frame), mixed)
    for (const input of [empty, small, mixed]) assert.deepEqual(tool('zstd', ['-d', '-c', '-q'], zstd.compress(input)), input)
  })

  it('decodes libsnappy raw blocks and Xerial frames built from them, and libsnappy decodes ours', { skip: !havePythonSnappy && 'python3-snappy is not installed (apt-get install -y python3-snappy)' }, () => {
    const raw = tool(PYTHON, ['-c', 'import sys, snappy; sys.stdout.buffer.write(snappy.compress(sys.stdin.buffer.read()))'], mixed)
    assert.deepEqual(snappy.decompress(raw), mixed)
    // snappy-java's SnappyOutputStream layout: magic, version 1, compatible 1, then 32 KiB blocks.
    const xerial = tool(PYTHON, ['-c', `
import struct, sys, snappy
data = sys.stdin.buffer.read()
out = sys.stdout.buffer
out.write(b'\\x82SNAPPY\\x00' + struct.pack('>ii', 1, 1))
for i in range(0, len(data), 32768):
    block = snappy.compress(data[i:i + 32768])
    out.write(struct.pack('>i', len(block)) + block)
`], mixed)
    assert.deepEqual(snappy.decompress(xerial), mixed)
    const uncompress = 'import sys, snappy; sys.stdout.buffer.write(snappy.uncompress(sys.stdin.buffer.read()))'
    for (const input of [empty, small, mixed]) assert.deepEqual(tool(PYTHON, ['-c', uncompress], snappy.compress(input)), input)
  })
})
