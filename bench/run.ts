import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runE2e, type LatencyStats } from './e2e.ts'
import { runEngineCase, type EngineResult } from './engine.ts'
import { machine, table } from './machine.ts'
import { runTwoDc } from './two-dc.ts'

/**
 * `npm run bench -- [suite] [options]`. Suites: `engine` (no Kafka), `e2e` (dc1 of the lab), `two-dc` (the
 * lab with MM2), `all` (the default: the three in turn). Each prints a table and writes JSON to
 * bench/results/. See bench/README.md.
 * engine: --entities 10000,1000000,10000000  --records N  --runs N  --batch N  --synchronous normal|full
 *   --cache-mb N  --variants lww-header,lww-value-ts
 * e2e: --records N  --entities N  --seconds S  --rate R;  two-dc: --rate R  --seconds S
 * --smoke: tiny sizes, to keep the harness working in CI.
 */
const args = process.argv.slice(2)
const suite = args[0] === undefined || args[0].startsWith('--') ? 'all' : args[0]
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback
}
const smoke = args.includes('--smoke')
const num = (name: string, fallback: string): number => {
  const n = Number(opt(name, fallback))
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got "${opt(name, fallback)}"`)
  return n
}
const log = (line: string): void => { console.log(line) }
const resultsDir = join(import.meta.dirname, 'results')

function save (name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}

async function engine (): Promise<void> {
  const entities = opt('entities', smoke ? '1000' : '10000,1000000,10000000').split(',').map(n => {
    if (!(Number(n) > 0)) throw new Error(`--entities must be positive numbers separated by commas, got "${n}"`)
    return Number(n)
  })
  const records = num('records', smoke ? '20000' : '1000000')
  const runs = num('runs', smoke ? '1' : '3')
  const batchSize = num('batch', '2000')
  const cacheMb = num('cache-mb', '64')
  const synchronous = opt('synchronous', 'normal')
  if (synchronous !== 'normal' && synchronous !== 'full') throw new Error(`--synchronous must be normal or full, got "${synchronous}"`)
  const variants = opt('variants', 'lww-header,lww-value-ts').split(',').map(v => {
    if (v !== 'lww-header' && v !== 'lww-value-ts') throw new Error(`--variants must list lww-header and/or lww-value-ts, got "${v}"`)
    return v
  })
  const results: EngineResult[] = []
  for (const variant of variants) {
    for (const n of entities) {
      log(`engine ${variant}, ${n.toLocaleString('en-US')} entities, ${records.toLocaleString('en-US')} records x ${runs}, batch ${batchSize}, synchronous=${synchronous}, cache ${cacheMb} MiB`)
      results.push(runEngineCase({ entities: n, records, batchSize, runs, variant, synchronous, cacheMb }, log))
    }
  }
  const m = machine()
  console.log(`\nengine (no Kafka; WAL, synchronous=${synchronous}; one transaction per ${batchSize}-record batch) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  console.log(table(results.map(r => ({
    variant: r.variant,
    entities: r.entities,
    'records/s (median)': Math.round(r.medianRecordsPerSecond),
    'min..max': `${Math.round(Math.min(...r.recordsPerSecond)).toLocaleString('en-US')}..${Math.round(Math.max(...r.recordsPerSecond)).toLocaleString('en-US')}`,
    'µs/record': r.usPerRecord,
    'parse µs': r.stageUsPerRecord.parse!,
    'load µs': r.stageUsPerRecord['load state']!,
    'merge+commit µs': r.stageUsPerRecord['merge + commit']!,
    'db MiB': Math.round(r.dbMiB),
    'max RSS MiB': Math.round(r.maxRssMiB)
  }))))
  log(`\nsaved ${save('engine', { machine: m, results })}`)
}

const ms = (x: number): string => x.toFixed(1)

