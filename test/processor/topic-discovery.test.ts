import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TopicDiscovery, type TopicsFound } from '../../src/processor/topic-discovery.ts'
import { fakeAdmin, ManualSleep, recordingLogger, track, turn } from './rig.ts'

const INTERVAL = 5_000
const plain = (f: TopicsFound): unknown => ({ existing: f.existing, missing: f.missing, counts: Object.fromEntries(f.counts) })

function discovery (topics: Map<string, number>, onChange: (found: TopicsFound) => Promise<void>) {
  const sleeps = new ManualSleep()
  const log = recordingLogger()
  const d = new TopicDiscovery({ admin: fakeAdmin(topics), topics: ['orders', 'dc2.orders'], onChange, log, intervalMs: INTERVAL, sleep: sleeps.sleep })
  return { d, sleeps, log }
}

describe('TopicDiscovery', () => {
  it('hands over the topics that exist, then a topic that appears at a later look, and nothing when nothing changed', async () => {
    const topics = new Map([['orders', 3]])
    const found: TopicsFound[] = []
    const { d, sleeps } = discovery(topics, async f => { found.push(f) })
    await d.check()
    assert.deepEqual(found.map(plain), [{ existing: ['orders'], missing: ['dc2.orders'], counts: { orders: 3 } }])
    d.start()
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 2)
    assert.equal(found.length, 1, 'the same topics again: nothing to do')

    topics.set('dc2.orders', 3)
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 3)
    assert.deepEqual(found.map(plain)[1], { existing: ['orders', 'dc2.orders'], missing: [], counts: { orders: 3, 'dc2.orders': 3 } })
    assert.deepEqual(sleeps.calls, [INTERVAL, INTERVAL, INTERVAL], 'waits the interval between looks')
    await d.stop()
  })

  it('says nothing while none of the topics exists', async () => {
    const found: TopicsFound[] = []
    const { d } = discovery(new Map(), async f => { found.push(f) })
    await d.check()
    assert.deepEqual(found, [])
  })

  it('hands a change over again at the next look when handling it failed', async () => {
    const topics = new Map([['orders', 1]])
    let calls = 0
    const { d, sleeps, log } = discovery(topics, async () => {
      calls++
      if (calls === 1) throw new Error('cannot create the output topics')
    })
    await assert.rejects(d.check(), /cannot create the output topics/, 'a first look throws to its caller')
    d.start()
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 2)
    assert.equal(calls, 2)
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 3)
    assert.equal(calls, 2, 'handled once it succeeded')
    await d.stop()
    assert.deepEqual(log.entries, [], 'a first look\'s failure is its caller\'s to report')
  })

  it('logs a failed look in the background and looks again at the next interval', async () => {
    let calls = 0
    const { d, sleeps, log } = discovery(new Map([['dc2.orders', 1]]), async () => {
      calls++
      throw new Error('broker gone')
    })
    d.start()
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 2)
    sleeps.wake()
    await sleeps.asked(ms => ms === INTERVAL, 3)
    assert.equal(calls, 2)
    assert.deepEqual(log.entries.map(e => [e.level, e.msg]), [
      ['warn', 'could not look for new input topics; will retry'],
      ['warn', 'could not look for new input topics; will retry']
    ])
    await d.stop()
  })

  it('stops at once while it waits, without another look', async () => {
    let looks = 0
    const { d, sleeps } = discovery(new Map(), async () => { looks++ })
    d.start()
    await sleeps.asked(ms => ms === INTERVAL)
    const stopped = track(d.stop())
    await turn()
    assert.equal(stopped.settled, true, 'the pending wait was aborted')
    assert.equal(looks, 0)
  })
})
