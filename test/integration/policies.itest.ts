import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type ConcordProcess } from '../../lab/concord-process.ts'
import { byTopic, conflictLines, mergedProblems, newestWrite, POLICIES, policyWorkload, writeRecord, type PolicyWorkload, type PolicyWrite } from '../../lab/policy-workloads.ts'
import { lastByKey, readUntil, type ReadRecord } from '../../lab/read.ts'
import { createTopicPair, produce, startDc, waitConsumed } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { headerString } from '../../src/model/record.ts'
import { DLQ, H } from '../../src/wire/contract.ts'

/**
 * Every merge policy on the real lab: one fresh topic per policy, one concord per DC consuming all of them,
 * writes from both DCs to the same entities. Each DC's merged changelog must equal the policy's oracle
 * (lab/policy-workloads.ts), with the same records in both DCs; each DC's conflict feed must hold exactly the
 * expected conflicts, byte for byte; a poison value written in dc1 to every topic, and a count that is no
 * integer written in dc2 to the counter topic, must be dead-lettered in both DCs and never merged.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const run = Date.now().toString(36)
const POISON = Buffer.from([0xc1, 0xc1])

type Outputs = ReadonlyMap<string, ReadRecord[]>

describe('every merge policy on two datacenters', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-'))
  const workloads = POLICIES.map((policy, i) =>
    policyWorkload({ policy, topic: `it-${policy}-${run}`, entities: 60, partitions: settings.partitions, seed: 100 + i }))
  const poison = new Map(workloads.map(w => [w.topic, newestWrite(w, 'dc1', POISON, 'poison')]))
  const counter = workloads.find(w => w.policy === 'counter')!
  const badCount = newestWrite(counter, 'dc2', encodeMsgpack({ sku: 'e-0', qty: 1.5, by: 'dc2' }), 'bad-count')
  const expectedDlq = (w: PolicyWorkload): number => w === counter ? 2 : 1
  const outputTopics = workloads.flatMap(w => [`${w.topic}.merged`, `${w.topic}.conflicts`, `${w.topic}.dlq`])
  let procs: ConcordProcess[] = []
  /** Per DC: every record of every output topic, by topic. */
  let outputs: Outputs[] = []
  const of = (dc: number, topic: string): ReadRecord[] => outputs[dc]!.get(topic) ?? []

  // Done when the merged values match (x-merged-sources is checked by the tests below, after the settle time).
  const complete = (records: readonly ReadRecord[]): boolean => {
    const by = byTopic(records)
    return workloads.every(w =>
      mergedProblems(w, lastByKey(by.get(`${w.topic}.merged`) ?? []), { sources: false }).length === 0 &&
      (by.get(`${w.topic}.conflicts`) ?? []).length >= w.conflicts.length &&
      (by.get(`${w.topic}.dlq`) ?? []).length >= expectedDlq(w))
  }

  /** A DC's outputs once they hold everything expected (then 3 s more, for records that should not come). */
  async function readOutputs (bootstrap: string): Promise<Outputs> {
    return byTopic(await readUntil(bootstrap, outputTopics, complete, { timeoutMs: 60_000, settleMs: 3_000, orWhatIsThere: true }))
  }

  before(async () => {
    for (const w of workloads) await createTopicPair(settings, w.topic)
    const topics = workloads.map(w => w.config)
    procs = await Promise.all([startDc(settings, 0, topics, work), startDc(settings, 1, topics, work)])
    const inDc1 = [...workloads.flatMap(w => w.records.get('dc1')!), ...workloads.map(w => writeRecord(w.topic, settings.partitions, poison.get(w.topic)!))]
    const inDc2 = [...workloads.flatMap(w => w.records.get('dc2')!), writeRecord(counter.topic, settings.partitions, badCount)]
    await Promise.all([produce(dc1.bootstrap, inDc1), produce(dc2.bootstrap, inDc2)])
    // Each DC consumes its own records and the other's via MM2.
    const total = inDc1.length + inDc2.length
    await waitConsumed(procs, [total, total])
    outputs = await Promise.all([readOutputs(dc1.bootstrap), readOutputs(dc2.bootstrap)])
  })
  after(async () => { await Promise.all(procs.map(p => p.stop())) })

  for (const w of workloads) {
    describe(`policy ${w.policy}`, () => {
      it('merges to the oracle in dc1 and in dc2, with the same last record per entity in both', () => {
        const [m1, m2] = [0, 1].map(dc => lastByKey(of(dc, `${w.topic}.merged`))) as [Map<string, ReadRecord>, Map<string, ReadRecord>]
        const [t1, t2] = [recordsText(m1), recordsText(m2)]
        const mergedBy = [...m1.values()].every(r => headerString(r.headers, H.mergedBy) === 'dc1') &&
          [...m2.values()].every(r => headerString(r.headers, H.mergedBy) === 'dc2')
        // One comparison, so that a failure shows every difference at once.
        assert.deepEqual({
          'dc1 differs from the oracle': mergedProblems(w, m1).slice(0, 12),
          'dc2 differs from the oracle': mergedProblems(w, m2).slice(0, 12),
          'only in dc1': t1.filter(t => !t2.includes(t)).slice(0, 6),
          'only in dc2': t2.filter(t => !t1.includes(t)).slice(0, 6),
          'x-merged-by names the local DC': mergedBy
        }, { 'dc1 differs from the oracle': [], 'dc2 differs from the oracle': [], 'only in dc1': [], 'only in dc2': [], 'x-merged-by names the local DC': true })
      })

      it(w.conflicts.length === 0 ? 'reports no conflict' : `reports exactly the ${w.conflicts.length} expected conflicts, byte-identical in both DCs`, () => {
        assert.deepEqual(conflictLines(of(0, `${w.topic}.conflicts`)), w.conflicts, 'dc1')
        assert.deepEqual(conflictLines(of(1, `${w.topic}.conflicts`)), w.conflicts, 'dc2')
      })

      it('dead-letters a poison value written in dc1 in both DCs and never merges it', () => {
        const p = poison.get(w.topic)!
        for (const [dc, source] of [[0, w.topic], [1, `dc1.${w.topic}`]] as const) {
          const dead = of(dc, `${w.topic}.dlq`).filter(r => headerString(r.headers, H.eventId) === p.eventId)
          assert.equal(dead.length, 1, `one dead letter in ${settings.dcs[dc].id}`)
          const d = dead[0]!
          assert.equal(d.key?.toString(), 'e-0-dc1')
          assert.ok(d.value?.equals(POISON))
          assert.match(headerString(d.headers, DLQ.message) ?? '', /^value is not valid msgpack/)
          assert.equal(headerString(d.headers, DLQ.topic), source)
          assert.equal(headerString(d.headers, DLQ.stage), 'parse')
          assert.equal(headerString(d.headers, DLQ.dc), settings.dcs[dc].id)
          assert.equal(of(dc, `${w.topic}.dlq`).length, expectedDlq(w), 'nothing else dead-lettered')
          assert.deepEqual(mentions(of(dc, `${w.topic}.merged`), p), [], 'never merged')
        }
      })
    })
  }

  it('counter: dead-letters a count that is no integer, written in dc2, in both DCs (stage merge)', () => {
    for (const [dc, source] of [[0, `dc2.${counter.topic}`], [1, counter.topic]] as const) {
      const dead = of(dc, `${counter.topic}.dlq`).filter(r => headerString(r.headers, H.eventId) === badCount.eventId)
      assert.equal(dead.length, 1, `one dead letter in ${settings.dcs[dc].id}`)
      const d = dead[0]!
      assert.equal(d.key?.toString(), 'e-0-dc2')
      assert.ok(d.value?.equals(badCount.value!))
      assert.match(headerString(d.headers, DLQ.message) ?? '', /counter field "qty" must be a safe integer/)
      assert.equal(headerString(d.headers, DLQ.topic), source)
      assert.equal(headerString(d.headers, DLQ.stage), 'merge')
      assert.deepEqual(mentions(of(dc, `${counter.topic}.merged`), badCount), [], 'never merged')
    }
  })
})

/** Each merged record as text (key, value bytes, headers other than x-merged-by), sorted, to compare DCs. */
function recordsText (merged: ReadonlyMap<string, ReadRecord>): string[] {
  return [...merged].map(([key, r]) => {
    const headers = Object.keys(r.headers).filter(h => h !== H.mergedBy).sort().map(h => `${h}=${headerString(r.headers, h)}`)
    return `${key} ${r.value?.toString('hex') ?? 'null'} ${headers.join(' ')}`
  }).sort()
}

/** The merged records (all, not only the last per entity) that carry `w`'s bytes or name its event. */
function mentions (records: readonly ReadRecord[], w: PolicyWrite): string[] {
  return records
    .filter(r => r.value?.equals(w.value!) === true || headerString(r.headers, H.eventId) === w.eventId ||
      (headerString(r.headers, H.mergedSources) ?? '').includes(w.eventId))
    .map(r => `${r.key?.toString()} at offset ${r.offset}`)
}
