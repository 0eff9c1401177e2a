import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeReset, offsetWrites, parseResetTarget, planReset } from '../../src/cli/reset-offsets.ts'
import { UsageError } from '../../src/errors.ts'

/** Two partitions of orders with records from offset 5 (older ones deleted) to 20 and 7; dc2.orders is missing. */
const admin = {
  partitionCounts: async (topics: readonly string[]) => new Map(topics.filter(t => t === 'orders').map(t => [t, 2])),
  logOffsets: async () => new Map([[1, { low: 0n, high: 7n }], [0, { low: 5n, high: 20n }]]),
  offsetsAt: async (_topic: string, ts: number) => new Map([[0, ts === 1000 ? 12n : 20n], [1, 7n]])
}
const held = new Map([['orders:0', 15], ['orders:1', 7]])

test('--to parses earliest, latest, ms since the epoch and an ISO date-time with its zone, and refuses the rest by name', () => {
  assert.deepEqual(parseResetTarget('earliest'), { kind: 'earliest' })
  assert.deepEqual(parseResetTarget('latest'), { kind: 'latest' })
  assert.deepEqual(parseResetTarget('1700000000000'), { kind: 'timestamp', ts: 1_700_000_000_000 })
  assert.deepEqual(parseResetTarget('2026-12-01T10:00:00Z'), { kind: 'timestamp', ts: Date.UTC(2026, 11, 1, 10) })
  for (const bad of ['yesterday', '2026-12-01', '2026-12-01T10:00:00', '-5', '']) {
    assert.throws(() => parseResetTarget(bad), (err: unknown) => err instanceof UsageError && err.message.includes(`got "${bad}"`), bad)
  }
})

test('earliest, latest and a time move every partition of the existing inputs; missing topics are listed', async () => {
  const to = async (target: string) => (await planReset(['orders', 'dc2.orders'], held, admin, parseResetTarget(target)))
  const earliest = await to('earliest')
  assert.deepEqual(earliest, {
    changes: [{ topic: 'orders', partition: 0, from: 15, to: 5 }, { topic: 'orders', partition: 1, from: 7, to: 0 }],
    missing: ['dc2.orders']
  })
  assert.deepEqual((await to('latest')).changes.map(c => c.to), [20, 7])
  assert.deepEqual((await to('1000')).changes.map(c => c.to), [12, 7])
  assert.deepEqual(offsetWrites(earliest.changes), [{ topic: 'orders', partition: 0, nextOffset: 5 }, { topic: 'orders', partition: 1, nextOffset: 0 }])
})

test('a partition the store holds no position for shows as (none)', async () => {
  const { changes } = await planReset(['orders'], new Map(), admin, { kind: 'latest' })
  assert.deepEqual(changes.map(c => c.from), [undefined, undefined])
  assert.match(describeReset(changes, [], false), /^orders:0 {2}\(none\) -> 20$/m)
})

test('the description says what moves, what is unchanged, and whether it was written', async () => {
  const { changes, missing } = await planReset(['orders', 'dc2.orders'], held, admin, { kind: 'latest' })
  assert.equal(describeReset(changes, missing, false), [
    'orders:0  15 -> 20',
    'orders:1  7 -> 7 (unchanged)',
    'dc2.orders: not in the cluster, skipped',
    'dry run: 1 of 2 partitions would move; run again with --execute to write them to the state store'
  ].join('\n'))
  assert.match(describeReset(changes, missing, true), /^reset 1 of 2 partitions in the state store; concord resumes from there at its next start$/m)
})
