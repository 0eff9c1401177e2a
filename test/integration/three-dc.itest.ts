import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sum, type ConcordProcess } from '../../lab/concord-process.ts'
import { down, isUp, up } from '../../lab/lab.ts'
import { createTopicPair, identical, matchesOracle, produce, readMerged, startDc, waitConsumed } from '../../lab/scenario.ts'
import { labSettings, type Datacenter } from '../../lab/settings.ts'
import { peersOf } from '../../lab/topology.ts'
import { expectedState, makeWrites, recordsByDc, type Write } from '../../lab/workload.ts'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { headerString, type OutRecord } from '../../src/model/record.ts'
import { H, originHeaders, suffixedKey } from '../../src/wire/contract.ts'
import { entityPartition } from '../../src/wire/partitioner.ts'

/**
 * concord on three datacenters: a lab of its own (three brokers, one MirrorMaker 2 with six flows) beside the
 * shared two-DC lab, on other ports and another run folder, so the rest of the suite is not disturbed. One
 * concord per DC, each with the two others as peers, all three DCs writing conflicting versions of the same
 * entities at once, with ties, deletes and duplicates; into every remote copy in every DC go records written
 * by that DC itself, as if they had come back round a loop. The oracle is lab/workload.ts `expectedState`,
 * written independently of src/; the loops are left out of it, as concord must drop them.
 */
const settings = labSettings({
  ...process.env,
  LAB_DCS: '3',
  LAB_DIR: '.cache/lab-3dc',
  // Below Linux's ephemeral range (32768+), so a client's outgoing port never takes one first.
  LAB_DC1_PORT: '31092',
  LAB_DC2_PORT: '31192',
  LAB_DC3_PORT: '31292',
  // Six MM2 flows start more slowly on two cores than two do.
  LAB_READY_TIMEOUT_S: '300'
})
const DCS = settings.dcs.map(d => d.id)
const topic = `it-three-dc-${Date.now().toString(36)}`
/** Per remote topic: this many copies of the DC's own records, and as many new writes that would win if merged. */
const LOOPS_EACH = 10
const log = (line: string): void => { console.log(`lab-3dc: ${line}`) }

/** Records of `dc` written straight into its own copy of `peer`'s topic: each is a loop. */
function loopsInto (dc: Datacenter, peer: Datacenter, own: readonly OutRecord[], ts: number): OutRecord[] {
  const echoes = own.slice(0, LOOPS_EACH).map(r => ({ ...r, topic: `${peer.id}.${topic}` }))
  const newer = Array.from({ length: LOOPS_EACH }, (_, i): OutRecord => {
    const entity = `order-${i}`
    return {
      topic: `${peer.id}.${topic}`,
      partition: entityPartition(entity, settings.partitions),
      key: suffixedKey(entity, dc.id),
      value: encodeMsgpack({ id: entity, loop: `${dc.id} via ${peer.id}` }),
      headers: originHeaders({ dc: dc.id, ts, counter: 0, eventId: randomUUID() })
    }
  })
  return [...echoes, ...newer]
}

/** How the oracle's winners were decided: by a tie on (ts, counter) broken by DC, or by event id within a DC. */
function tieBreaks (writes: readonly Write[], oracle: ReadonlyMap<string, Write>): { byDc: number, byEventId: number } {
  let byDc = 0
  let byEventId = 0
  for (const w of writes) {
    const win = oracle.get(w.entity)!
    if (w === win || w.ts !== win.ts || w.counter !== win.counter) continue
    if (w.dc === win.dc) byEventId++
    else byDc++
  }
  return { byDc, byEventId }
}

/** concord_records_total of one input topic and outcome. */
function outcomeOf (metrics: ReadonlyMap<string, number>, input: string, outcome: string): number {
  let n = 0
  for (const [k, v] of metrics) {
    if (k.startsWith('concord_records_total{') && k.includes(`topic="${input}"`) && k.includes(`outcome="${outcome}"`)) n += v
  }
  return n
}

