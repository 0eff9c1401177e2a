import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { benchUsage, BenchUsageError, parseBenchArgs, type BenchRun, type EngineOptions } from './args.ts'
import { runE2e, type E2eOptions, type LatencyStats } from './e2e.ts'
import { runEngineCase, type EngineResult } from './engine.ts'
import { machine, table } from './machine.ts'
import { runTwoDc, type TwoDcOptions } from './two-dc.ts'

/**
 * `npm run bench -- [suite] [options]`. Suites: `engine` (no Kafka), `e2e` (dc1 of the lab), `two-dc` (the
 * lab with MM2), `all` (the default: the three in turn). Each prints a table and writes JSON to
 * bench/results/. See bench/README.md; the options, their defaults and smoke sizes are declared in args.ts
 * (`npm run bench -- --help` lists them). A refused command line prints why and the usage, and exits 2.
 */
const log = (line: string): void => { console.log(line) }
const resultsDir = join(import.meta.dirname, 'results')

function save (name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}

async function engine ({ entities, records, runs, batchSize, windowRecords, cacheMb, synchronous, variants }: EngineOptions): Promise<void> {
  const results: EngineResult[] = []
  for (const variant of variants) {
    for (const n of entities) {
      log(`engine ${variant}, ${n.toLocaleString('en-US')} entities, ${records.toLocaleString('en-US')} records x ${runs}, batch ${batchSize}, window ${windowRecords}, synchronous=${synchronous}, cache ${cacheMb} MiB`)
      results.push(runEngineCase({ entities: n, records, batchSize, windowRecords, runs, variant, synchronous, cacheMb }, log))
    }
  }
  const m = machine()
  console.log(`\nengine (no Kafka; WAL, synchronous=${synchronous}; ${batchSize}-record batches, one transaction per ${windowRecords}-record window) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
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

async function e2e (options: E2eOptions): Promise<void> {
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

async function twoDc (options: TwoDcOptions): Promise<void> {
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

/** The suites to run, or undefined when there is nothing to run (help printed, or the command line refused). */
function commandLine (): BenchRun | undefined {
  try {
    const args = parseBenchArgs(process.argv.slice(2))
    if (!args.help) return args
    console.log(benchUsage)
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err
    console.error(`${err.message}\n${benchUsage}`)
    process.exitCode = 2
  }
  return undefined
}

const args = commandLine()
if (args?.engine !== undefined) await engine(args.engine)
if (args?.e2e !== undefined) await e2e(args.e2e)
if (args?.twoDc !== undefined) await twoDc(args.twoDc)
