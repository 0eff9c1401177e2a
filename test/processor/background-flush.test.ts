import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BackgroundFlush, backoffDelay, DEFAULT_BACKOFF, MAX_UNSENT_RECORDS } from '../../src/processor/background-flush.ts'
import { ManualSleep, recordingLogger, track, turn } from './rig.ts'

/** An outbox of `pending` unsent records whose flush fails `failures` times, then sends everything. */
function fakeOutbox (pending: number, failures: number) {
  const o = {
    pending,
    failures,
    flushes: 0,
    async flush (): Promise<number> {
      o.flushes++
      if (o.failures > 0) {
        o.failures--
        throw new Error('broker refuses')
      }
      const sent = o.pending
      o.pending = 0
      return sent
    }
  }
  return o
}

describe('backoffDelay', () => {
  it('grows by its base each attempt up to its max, and stays there', () => {
    const backoff = { baseMs: 100, maxMs: 350 }
    assert.deepEqual([1, 2, 3, 4, 5, 50].map(a => backoffDelay(a, backoff)), [100, 200, 300, 350, 350, 350])
  })

  it('defaults to 250 ms more each time, up to 5 s, and 20,000 unsent records', () => {
    assert.deepEqual(DEFAULT_BACKOFF, { baseMs: 250, maxMs: 5_000 })
    assert.equal(backoffDelay(20, DEFAULT_BACKOFF), 5_000)
    assert.equal(backoffDelay(21, DEFAULT_BACKOFF), 5_000)
    assert.equal(MAX_UNSENT_RECORDS, 20_000)
  })
})

describe('BackgroundFlush', () => {
  it('retries a refused flush after a back-off that grows to its max, logging each attempt, and sets the gauge', async () => {
    const outbox = fakeOutbox(5, 4)
    const waits: number[] = []
    const gauge: number[] = []
    const log = recordingLogger()
    const flush = new BackgroundFlush({
      outbox,
      store: { pendingCount: () => outbox.pending },
      pending: { set: n => { gauge.push(n) } },
      log,
      maxUnsentRecords: 5,
      backoff: { baseMs: 10, maxMs: 25 },
      sleep: async ms => { waits.push(ms) }
    })
    await flush.committed()
    assert.equal(outbox.pending, 0, 'at the bound, committed() resolves once the output is sent')
    assert.deepEqual(waits, [10, 20, 25, 25])
    assert.deepEqual(gauge, [5, 5, 5, 5, 0])
    assert.deepEqual(log.entries.map(e => [e.level, (e.obj as { attempt: number }).attempt]), [['error', 1], ['error', 2], ['error', 3], ['error', 4]])
    await flush.stop()
  })

  it('returns at once under the bound, takes output committed meanwhile in one more round, and waits from the bound on', async () => {
    const outbox = fakeOutbox(1, 1)
    const sleeps = new ManualSleep()
    const flush = new BackgroundFlush({
      outbox,
      store: { pendingCount: () => outbox.pending },
      pending: { set: () => {} },
      log: recordingLogger(),
      maxUnsentRecords: 3,
      backoff: { baseMs: 1, maxMs: 1 },
      sleep: sleeps.sleep
    })
    await flush.committed()
    await sleeps.asked(ms => ms === 1)
    outbox.pending = 3
    const atBound = track(flush.committed())
    await turn()
    assert.equal(atBound.settled, false, 'waits for the flush that is backing off')
    sleeps.wake()
    await turn()
    assert.equal(atBound.settled, true)
    assert.equal(outbox.pending, 0)
    assert.equal(outbox.flushes, 3, 'the failed attempt, its retry, and the round asked for meanwhile')
    await flush.stop()
  })

  it('stop retries no more: the failure of the flush in progress is dropped, and the last attempt\'s reaches the caller', async () => {
    const outbox = fakeOutbox(2, 3)
    const sleeps = new ManualSleep()
    const flush = new BackgroundFlush({
      outbox,
      store: { pendingCount: () => outbox.pending },
      pending: { set: () => {} },
      log: recordingLogger(),
      sleep: sleeps.sleep
    })
    await flush.committed()
    await sleeps.asked(() => true)
    const stopping = flush.stop()
    sleeps.wake()
    await assert.rejects(stopping, /broker refuses/)
    assert.equal(outbox.flushes, 3, 'the first attempt, the retry after the back-off, the last attempt')
    assert.equal(outbox.pending, 2, 'still committed, for the next start')
  })
})
