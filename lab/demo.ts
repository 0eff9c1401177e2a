import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { OutRecord } from '../src/model/record.ts'
import { sum } from './concord-process.ts'
import { up } from './lab.ts'
import { byTopic, conflictLines, mergedProblems, policyWorkload, type PolicyName, type PolicyWorkload } from './policy-workloads.ts'
import { lastByKey, readUntil, type ReadRecord } from './read.ts'
import { createTopicPair, identical, matchesOracle, produce, readMerged, startDc, waitConsumed } from './scenario.ts'
import { labSettings } from './settings.ts'
import { expectedState, makeWrites, recordsByDc } from './workload.ts'
import { H } from '../src/wire/contract.ts'

/**
 * The demo: the lab, one concord per DC, conflicting writes to the same entities in both DCs, then a check
 * that both DCs' merged changelogs are identical and equal to an independent oracle, per merge policy side by
 * side in the same two processes: the lww topic (ties, deletes, late arrivals, duplicates, a few malformed
 * records and replication echoes), and one topic for each other policy (lab/policy-workloads.ts), whose
 * conflict feeds must also hold exactly the expected conflicts. The demo compares the merged state (values
 * and, for a passed-through value, its winning write); test/integration/policies.itest.ts checks more.
 */
const log = (line: string): void => { console.log(line) }
const settings = labSettings()
const entities = Number(process.env.DEMO_ENTITIES ?? 200)
const topic = `demo-${Date.now().toString(36)}`
const work = join(settings.root, '.cache', 'demo', topic)

await up(settings, line => log(`lab: ${line}`))
log(`demo topic ${topic}, ${entities} entities, ${settings.partitions} partitions`)
const POLICIES: readonly PolicyName[] = ['lww-fields', 'counter', 'max', 'min', 'union', 'dc-priority', 'custom']
const workloads = POLICIES.map((policy, i) =>
  policyWorkload({ policy, topic: `${topic}-${policy}`, entities: 60, partitions: settings.partitions, seed: 200 + i }))
for (const t of [topic, ...workloads.map(w => w.topic)]) await createTopicPair(settings, t)
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
const topics = [{ name: topic, policy: 'lww' }, ...workloads.map(w => w.config)]
const procs = await Promise.all([startDc(settings, 0, topics, work), startDc(settings, 1, topics, work)])
log(`concord running: ${procs.map(p => `${p.dc} (http ${p.port}, log ${p.log})`).join(', ')}`)

const options = { topic, dcs: ['dc1', 'dc2'], entities, writesPerEntityPerDc: 3, partitions: settings.partitions }
const writes = makeWrites(options)
const byDc = recordsByDc(writes, options)
// Malformed records: dead-lettered in both DCs (the DLQ takes them, the records around them still merge).
const malformed: OutRecord[] = [
  { topic, partition: 0, key: 'order-0-dc9', value: 'unknown dc', headers: { [H.originTs]: '1', [H.eventId]: 'bad-1' } },
  { topic, partition: 0, key: 'order-0-dc1', value: 'no timestamp', headers: { [H.eventId]: 'bad-2' } },
  { topic, partition: 0, key: 'no-suffix', value: 'bad key', headers: { [H.originTs]: 'yesterday' } }
]
// Echoes: dc1 writes that "came back" in dc1's copy of dc2's topic (as through a replication loop).
const echoes = byDc.get('dc1')!.slice(0, 5).map(r => ({ ...r, topic: `dc2.${topic}` }))

const started = Date.now()
const policyRecords = (dc: string): OutRecord[] => workloads.flatMap(w => w.records.get(dc)!)
await Promise.all([
  produce(settings.dcs[0].bootstrap, [...byDc.get('dc1')!, ...malformed, ...echoes, ...policyRecords('dc1')]),
  produce(settings.dcs[1].bootstrap, [...byDc.get('dc2')!, ...policyRecords('dc2')])
])
const produced = byDc.get('dc1')!.length + byDc.get('dc2')!.length
const policyProduced = policyRecords('dc1').length + policyRecords('dc2').length
log(`produced lww: ${writes.length} writes (${produced} records with duplicates), ${malformed.length} malformed, ${echoes.length} echoes; ` +
  `${workloads.length} more policies: ${policyProduced} records`)