describe('concord on three datacenters', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-3dc-'))
  const options = { topic, dcs: DCS, entities: 300, writesPerEntityPerDc: 3, partitions: settings.partitions, seed: 23 }
  const writes = makeWrites(options)
  const byDc = recordsByDc(writes, options)
  const oracle = expectedState(writes)
  const own = (dc: Datacenter): OutRecord[] => byDc.get(dc.id)!
  const loopTs = Date.now()
  const loops = new Map(settings.dcs.map(dc => [dc.id, peersOf(settings, dc).flatMap(peer => loopsInto(dc, peer, own(dc), loopTs))]))
  const total = [...byDc.values()].reduce((n, rs) => n + rs.length, 0)
  // Each DC consumes every DC's records once (its own locally, the others' through MM2) and its own loops.
  const expected = settings.dcs.map(dc => total + loops.get(dc.id)!.length)
  let startedHere = false
  let procs: ConcordProcess[] = []
  let merged: Awaited<ReturnType<typeof readMerged>>[] = []
  let metrics: Array<Map<string, number>> = []

  before(async () => {
    if (!isUp(settings)) {
      await up(settings, log)
      startedHere = true
    }
    await createTopicPair(settings, topic)
    procs = await Promise.all(settings.dcs.map((_, i) => startDc(settings, i, topic, work)))
    await Promise.all(settings.dcs.map(dc => produce(dc.bootstrap, [...own(dc), ...loops.get(dc.id)!])))
    await waitConsumed(procs, expected, 240_000)
    merged = await Promise.all(settings.dcs.map(dc => readMerged(dc.bootstrap, topic, oracle, 60_000)))
    metrics = await Promise.all(procs.map(p => p.metrics()))
  })
  after(async () => {
    await Promise.all(procs.map(p => p.stop()))
    if (startedHere) await down(settings, log)
  })

  it('has a workload with conflicts all three DCs take part in, ties, deletes and duplicates', () => {
    const ties = tieBreaks(writes, oracle)
    assert.ok(ties.byDc > 0, `winners decided by DC on a (ts, counter) tie: ${ties.byDc}`)
    assert.ok(ties.byEventId > 0, `winners decided by event id within a DC: ${ties.byEventId}`)
    assert.ok([...oracle.values()].some(w => w.value === null), 'some entities end deleted')
    for (const dc of DCS) assert.ok([...oracle.values()].some(w => w.dc === dc), `some winners are ${dc}'s`)
    assert.ok(total > writes.length, `some records are produced twice: ${total - writes.length}`)
  })

  it('converges: the merged changelog of every DC equals the oracle, the same in all three', () => {
    for (const [i, m] of merged.entries()) {
      assert.ok(matchesOracle(m, oracle), `${DCS[i]} merged state equals the oracle`)
      for (const r of m.values()) assert.equal(headerString(r.headers, H.mergedBy), DCS[i])
    }
    assert.ok(identical(merged[0]!, merged[1]!), 'dc1 and dc2 agree')
    assert.ok(identical(merged[0]!, merged[2]!), 'dc1 and dc3 agree')
  })

  it('drops every loop, in every remote topic of every DC, and dead-letters nothing', () => {
    for (const [i, dc] of settings.dcs.entries()) {
      const m = metrics[i]!
      for (const peer of peersOf(settings, dc)) {
        assert.equal(outcomeOf(m, `${peer.id}.${topic}`, 'loop'), 2 * LOOPS_EACH, `${dc.id} drops its own records on ${peer.id}.${topic}`)
      }
      assert.equal(outcomeOf(m, topic, 'loop'), 0, `${dc.id} finds no loop on its local topic`)
      assert.equal(sum(m, 'concord_records_total{', 'outcome="dead_lettered"'), 0, `${dc.id} dead-letters nothing`)
      assert.equal(sum(m, 'concord_records_total{', 'outcome="too_late"'), 0, `${dc.id} finds nothing too late`)
      assert.equal(sum(m, 'concord_records_total{', 'outcome="duplicate"') > 0, true, `${dc.id} sees duplicates`)
    }
  })

  it('receives each record once per DC: one path per pair, no multi-hop copy, no replicated output', async () => {
    // Read after the merged changelogs settled: a second path (dc1.dc2.<topic>) would have added records by now.
    const now = await Promise.all(procs.map(p => p.metrics()))
    assert.deepEqual(now.map(m => sum(m, 'concord_records_total{')), expected)
    for (const dc of settings.dcs) {
      const admin = await connectAdmin({ brokers: [dc.bootstrap], clientId: 'concord-test' })
      const topics = await admin.listTopics().finally(() => admin.close())
      // MM2 replicates heartbeats along every path by design (how it traces its flows); nothing else goes two hops.
      assert.deepEqual(topics.filter(t => /^dc\d\.dc\d\./.test(t) && !t.endsWith('.heartbeats')), [], `no multi-hop remote topics in ${dc.id}`)
      assert.deepEqual(topics.filter(t => /^dc\d\..*\.(merged|dlq|conflicts)$/.test(t)), [], `no replicated outputs in ${dc.id}`)
      const copies = peersOf(settings, dc).map(p => `${p.id}.${topic}`)
      assert.deepEqual(topics.filter(t => t.endsWith(`.${topic}`) && /^dc\d\./.test(t)).sort(), copies, `${dc.id} holds one copy per peer`)
    }
  })
})
