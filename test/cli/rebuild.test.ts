import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeProgress } from '../../src/cli/rebuild.ts'

test('a progress line gives records, rate and ETA; on a TTY a bar redrawn in place', () => {
  const p = { records: 25_000, total: 100_000, seconds: 5 }
  assert.equal(describeProgress(p, false), '25% 25,000 / 100,000 records, 5,000 records/s, ETA 15 s')
  assert.equal(describeProgress(p, true), `\r[${'#'.repeat(7)}${'.'.repeat(23)}] 25% 25,000 / 100,000 records, 5,000 records/s, ETA 15 s`)
})

test('before the first record the rate is 0 and the ETA unknown; empty inputs are done', () => {
  assert.equal(describeProgress({ records: 0, total: 10, seconds: 0 }, false), '0% 0 / 10 records, 0 records/s, ETA ?')
  assert.equal(describeProgress({ records: 0, total: 0, seconds: 1 }, false), '100% 0 / 0 records, 0 records/s, ETA ?')
})
