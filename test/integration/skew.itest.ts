import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ConcordProcess } from '../../lab/concord-process.ts'
import { lastByKey, readUntil, type ReadRecord } from '../../lab/read.ts'
import { receiptWinners, type Receipted } from '../../lab/receipt-oracle.ts'
import { createTopicPair, startDc } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { decodeMsgpack } from '../../src/codec/msgpack.ts'
import { headerString } from '../../src/model/record.ts'
import { createWriter, type Writer } from '../../src/sdk/writer.ts'
import { H } from '../../src/wire/contract.ts'

/**
 * Clock skew on the real lab: dc1's writer runs 5 minutes ahead, dc2's 5 minutes behind. Both write
 * conflicting versions of the same entities through the writer SDK. Each DC's merged changelog must equal the
 * receipts' last-write-wins winners (the stamps decide, not any DC's clock), and each DC's concord must show
 * the skew per source DC: origin timestamps about +300 s ahead from dc1, about -300 s from dc2, and one
 * warning about dc1 in its log.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const run = Date.now().toString(36)
const SKEW_MS = 5 * 60_000

describe('writers 5 minutes ahead and 5 minutes behind', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-skew-'))
  const topic = `it-skew-${run}`
  let procs: ConcordProcess[] = []
  const writers: Writer[] = []
  const receipted: Receipted[] = []
  let merged: Array<Map<string, ReadRecord>> = []

  before(async () => {
    await createTopicPair(settings, topic)
    for (const [dc, offset] of [[dc1, SKEW_MS], [dc2, -SKEW_MS]] as const) {
      writers.push(await createWriter({
        dc: dc.id,
        brokers: [dc.bootstrap],
        topics: { [topic]: {} },
        physicalClock: () => Date.now() + offset,
        clockFile: join(work, `${dc.id}.clock`)
      }))
    }
    const calls: Array<Promise<void>> = []
    for (let round = 0; round < 4; round++) {
      for (const [i, w] of writers.entries()) {
        for (let e = 0; e < 30; e++) {
          const entity = `e-${e}`
          // dc2 alone writes some entities, so that its (early) stamps win those; some writes are deletes.
          if (i === 0 && e % 5 === 0) continue
          const value = (e + round) % 6 === 0 ? null : { entity, by: w.dc, round }
          calls.push((value === null ? w.delete(topic, entity) : w.put(topic, entity, value)).then(receipt => { receipted.push({ entity, dc: w.dc, value, receipt }) }))
        }
      }
    }
    await Promise.all(calls)
    procs = await Promise.all([startDc(settings, 0, topic, work), startDc(settings, 1, topic, work)])
    const oracle = receiptWinners(receipted)
    const done = (rs: readonly ReadRecord[]): boolean => {
      const last = lastByKey(rs)
      return [...oracle].every(([k, r]) => headerString(last.get(k)?.headers ?? {}, H.eventId) === r.receipt.eventId)
    }
    merged = await Promise.all([dc1, dc2].map(async dc =>
      lastByKey(await readUntil(dc.bootstrap, [`${topic}.merged`], done, { timeoutMs: 60_000, orWhatIsThere: true }))))
  })
  after(async () => {
    await Promise.all(writers.map(w => w.close()))
    await Promise.all(procs.map(p => p.stop()))
    rmSync(work, { recursive: true, force: true })
  })

  it('converges in both DCs on the writes with the greatest stamps, whatever the clocks', () => {
    const oracle = receiptWinners(receipted)
    assert.ok([...oracle.values()].some(r => r.dc === 'dc2'), 'dc2 wins the entities only it wrote')
    const expected = [...oracle].map(([e, r]) => `${e} ${r.value === null ? 'deleted' : JSON.stringify(r.value)} ${r.receipt.eventId}`).sort()
    for (const [i, m] of merged.entries()) {
      const got = [...oracle.keys()].map(e => {
        const rec = m.get(e)
        return rec === undefined ? `${e} missing` : `${e} ${rec.value === null ? 'deleted' : JSON.stringify(decodeMsgpack(rec.value))} ${headerString(rec.headers, H.eventId)}`
      }).sort()
      assert.deepEqual(got, expected, settings.dcs[i]!.id)
    }
  })

  it('shows each source DC\'s skew in each DC: dc1 about 300 s ahead, dc2 about 300 s behind', async () => {
    const sent = { dc1: receipted.filter(r => r.dc === 'dc1').length, dc2: receipted.filter(r => r.dc === 'dc2').length }
    for (const p of procs) {
      const m = await p.metrics()
      const max = (dc: string): number => m.get(`concord_origin_ahead_max_seconds{source_dc="${dc}"}`) ?? NaN
      assert.ok(max('dc1') > 290 && max('dc1') < 301, `${p.dc} sees dc1 ${max('dc1')} s ahead`)
      assert.ok(max('dc2') < -299 && max('dc2') > -400, `${p.dc} sees dc2 ${max('dc2')} s ahead`)
      // Every record from dc2 sits at or below the -60 s bucket; none from dc1 below +60 s.
      assert.equal(m.get('concord_origin_ahead_seconds_bucket{le="-60",source_dc="dc2"}'), sent.dc2, `${p.dc}: dc2's records at -60 s or below`)
      assert.equal(m.get('concord_origin_ahead_seconds_bucket{le="60",source_dc="dc1"}'), 0, `${p.dc}: dc1's records above 60 s`)
      assert.equal(m.get('concord_origin_ahead_seconds_count{source_dc="dc1"}'), sent.dc1)
    }
  })

  it('warns once per source DC ahead, in each DC\'s log, and never about the one behind', () => {
    for (const p of procs) {
      const warnings = readFileSync(p.log, 'utf8').split('\n').filter(l => l.includes('are ahead of this processor\'s clock'))
      assert.equal(warnings.length, 1, `${p.dc}: ${warnings.join('\n')}`)
      assert.match(warnings[0]!, /"sourceDc":"dc1"/)
    }
  })
})
