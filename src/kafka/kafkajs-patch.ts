import { createRequire, Module } from 'node:module'

/**
 * kafkajs 2.2.4 groups a produce request's messages by partition with `[...current, message]` inside a
 * reduce, which copies the partition's list once per message: quadratic in the records per request (a
 * tenth of concord's CPU in the e2e benchmark at ~2,700 records per request). kafkajs is in maintenance
 * mode, so this module puts a linear version with the same result in Node's module cache before kafkajs
 * loads it. src/kafka/kafkajs.ts imports it first; nothing else imports kafkajs.
 */
const require = createRequire(import.meta.url)
export const GROUP_MESSAGES_PATH = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js')

interface GroupArgs<M> {
  readonly topic: string
  readonly partitionMetadata: readonly unknown[]
  readonly messages: readonly M[]
  readonly partitioner: (args: { topic: string, partitionMetadata: readonly unknown[], message: M }) => number
}

export function groupMessagesPerPartition<M> ({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {}
  if (partitionMetadata.length === 0) return result
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = result[partition]
    if (list === undefined) result[partition] = [message]
    else list.push(message)
  }
  return result
}

if (require.cache[GROUP_MESSAGES_PATH] === undefined) {
  const mod = new Module(GROUP_MESSAGES_PATH)
  mod.filename = GROUP_MESSAGES_PATH
  mod.loaded = true
  mod.exports = groupMessagesPerPartition
  require.cache[GROUP_MESSAGES_PATH] = mod
}