async function e2e (): Promise<void> {
  const options = {
    records: num('records', smoke ? '20000' : '1000000'),
    entities: num('entities', smoke ? '2000' : '100000'),
    seconds: num('seconds', smoke ? '3' : '20'),
    ...(args.includes('--rate') ? { rate: num('rate', '') } : {})
  }
  const r = await runE2e(options, log)
  const m = machine()
  console.log(`\ne2e on dc1 (single broker, ${r.partitions} partitions; ${options.records.toLocaleString('en-US')} records, ${options.entities.toLocaleString('en-US')} entities, ~${Math.round(r.meanValueBytes)}-byte msgpack values) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  console.log(table([
    { measure: 'bare consumer (transport ceiling)', 'records/s': Math.round(r.bare.recordsPerSecond), 'vs bare': '1.00', 'peak RSS MiB': '' },
    { measure: 'codec alone (msgpack decode+encode)', 'records/s': Math.round(r.codec.recordsPerSecond), 'vs bare': (r.codec.recordsPerSecond / r.bare.recordsPerSecond).toFixed(2), 'peak RSS MiB': '' },
    { measure: 'concord (consume, merge, commit, emit)', 'records/s': Math.round(r.concord.recordsPerSecond), 'vs bare': r.concordOverBare.toFixed(2), 'peak RSS MiB': Math.round(r.concord.peakRssMiB) }
  ]))
  console.log('\nlatency from the write (ms): to the merged record received, and to the input record received by a plain consumer (Kafka alone)')
  console.log(table(r.latency.flatMap(l => [
    { path: 'write -> merged', stats: l as LatencyStats, l },
    { path: 'write -> input (transport)', stats: l.transport, l }
  ]).map(({ path, stats, l }) => ({
    phase: l.phase,
    path,
    'target/s': l.targetRate === Infinity ? 'max' : l.targetRate,
    'achieved/s': Math.round(l.achievedRate),
    produced: l.produced,
    received: stats.count,
    p50: ms(stats.p50),
    p99: ms(stats.p99),
    p999: ms(stats.p999),
    max: ms(stats.max)
  }))))
  log(`concord peak RSS over the whole run ${Math.round(r.peakRssMiBAtEnd)} MiB`)
  log(`\nsaved ${save('e2e', { machine: m, options, result: r })}`)
}

async function twoDc (): Promise<void> {
  const options = { rate: num('rate', smoke ? '500' : '2000'), seconds: num('seconds', smoke ? '3' : '20') }
  const r = await runTwoDc(options, log)
  const m = machine()
  const row = (path: string, s: { count?: number, p50: number, p99: number, p999: number, max?: number }): Record<string, string | number> =>
    ({ path, count: s.count ?? '', p50: ms(s.p50), p99: ms(s.p99), p999: ms(s.p999), max: s.max === undefined ? '' : ms(s.max) })
  console.log(`\ntwo-dc (lab: dc1, dc2, MirrorMaker 2, one concord per DC; writes in dc1 at ${Math.round(r.produced.rate).toLocaleString('en-US')} records/s for ${options.seconds} s) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  console.log('latency from the write in dc1 (ms)')
  console.log(table([
    row('(a) dc2 copy dc1.<topic> (MM2)', r.mirror),
    row('(b) dc2 <topic>.merged', r.remoteMerged),
    row('(b) - (a): concord in dc2', r.concordShare),
    row('(b) - (a) per record', r.concordPerRecord),
    row('(c) dc1 <topic>.merged (local)', r.localMerged)
  ]))
  log(`\nsaved ${save('two-dc', { machine: m, options, result: r })}`)
}

switch (suite) {
  case 'engine': await engine(); break
  case 'e2e': await e2e(); break
  case 'two-dc': await twoDc(); break
  case 'all': await engine(); await e2e(); await twoDc(); break
  default:
    console.error(`unknown suite "${suite}"; suites: engine, e2e, two-dc, all (the default)`)
    process.exitCode = 2
}
