import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runEngineCase, type EngineCase, type EngineResult } from './engine.ts'
import { machine, table } from './machine.ts'

/**
 * `npm run bench -- <suite> [options]`. Suites: `engine` (no Kafka). Each prints a table and writes JSON to
 * bench/results/. Options: --entities 10000,1000000,10000000  --records N  --runs N  --batch N
 * --synchronous normal|full  --smoke (tiny sizes, to keep the harness working in CI).
 */
const args = process.argv.slice(2)
const suite = args[0] ?? 'engine'
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback
}
const smoke = args.includes('--smoke')
const log = (line: string): void => { console.log(line) }
const resultsDir = join(import.meta.dirname, 'results')

function save (name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}

async function engine (): Promise<void> {
  const entities = opt('entities', smoke ? '1000' : '10000,1000000,10000000').split(',').map(Number)
  const records = Number(opt('records', smoke ? '20000' : '1000000'))
  const runs = Number(opt('runs', smoke ? '1' : '3'))
  const batchSize = Number(opt('batch', '2000'))
  const synchronous = opt('synchronous', 'normal') as 'normal' | 'full'
  const cacheMb = Number(opt('cache-mb', '64'))
  const variants = opt('variants', 'lww-header,lww-value-ts').split(',') as Array<EngineCase['variant']>
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

switch (suite) {
  case 'engine': await engine(); break
  default:
    console.error(`unknown suite "${suite}"; suites: engine`)
    process.exitCode = 2
}
