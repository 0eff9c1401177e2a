import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire, Module } from 'node:module'
import { join } from 'node:path'
import { it } from 'node:test'
import fc from 'fast-check'
import '../../src/kafka/kafkajs.ts'
import { encodeRecordV0, GROUP_MESSAGES_PATH, groupMessagesPerPartition, RECORD_V0_PATH } from '../../src/kafka/kafkajs-patch.ts'

const require = createRequire(import.meta.url)

it('kafkajs\' producer loads the linear groupMessagesPerPartition', () => {
  assert.equal(require(GROUP_MESSAGES_PATH), groupMessagesPerPartition)
  // sendMessages.js binds the module when kafkajs loads; it must have got the patched one.
  const sendMessages = require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')]
  assert.ok(sendMessages !== undefined, 'kafkajs loaded its producer')
  const child = sendMessages.children.find(c => c.filename === GROUP_MESSAGES_PATH)
  assert.equal(child?.exports, groupMessagesPerPartition)
})

it('groups like kafkajs\' own version: same partitions, each list in the original order', () => {
  // kafkajs 2.2.4's implementation, verbatim but for types.
  const original = ({ topic, partitionMetadata, messages, partitioner }: Parameters<typeof groupMessagesPerPartition<number>>[0]): Record<number, number[]> => {
    if (partitionMetadata.length === 0) return {}
    return messages.reduce<Record<number, number[]>>((result, message) => {
      const partition = partitioner({ topic, partitionMetadata, message })
      const current = result[partition] ?? []
      return Object.assign(result, { [partition]: [...current, message] })
    }, {})
  }
  fc.assert(fc.property(fc.array(fc.nat()), fc.integer({ min: 0, max: 5 }), (messages, partitions) => {
    const args = { topic: 't', partitionMetadata: Array.from({ length: partitions }), messages, partitioner: ({ message }: { message: number }) => message % Math.max(1, partitions) }
    assert.deepEqual(groupMessagesPerPartition(args), original(args))
  }))
})

it('kafkajs\' produce request loads the one-allocation record encoder', () => {
  assert.equal(require(RECORD_V0_PATH), encodeRecordV0)
  const request = require('kafkajs/src/protocol/requests/produce/v3/request.js') as unknown
  assert.ok(request !== undefined)
  const loaded = require.cache[require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js')]
  assert.equal(loaded?.children.find(c => c.filename === RECORD_V0_PATH)?.exports, encodeRecordV0)
})

it('encodes records to the same bytes as kafkajs\' own Record v0', () => {
  // kafkajs 2.2.4's module, compiled from its file apart from the patched one in the cache.
  const original = new Module(RECORD_V0_PATH) as Module & { _compile (code: string, file: string): void, paths: string[] }
  original.filename = RECORD_V0_PATH
  original.paths = (Module as unknown as { _nodeModulePaths (dir: string): string[] })._nodeModulePaths(join(RECORD_V0_PATH, '..'))
  original._compile(readFileSync(RECORD_V0_PATH, 'utf8'), RECORD_V0_PATH)
  const kafkajsRecord = original.exports as (args: unknown) => { buffer: Buffer }
  const bytes = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 300 }).map(a => Buffer.from(a)), fc.string({ maxLength: 40 }))
  const header = fc.oneof(fc.uint8Array({ maxLength: 60 }).map(a => Buffer.from(a)), fc.string({ maxLength: 30 }))
  const headers = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.oneof(header, fc.array(header, { minLength: 1, maxLength: 3 })), { maxKeys: 5 })
  fc.assert(fc.property(fc.nat(100_000), fc.integer({ min: 0, max: 2 ** 40 }), bytes, bytes, headers, (offsetDelta, timestampDelta, key, value, hs) => {
    const args = { offsetDelta, timestampDelta, key, value, headers: hs }
    assert.deepEqual((encodeRecordV0(args) as unknown as { buffer: Buffer }).buffer, kafkajsRecord(args).buffer)
  }), { numRuns: 1000 })
})

it('nothing but src/kafka/kafkajs.ts imports kafkajs at run time', () => {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap(e => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
  const root = join(import.meta.dirname, '..', '..')
  const offenders = ['src', 'lab', 'bench', 'test'].flatMap(d => files(join(root, d)))
    .filter(f => /^import (?!type )[^\n]*from 'kafkajs'/m.test(readFileSync(f, 'utf8')))
    .map(f => f.slice(root.length + 1))
  assert.deepEqual(offenders, ['src/kafka/kafkajs.ts'])
})
