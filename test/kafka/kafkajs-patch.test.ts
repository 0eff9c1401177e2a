import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { it } from 'node:test'
import fc from 'fast-check'
import '../../src/kafka/kafkajs.ts'
import { GROUP_MESSAGES_PATH, groupMessagesPerPartition } from '../../src/kafka/kafkajs-patch.ts'

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

it('nothing but src/kafka/kafkajs.ts imports kafkajs at run time', () => {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap(e => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
  const root = join(import.meta.dirname, '..', '..')
  const offenders = ['src', 'lab', 'bench', 'test'].flatMap(d => files(join(root, d)))
    .filter(f => /^import (?!type )[^\n]*from 'kafkajs'/m.test(readFileSync(f, 'utf8')))
    .map(f => f.slice(root.length + 1))
  assert.deepEqual(offenders, ['src/kafka/kafkajs.ts'])
})
