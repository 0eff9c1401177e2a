import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { benchUsage, BenchUsageError, parseBenchArgs, type BenchRun, type EngineOptions } from './args.ts'
import { runE2e, type E2eOptions, type E2eResult, type LatencyStats } from './e2e.ts'
import { runEngineCaseInChild, type EngineResult } from './engine.ts'
import { machine, table } from './machine.ts'
import { evaluateTargets, type Outcome } from './targets.ts'
import { runTwoDc, type TwoDcOptions } from './two-dc.ts'

/**
 * `npm run bench -- [suite] [options]`. Suites: `engine` (no Kafka), `e2e` (dc1 of the lab), `two-dc` (the
 * lab with MM2), `all` (the default: the three in turn). Each prints a table and writes JSON to
 * bench/results/; then the targets table (bench/targets.ts) over what ran. See bench/README.md; the options, their defaults and smoke sizes are declared in args.ts
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

async function engine ({ entities, records, runs, batchSize, windowRecords, cacheMb, synchronous, variants, variantsAt }: EngineOptions): Promise<EngineResult[]> {
  const results: EngineResult[] = []
  for (const variant of variants) {
    for (const n of entities) {
      // lww-header is the targets' reference, at every keyspace size; the other variants where --variants-at says.
      if (variant !== 'lww-header' && !variantsAt.includes(n)) continue
      log(`engine ${variant}, ${n.toLocaleString('en-US')} entities, ${records.toLocaleString('en-US')} records x ${runs}, batch ${batchSize}, window ${windowRecords}, synchronous=${synchronous}, cache ${cacheMb} MiB`)
      results.push(await runEngineCaseInChild({ entities: n, records, batchSize, windowRecords, runs, variant, synchronous, cacheMb }, log))
    }
  }
  const m = machine()
  console.log(`\nengine (no Kafka; WAL, synchronous=${synchronous}; ${batchSize}-record batches, one transaction per ${windowRecords}-record window; one child process per case) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  console.log(table(results.map(r => ({
    variant: r.variant,
    entities: r.entities,
    'records/s (median)': Math.round(r.medianRecordsPerSecond),
    'min..max': `${Math.round(Math.min(...r.recordsPerSecond)).toLocaleString('en-US')}..${Math.round(Math.max(...r.recordsPerSecond)).toLocaleString('en-US')}`,
    'µs/record': r.usPerRecord,
    'parse µs': r.stageUsPerRecord.parse!,
    'load µs': r.stageUsPerRecord['load state']!,
    'merge+commit µs': r.stageUsPerRecord['merge + commit']!,
    'SQLite read µs': r.stageUsPerRecord['SQLite read']!,
    'SQLite write µs': r.stageUsPerRecord['SQLite write']!,
    'SQLite COMMIT µs': r.stageUsPerRecord['SQLite COMMIT']!,
    'concord code µs': r.stageUsPerRecord['concord code']!,
    'db MiB': Math.round(r.dbMiB),
    'max RSS MiB': Math.round(r.maxRssMiB)
  }))))
  log(`\nsaved ${save('engine', { machine: m, results })}`)
  return results
}

const ms = (x: number): string => x.toFixed(1)

async function e2e (options: E2eOptions): Promise<E2eResult> {
  const r = await runE2e(options, log)
  const m = machine()
  const cases = r.cases.map(c => `${c.entities.toLocaleString('en-US')} entities ~${Math.round(c.meanValueBytes)}-byte values`).join(', ')
  console.log(`\ne2e on dc1 (single broker, ${r.partitions} partitions; ${options.records.toLocaleString('en-US')} records per pre-load: ${cases}; msgpack) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  const ratio = (x: number): string => Number.isFinite(x) ? x.toFixed(2) : ''
  const rss = (x: number): string | number => Number.isFinite(x) ? Math.round(x) : ''
  const cpu = (x: number): string => Number.isFinite(x) ? x.toFixed(1) : ''
  console.log(table(r.cases.flatMap(c => {
    const ks = c.kafkaStreams.atLeastOnce.recordsPerSecond
    const line = (measure: string, rps: number, peak: number, cpuS: number) => ({
      entities: c.entities,
      measure,
      'records/s': Math.round(rps),
      'vs bare': ratio(rps / c.bare.recordsPerSecond),
      'vs KS ALO': ratio(rps / ks),
      'peak RSS MiB': rss(peak),
      'CPU s': cpu(cpuS)
    })
    return [
      line('bare consumer (transport ceiling)', c.bare.recordsPerSecond, NaN, NaN),
      line('codec alone (msgpack decode+encode)', c.codec.recordsPerSecond, NaN, NaN),
      line('Kafka Streams at_least_once', ks, c.kafkaStreams.atLeastOnce.peakRssMiB, c.kafkaStreams.atLeastOnce.cpuSeconds),
      line('Kafka Streams exactly_once_v2', c.kafkaStreams.exactlyOnce.recordsPerSecond, c.kafkaStreams.exactlyOnce.peakRssMiB, c.kafkaStreams.exactlyOnce.cpuSeconds),
      line('concord (consume, merge, commit, emit)', c.concord.recordsPerSecond, c.concord.peakRssMiB, c.concord.cpuSeconds)
    ]
  })))
  console.log('\nlatency from the write (ms): to the merged record received, and to the input record received by a plain consumer (Kafka alone)')
  console.log(table(r.cases.flatMap(c => c.latency.flatMap(l => [
    { path: 'write -> merged', stats: l as LatencyStats, l },
    { path: 'write -> input (transport)', stats: l.transport, l }
  ]).map(({ path, stats, l }) => ({
    entities: c.entities,
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
  })))))
  for (const c of r.cases) log(`concord peak RSS over the whole ${c.entities.toLocaleString('en-US')}-entity case ${Math.round(c.peakRssMiBAtEnd)} MiB`)
  log(`\nsaved ${save('e2e', { machine: m, options, result: r })}`)
  return r
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

/** Runs a suite; on failure, logs it and gives why its targets are not measured, and no later suite runs. */
let failed = false
async function attempt<R> (suite: string, options: object | undefined, run: () => Promise<R>): Promise<Outcome<R>> {
  if (options === undefined) return { why: `the ${suite} suite did not run` }
  if (failed) return { why: `the ${suite} suite did not run (an earlier suite failed)` }
  try {
    return { result: await run() }
  } catch (err) {
    failed = true
    process.exitCode = 1
    console.error(`\n${suite} failed:`, err)
    return { why: `the ${suite} suite failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` }
  }
}

const args = commandLine()
if (args !== undefined) {
  const engineOutcome = await attempt('engine', args.engine, () => engine(args.engine!))
  const e2eOutcome = await attempt('e2e', args.e2e, () => e2e(args.e2e!))
  await attempt('two-dc', args.twoDc, () => twoDc(args.twoDc!))
  const targets = evaluateTargets({ engine: engineOutcome, e2e: e2eOutcome })
  const m = machine()
  console.log(`\ntargets (issue #9; ratio = measured ÷ threshold) on ${m.cpu}, ${m.cores} cores, node ${m.node}`)
  console.log(table(targets.map((t, i) => ({ '#': i + 1, target: t.target, measured: t.measured, threshold: t.threshold, ratio: t.ratio === null ? '' : t.ratio.toFixed(2), met: t.met })), ['target', 'met']))
  targets.forEach((t, i) => { if (t.note !== '') log(`  [${i + 1}] ${t.note}`) })
  log(`\nsaved ${save('targets', { machine: m, suite: args.suite, targets })}`)
}
