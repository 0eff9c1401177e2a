import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectAdmin } from '../src/kafka/admin.ts'
import { connectProducer } from '../src/kafka/producer.ts'
import { headerString, type OutRecord } from '../src/kafka/records.ts'
import { startConcord, sum, type ConcordProcess } from './concord-process.ts'
import { up } from './lab.ts'
import { lastByKey, readUntil } from './read.ts'
import { labSettings } from './settings.ts'
import { expectedState, makeWrites, recordsByDc, type Write } from './workload.ts'

/**
 * The demo: the lab, one concord per DC, conflicting writes to the same entities in both DCs (ties, deletes,
 * late arrivals, duplicates, a few malformed records and replication echoes), then a check that both DCs'
 * merged changelogs are identical and equal to an independent oracle.
 */
const log = (line: string): void => { console.log(line) }
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const entities = Number(process.env.DEMO_ENTITIES ?? 200)
const topic = `demo-${Date.now().toString(36)}`
const work = join(settings.root, '.cache', 'demo', topic)

await up(settings, line => log(`lab: ${line}`))
log(`demo topic ${topic}, ${entities} entities, ${settings.partitions} partitions`)
for (const [here, there] of [[dc1, dc2], [dc2, dc1]] as const) {
  const admin = await connectAdmin({ brokers: [here.bootstrap], clientId: 'concord-demo' })
  await admin.createTopics([{ topic, partitions: settings.partitions }, { topic: `${there.id}.${topic}`, partitions: settings.partitions }])
  await admin.close()
}

rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
const procs: ConcordProcess[] = await Promise.all(settings.dcs.map((dc, i) => startConcord({
  dc: dc.id, peers: [settings.dcs[1 - i]!.id], brokers: dc.bootstrap, topics: [{ name: topic, policy: 'lww' }], dir: join(work, dc.id)
})))
log(`concord running: ${procs.map(p => `${p.dc} (http ${p.port}, log ${p.log})`).join(', ')}`)

const options = { topic, dcs: ['dc1', 'dc2'], entities, writesPerEntityPerDc: 3, partitions: settings.partitions }
const writes = makeWrites(options)
const byDc = recordsByDc(writes, options)
// Malformed records: dead-lettered in both DCs (the DLQ takes them, the records around them still merge).
const malformed: OutRecord[] = [
  { topic, partition: 0, key: 'order-0-dc9', value: 'unknown dc', headers: { 'x-origin-ts': '1', 'x-event-id': 'bad-1' } },
  { topic, partition: 0, key: 'order-0-dc1', value: 'no timestamp', headers: { 'x-event-id': 'bad-2' } },
  { topic, partition: 0, key: 'no-suffix', value: 'bad key', headers: { 'x-origin-ts': 'yesterday' } }
]
// Echoes: dc1 writes that "came back" in dc1's copy of dc2's topic (as through a replication loop).
const echoes = byDc.get('dc1')!.slice(0, 5).map(r => ({ ...r, topic: `dc2.${topic}` }))

const started = Date.now()
for (const [i, dc] of settings.dcs.entries()) {
  const producer = await connectProducer({ brokers: [dc.bootstrap], clientId: 'concord-demo' })
  await producer.send([...byDc.get(dc.id)!, ...(i === 0 ? [...malformed, ...echoes] : [])])
  await producer.close()
}
const produced = byDc.get('dc1')!.length + byDc.get('dc2')!.length
log(`produced ${writes.length} writes (${produced} records with duplicates), ${malformed.length} malformed, ${echoes.length} echoes`)

// Quiescence: each DC has consumed every record of both DCs (its own directly, the other's via MM2).
const expectedIn = [produced + malformed.length + echoes.length, produced + malformed.length]
for (;;) {
  const counts = await Promise.all(procs.map(async p => sum(await p.metrics(), 'concord_records_total{')))
  if (counts.every((c, i) => c >= expectedIn[i]!)) break
  if (Date.now() - started > 120_000) throw new Error(`no quiescence after 120 s: consumed ${counts.join(' / ')} of ${expectedIn.join(' / ')}`)
  await sleep(250)
}
log(`both DCs consumed everything in ${((Date.now() - started) / 1000).toFixed(1)} s`)

const oracle = expectedState(writes)
const agrees = (got: ReadonlyMap<string, { value: Buffer | null, headers: Parameters<typeof headerString>[0] }>, want: ReadonlyMap<string, Write>): boolean =>
  got.size === want.size && [...want].every(([entity, w]) => {
    const r = got.get(entity)
    return r !== undefined && headerString(r.headers, 'x-event-id') === w.eventId &&
      (w.value === null ? r.value === null : r.value?.equals(w.value) === true)
  })
const merged = await Promise.all(settings.dcs.map(async dc => lastByKey(await readUntil(dc.bootstrap, [`${topic}.merged`],
  rs => agrees(lastByKey(rs), oracle), { timeoutMs: 30_000 }).catch(async () => readUntil(dc.bootstrap, [`${topic}.merged`], () => true, { settleMs: 2_000 })))))
const metrics = await Promise.all(procs.map(p => p.metrics()))
await Promise.all(procs.map(p => p.stop()))

const identical = merged[0]!.size === merged[1]!.size && [...merged[0]!].every(([k, r]) => {
  const o = merged[1]!.get(k)
  return o !== undefined && headerString(o.headers, 'x-event-id') === headerString(r.headers, 'x-event-id') &&
    (r.value === null ? o.value === null : o.value?.equals(r.value) === true)
})
const oracleOk = merged.every(m => agrees(m, oracle))
const deletes = [...oracle.values()].filter(w => w.value === null).length

console.log('\nsummary')
console.log('  DC    in      applied  stale  duplicate  loop  dead-lettered  merged out')
for (const [i, p] of procs.entries()) {
  const m = metrics[i]!
  const c = (o: string): number => sum(m, 'concord_records_total{', `outcome="${o}"`)
  const out = sum(m, 'concord_emitted_total{')
  console.log(`  ${p.dc}  ${String(sum(m, 'concord_records_total{')).padEnd(7)} ${String(c('applied')).padEnd(8)} ${String(c('stale')).padEnd(6)} ${String(c('duplicate')).padEnd(10)} ${String(c('loop')).padEnd(5)} ${String(c('dead_lettered')).padEnd(14)} ${out - c('dead_lettered')}`)
}
console.log(`  entities ${oracle.size} (${deletes} deleted at the end)`)
console.log(`  merged state identical in dc1 and dc2: ${identical ? 'yes' : 'NO'}`)
console.log(`  equal to the independent oracle:       ${oracleOk ? 'yes' : 'NO'}`)
console.log(`\nthe lab is still up (npm run lab -- down stops it); state and logs in ${work}`)
process.exitCode = identical && oracleOk ? 0 : 1
