import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sum, type ConcordProcess } from '../../lab/concord-process.ts'
import { readUntil } from '../../lab/read.ts'
import { createTopicPair, identical, matchesOracle, produce, readMerged, startDc, waitConsumed } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { expectedState, makeWrites, recordsByDc } from '../../lab/workload.ts'
import { decodeMsgpack, encodeMsgpack } from '../../src/codec/msgpack.ts'
import { headerString, type OutRecord } from '../../src/model/record.ts'

/**
 * concord on the real lab: a processor per DC as a child process (`concord run`), MirrorMaker 2 both ways.
 * Each test uses fresh topics, so tests do not see each other's records.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const fresh = (name: string): string => `it-${name}-${Date.now().toString(36)}`

describe('concord on two datacenters', () => {
  describe('concurrent conflicting writes', () => {
    const topic = fresh('converge')
    const work = mkdtempSync(join(tmpdir(), 'concord-it-'))
    const options = { topic, dcs: ['dc1', 'dc2'], entities: 400, writesPerEntityPerDc: 3, partitions: settings.partitions, seed: 7 }
    const writes = makeWrites(options)
    const byDc = recordsByDc(writes, options)
    const oracle = expectedState(writes)
    let pair: ConcordProcess[] = []
    after(async () => { await Promise.all(pair.map(p => p.stop())) })

    before(async () => {
      await createTopicPair(settings, topic)
      pair = await Promise.all([startDc(settings, 0, topic, work), startDc(settings, 1, topic, work)])
      // Both DCs write at the same time.
      await Promise.all([produce(dc1.bootstrap, byDc.get('dc1')!), produce(dc2.bootstrap, byDc.get('dc2')!)])
    })

    it('converge to the same merged state in dc1 and dc2, equal to the oracle', async () => {
      const total = byDc.get('dc1')!.length + byDc.get('dc2')!.length
      await waitConsumed(pair, [total, total])
      const [m1, m2] = await Promise.all([readMerged(dc1.bootstrap, topic, oracle), readMerged(dc2.bootstrap, topic, oracle)])
      assert.ok(matchesOracle(m1, oracle), 'dc1 merged state equals the oracle')
      assert.ok(matchesOracle(m2, oracle), 'dc2 merged state equals the oracle')
      assert.ok(identical(m1, m2), 'dc1 and dc2 agree')
      for (const r of m1.values()) assert.equal(headerString(r.headers, 'x-merged-by'), 'dc1')
    })

    it('emits nothing for redelivered records and replication echoes', async () => {
      const before = await Promise.all(pair.map(p => p.metrics()))
      const emittedBefore = before.map(m => sum(m, 'concord_emitted_total{'))
      const consumedBefore = before.map(m => sum(m, 'concord_records_total{'))
      const again = byDc.get('dc1')!.slice(0, 200)
      const echoes = again.map(r => ({ ...r, topic: `dc2.${topic}` }))
      await produce(dc1.bootstrap, [...again, ...echoes])
      // dc1 reads the redelivered records and the echoes; dc2 reads the redelivered records via MM2.
      const after = await waitConsumed(pair, [consumedBefore[0]! + again.length + echoes.length, consumedBefore[1]! + again.length])
      assert.deepEqual(after.map(m => sum(m, 'concord_emitted_total{')), emittedBefore, 'no output')
      assert.equal(sum(after[0]!, 'concord_records_total{', 'outcome="loop"') - sum(before[0]!, 'concord_records_total{', 'outcome="loop"'), echoes.length)
      const applied = (m: Map<string, number>): number => sum(m, 'concord_records_total{', 'outcome="applied"')
      assert.deepEqual(after.map(applied), before.map(applied), 'nothing applied')
    })
  })

  describe('malformed records', () => {
    const topic = fresh('dlq')
    const work = mkdtempSync(join(tmpdir(), 'concord-it-'))
    const procs: ConcordProcess[] = []
    after(async () => { await Promise.all(procs.map(p => p.stop())) })

    it('go to the dead-letter topic with the reason while the records around them merge', async () => {
      await createTopicPair(settings, topic)
      const proc = await startDc(settings, 0, topic, work)
      procs.push(proc)
      const ts = String(Date.now())
      const good = (n: number): OutRecord => ({ topic, partition: 0, key: `good-${n}-dc1`, value: encodeMsgpack(`v${n}`), headers: { 'x-origin-ts': ts, 'x-event-id': `g${n}` } })
      const bad: Array<[OutRecord, RegExp]> = [
        [{ topic, partition: 0, key: 'bad-1-dc7', value: 'x', headers: { 'x-origin-ts': ts } }, /not a configured DC/],
        [{ topic, partition: 0, key: 'bad-2-dc1', value: 'x', headers: { 'x-origin-ts': '12a' } }, /is not <milliseconds>/],
        [{ topic, partition: 0, key: 'bad-3-dc1', value: 'x', headers: {} }, /no x-origin-ts header/],
        [{ topic, partition: 0, key: 'bad-4-dc2', value: 'x', headers: { 'x-origin-ts': ts } }, /written by dc2, but this topic carries only writes of dc1/],
        [{ topic, partition: 0, key: null, value: 'x', headers: { 'x-origin-ts': ts } }, /no key/]
      ]
      await produce(dc1.bootstrap, [good(1), ...bad.slice(0, 3).map(b => b[0]), good(2), ...bad.slice(3).map(b => b[0]), good(3)])

      const dlq = await readUntil(dc1.bootstrap, [`${topic}.dlq`], rs => rs.length >= bad.length)
      assert.equal(dlq.length, bad.length)
      for (const [i, [record, reason]] of bad.entries()) {
        const d = dlq[i]!
        assert.equal(d.key?.toString() ?? null, record.key)
        assert.equal(d.value?.toString(), 'x')
        assert.match(headerString(d.headers, '__connect.errors.exception.message') ?? '', reason)
        assert.equal(headerString(d.headers, '__connect.errors.topic'), topic)
        assert.equal(headerString(d.headers, '__connect.errors.partition'), '0')
        assert.ok(headerString(d.headers, '__connect.errors.offset') !== undefined)
      }
      const merged = await readUntil(dc1.bootstrap, [`${topic}.merged`], rs => rs.length >= 3)
      assert.deepEqual(merged.map(r => `${r.key?.toString()}=${String(decodeMsgpack(r.value!))}`).sort(), ['good-1=v1', 'good-2=v2', 'good-3=v3'])
    })
  })

  describe('a processor killed with SIGKILL mid-stream', () => {
    const topic = fresh('kill')
    const work = mkdtempSync(join(tmpdir(), 'concord-it-'))
    const options = { topic, dcs: ['dc1', 'dc2'], entities: 3000, writesPerEntityPerDc: 2, partitions: settings.partitions, seed: 11 }
    const writes = makeWrites(options)
    const byDc = recordsByDc(writes, options)
    const oracle = expectedState(writes)
    const procs: ConcordProcess[] = []
    after(async () => { await Promise.all(procs.map(p => p.stop())) })

    it('restarts from its store, loses nothing and converges', async () => {
      await createTopicPair(settings, topic)
      let first = await startDc(settings, 0, topic, work)
      const second = await startDc(settings, 1, topic, work)
      procs.push(second)
      const dc1Records = byDc.get('dc1')!
      const half = Math.floor(dc1Records.length / 2)
      const producing = Promise.all([produce(dc1.bootstrap, dc1Records.slice(0, half)), produce(dc2.bootstrap, byDc.get('dc2')!)])
      // Kill dc1's processor while it is consuming.
      for (;;) {
        const consumed = sum(await first.metrics(), 'concord_records_total{')
        if (consumed > 500) break
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      await first.kill()
      await producing
      await produce(dc1.bootstrap, dc1Records.slice(half))
      first = await startDc(settings, 0, topic, work)
      procs.push(first)
      const total = dc1Records.length + byDc.get('dc2')!.length
      // After a restart the counters start again at zero; dc1 needs only what it had not committed.
      await waitConsumed([second], [total])
      const [m1, m2] = await Promise.all([readMerged(dc1.bootstrap, topic, oracle, 60_000), readMerged(dc2.bootstrap, topic, oracle, 60_000)])
      assert.ok(matchesOracle(m1, oracle), 'dc1 merged state equals the oracle after the crash')
      assert.ok(matchesOracle(m2, oracle), 'dc2 merged state equals the oracle')
      assert.ok(identical(m1, m2))
    })
  })
})