// Quiescence: each DC has consumed every record of both DCs (its own directly, the other's via MM2).
const everything = produced + malformed.length + policyProduced
const metrics = await waitConsumed(procs, [everything + echoes.length, everything])
log(`both DCs consumed everything in ${((Date.now() - started) / 1000).toFixed(1)} s`)
const oracle = expectedState(writes)
const merged = await Promise.all(settings.dcs.map(dc => readMerged(dc.bootstrap, topic, oracle)))
const outputs = await Promise.all(settings.dcs.map(dc => readOutputs(dc.bootstrap, workloads)))
await Promise.all(procs.map(p => p.stop()))

const deletes = [...oracle.values()].filter(w => w.value === null).length
console.log('\nsummary (both concord processes, all topics)')
console.log('  DC    in      applied  stale  duplicate  loop  dead-lettered  merged out')
for (const [i, p] of procs.entries()) {
  const m = metrics[i]!
  const c = (o: string): number => sum(m, 'concord_records_total{', `outcome="${o}"`)
  const cells = [sum(m, 'concord_records_total{'), c('applied'), c('stale'), c('duplicate'), c('loop'), c('dead_lettered'), sum(m, 'concord_emitted_total{', '.merged"')]
  console.log(`  ${p.dc}  ${cells.map((n, j) => String(n).padEnd([7, 8, 6, 10, 5, 14, 0][j]!)).join(' ')}`)
}
console.log('\n  policy       entities  dc1 = dc2  = oracle  conflicts dc1 / dc2 (expected)')
const row = (policy: string, entities: number, same: boolean, ok: boolean, conflicts: string): boolean => {
  console.log(`  ${policy.padEnd(12)} ${String(entities).padEnd(9)} ${(same ? 'yes' : 'NO').padEnd(10)} ${(ok ? 'yes' : 'NO').padEnd(9)} ${conflicts}`)
  return same && ok
}
const lwwConflicts = outputs.map(o => (o.get(`${topic}.conflicts`) ?? []).length)
const results = [row('lww', oracle.size, identical(merged[0]!, merged[1]!), merged.every(m => matchesOracle(m, oracle)), `${lwwConflicts.join(' / ')}`)]
for (const w of workloads) {
  const [m1, m2] = outputs.map(o => lastByKey(o.get(`${w.topic}.merged`) ?? [])) as [Map<string, ReadRecord>, Map<string, ReadRecord>]
  const feeds = outputs.map(o => conflictLines(o.get(`${w.topic}.conflicts`) ?? []))
  const conflictsOk = feeds.every(f => f.join('\n') === w.conflicts.join('\n'))
  const ok = [m1, m2].every(m => mergedProblems(w, m, { sources: false }).length === 0) && conflictsOk
  results.push(row(w.policy, w.expected.size, identical(m1, m2), ok, `${feeds.map(f => f.length).join(' / ')} (${w.conflicts.length})`))
}
console.log(`  lww: ${deletes} of ${oracle.size} entities deleted at the end; several writes per DC within the window, so its`)
console.log('  conflict counts may differ by DC; for the other policies "= oracle" includes the exact conflict feed')
console.log(`\nthe lab is still up (npm run lab -- down stops it); state and logs in ${work}`)
process.exitCode = results.every(r => r) ? 0 : 1

/** A DC's conflict feeds and the other policies' merged topics, once they match (then 2 s more for strays). */
async function readOutputs (bootstrap: string, ws: readonly PolicyWorkload[]): Promise<Map<string, ReadRecord[]>> {
  const names = [`${topic}.conflicts`, ...ws.flatMap(w => [`${w.topic}.merged`, `${w.topic}.conflicts`])]
  const done = (rs: readonly ReadRecord[]): boolean => {
    const by = byTopic(rs)
    return ws.every(w => mergedProblems(w, lastByKey(by.get(`${w.topic}.merged`) ?? []), { sources: false }).length === 0 &&
      (by.get(`${w.topic}.conflicts`) ?? []).length >= w.conflicts.length)
  }
  return byTopic(await readUntil(bootstrap, names, done, { timeoutMs: 30_000, settleMs: 2_000, orWhatIsThere: true }))
}
