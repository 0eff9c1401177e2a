import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { OutRecord } from '../src/model/record.ts'
import { sum } from './concord-process.ts'
import { up } from './lab.ts'
import { createTopicPair, identical, matchesOracle, produce, readMerged, startDc, waitConsumed } from './scenario.ts'
import { labSettings } from './settings.ts'
import { expectedState, makeWrites, recordsByDc } from './workload.ts'
import { H } from '../src/wire/contract.ts'

/**
 * The demo: the lab, one concord per DC, conflicting writes to the same entities in both DCs (ties, deletes,
 * late arrivals, duplicates, a few malformed records and replication echoes), then a check that both DCs'
 * merged changelogs are identical and equal to an independent oracle.
 */
const log = (line: string): void => { console.log(line) }
const settings = labSettings()
const entities = Number(process.env.DEMO_ENTITIES ?? 200)
const topic = `demo-${Date.now().toString(36)}`
const work = join(settings.root, '.cache', 'demo', topic)

await up(settings, line => log(`lab: ${line}`))
log(`demo topic ${topic}, ${entities} entities, ${settings.partitions} partitions`)
await createTopicPair(settings, topic)
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
const procs = await Promise.all([startDc(settings, 0, topic, work), startDc(settings, 1, topic, work)])
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
await produce(settings.dcs[0].bootstrap, [...byDc.get('dc1')!, ...malformed, ...echoes])
await produce(settings.dcs[1].bootstrap, byDc.get('dc2')!)
const produced = byDc.get('dc1')!.length + byDc.get('dc2')!.length
log(`produced ${writes.length} writes (${produced} records with duplicates), ${malformed.length} malformed, ${echoes.length} echoes`)

// Quiescence: each DC has consumed every record of both DCs (its own directly, the other's via MM2).
const metrics = await waitConsumed(procs, [produced + malformed.length + echoes.length, produced + malformed.length])
log(`both DCs consumed everything in ${((Date.now() - started) / 1000).toFixed(1)} s`)
const oracle = expectedState(writes)
const merged = await Promise.all(settings.dcs.map(dc => readMerged(dc.bootstrap, topic, oracle)))
await Promise.all(procs.map(p => p.stop()))

const same = identical(merged[0]!, merged[1]!)
const oracleOk = merged.every(m => matchesOracle(m, oracle))
const deletes = [...oracle.values()].filter(w => w.value === null).length
console.log('\nsummary')
console.log('  DC    in      applied  stale  duplicate  loop  dead-lettered  merged out')
for (const [i, p] of procs.entries()) {
  const m = metrics[i]!
  const c = (o: string): number => sum(m, 'concord_records_total{', `outcome="${o}"`)
  const cells = [sum(m, 'concord_records_total{'), c('applied'), c('stale'), c('duplicate'), c('loop'), c('dead_lettered'), sum(m, 'concord_emitted_total{') - c('dead_lettered')]
  console.log(`  ${p.dc}  ${cells.map((n, j) => String(n).padEnd([7, 8, 6, 10, 5, 14, 0][j]!)).join(' ')}`)
}
console.log(`  entities ${oracle.size} (${deletes} deleted at the end)`)
console.log(`  merged state identical in dc1 and dc2: ${same ? 'yes' : 'NO'}`)
console.log(`  equal to the independent oracle:       ${oracleOk ? 'yes' : 'NO'}`)
console.log(`\nthe lab is still up (npm run lab -- down stops it); state and logs in ${work}`)
process.exitCode = same && oracleOk ? 0 : 1
