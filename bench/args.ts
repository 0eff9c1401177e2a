import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import type { E2eOptions } from './e2e.ts'
import { VARIANTS, type EngineCase } from './engine.ts'
import type { TwoDcOptions } from './two-dc.ts'

/**
 * The bench command line, `npm run bench -- [suite] [options]`, checked in full before anything runs.
 * `suiteOptions` is the one declaration of each suite's options (value, default, smoke size, meaning): the
 * parser, the defaults and `--help` come from it. With `all`, an option applies to every suite that takes it;
 * an option that none of the chosen suites takes is refused by name, as a misspelt one is.
 */
export const suites = {
  engine: 'the processing core: batches straight to the pipeline, no Kafka',
  e2e: "one DC on the lab's dc1 broker: bare consumer, Kafka Streams and concord on the same records; latency",
  'two-dc': 'both DCs with MirrorMaker 2: replication and merge latency',
  all: 'engine, e2e and two-dc in turn (the default)'
} as const
export type Suite = keyof typeof suites
type OneSuite = Exclude<Suite, 'all'>

export interface BenchOption {
  readonly name: string
  /** Placeholder of the value in the usage text. */
  readonly value: string
  /** Written as on the command line; none: the suite decides at run time (see `meaning`). */
  readonly default?: string
  /** Replaces the default under `--smoke`. */
  readonly smoke?: string
  readonly meaning: string
}

export const suiteOptions: { readonly [S in OneSuite]: readonly BenchOption[] } = {
  engine: [
    { name: 'entities', value: 'N,N,...', default: '10000,1000000,10000000', smoke: '1000', meaning: 'keyspace sizes, one case each' },
    { name: 'records', value: 'N', default: '300000', smoke: '20000', meaning: 'updates per run' },
    { name: 'runs', value: 'N', default: '3', smoke: '1', meaning: 'runs per case; the median is reported' },
    { name: 'batch', value: 'N', default: '2000', meaning: 'records per batch, as the consumer hands them over' },
    { name: 'window', value: 'N', default: '50000', meaning: 'records per commit window, one transaction each (the store.windowRecords a loaded processor reaches)' },
    { name: 'synchronous', value: 'normal|full', default: 'normal', meaning: "SQLite's synchronous setting" },
    { name: 'cache-mb', value: 'N', default: '64', meaning: 'SQLite page cache, MiB' },
    { name: 'variants', value: 'V,...', default: 'all', meaning: `any of ${Object.keys(VARIANTS).join(', ')}, or all (see bench/engine.ts)` },
    { name: 'variants-at', value: 'N,N,...', meaning: 'keyspace sizes (among --entities) at which the variants other than lww-header run (lww-header runs at every one); default 1000000 if among --entities, else every --entities' }
  ],
  e2e: [
    { name: 'records', value: 'N', default: '1000000', smoke: '20000', meaning: 'records pre-loaded on dc1' },
    { name: 'entities', value: 'N,N,...', default: '100000,1000000', smoke: '2000', meaning: 'entities they update: one pre-load and one set of measurements each' },
    { name: 'seconds', value: 'S', default: '20', smoke: '3', meaning: 'duration of each latency phase' },
    { name: 'rate', value: 'R', meaning: "records/s of the fixed-rate phase; default half of concord's measured records/s" }
  ],
  'two-dc': [
    { name: 'rate', value: 'R', default: '2000', smoke: '500', meaning: 'writes/s in dc1' },
    { name: 'seconds', value: 'S', default: '20', smoke: '3', meaning: 'how long to write' }
  ]
}

export type EngineOptions = Omit<EngineCase, 'entities' | 'variant'> & {
  readonly entities: readonly number[]
  readonly variants: readonly EngineCase['variant'][]
  /** The entity counts at which variants other than lww-header run. */
  readonly variantsAt: readonly number[]
}

/** What to run: each chosen suite's options, absent for a suite that does not run. */
export interface BenchRun {
  readonly help: false
  readonly suite: Suite
  readonly engine?: EngineOptions
  readonly e2e?: E2eOptions
  readonly twoDc?: TwoDcOptions
}

export type BenchArgs = { readonly help: true } | BenchRun

/** The command line is refused; the message names the argument and says why. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError'
}

const column = (rows: readonly (readonly [string, string])[], indent: string): string => {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n')
}

export const benchUsage = [
  'usage: npm run bench -- [suite] [options]',
  'suites:',
  column(Object.entries(suites), '  '),
  ...Object.entries(suiteOptions).map(([suite, options]) => `${suite} options:\n` + column(options.map(o => [
    `--${o.name} ${o.value}`,
    `${o.meaning}${o.default === undefined ? '' : `; default ${o.default}`}${o.smoke === undefined ? '' : `, smoke ${o.smoke}`}`
  ]), '  ')),
  'with all, an option applies to every suite that takes it; also:',
  column([['--smoke', 'tiny sizes, to keep the harness working (figures mean nothing)'], ['--help, -h', 'this text']], '  '),
  'Each suite prints a table and writes JSON to bench/results/; then the targets table (see bench/README.md).'
].join('\n')

const options: ParseArgsOptionsConfig = {
  ...Object.fromEntries(Object.values(suiteOptions).flat().map(o => [o.name, { type: 'string' } as const])),
  smoke: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

const isSuite = (word: string): word is Suite => Object.hasOwn(suites, word)

/**
 * `argv`: the arguments after `npm run bench --`. Throws BenchUsageError at an unknown option or a malformed
 * argument, else with every bad value at once, one per line.
 */
export function parseBenchArgs (argv: readonly string[]): BenchArgs {
  const args = [...argv]
  // A first, lenient pass names an unknown option as it was written (`-x`, `--record=5`).
  for (const t of parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true }).tokens) {
    if (t.kind === 'option' && !Object.hasOwn(options, t.name)) throw new BenchUsageError(`unknown option "${t.rawName}"`)
  }
  let parsed
  try {
    parsed = parseArgs({ args, options, allowPositionals: true })
  } catch (err) {
    // A value missing or given to a flag: Node's message names the option.
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS_')) throw new BenchUsageError(err.message, { cause: err })
    throw err
  }
  const { values, positionals } = parsed
  if (values.help === true) return { help: true }
  const [suite = 'all', ...extra] = positionals
  if (!isSuite(suite)) throw new BenchUsageError(`unknown suite "${suite}"; suites: engine, e2e, two-dc, all (the default)`)
  if (extra.length > 0) throw new BenchUsageError(`unexpected argument "${extra[0]}": give one suite`)
  const chosen: readonly OneSuite[] = suite === 'all' ? ['engine', 'e2e', 'two-dc'] : [suite]
  for (const name of Object.keys(values)) {
    if (name === 'smoke' || chosen.some(s => suiteOptions[s].some(o => o.name === name))) continue
    const own = suiteOptions[suite as OneSuite].map(o => `--${o.name}`).join(', ')
    throw new BenchUsageError(`--${name} is not an option of the ${suite} suite (its options: ${own}, --smoke)`)
  }

  const smoke = values.smoke === true
  const problems = new Set<string>()
  const reader = (s: OneSuite) => {
    const raw = (name: string): string | undefined => {
      const given = values[name]
      if (typeof given === 'string') return given
      const o = suiteOptions[s].find(o => o.name === name)
      return (smoke ? o?.smoke : undefined) ?? o?.default
    }
    const positive = (name: string): number => {
      const text = raw(name) ?? ''
      const n = Number(text)
      if (!(n > 0)) problems.add(`--${name} must be a positive number, got "${text}"`)
      return n
    }
    const list = (name: string): string[] => (raw(name) ?? '').split(',')
    const positives = (name: string): number[] => list(name).map(n => {
      if (!(Number(n) > 0)) problems.add(`--${name} must be positive numbers separated by commas, got "${n}"`)
      return Number(n)
    })
    return { raw, positive, list, positives }
  }

  const engine = (): EngineOptions => {
    const { raw, positive, list, positives } = reader('engine')
    const entities = positives('entities')
    const records = positive('records')
    const runs = positive('runs')
    const batchSize = positive('batch')
    const windowRecords = positive('window')
    const synchronous = raw('synchronous')
    if (synchronous !== 'normal' && synchronous !== 'full') problems.add(`--synchronous must be normal or full, got "${synchronous}"`)
    const cacheMb = positive('cache-mb')
    const given = list('variants')
    const variants = (given.length === 1 && given[0] === 'all' ? Object.keys(VARIANTS) : given).map(v => {
      if (!(v in VARIANTS)) problems.add(`--variants must list some of ${Object.keys(VARIANTS).join(', ')} (or be all), got "${v}"`)
      return v as EngineCase['variant']
    })
    const variantsAt = raw('variants-at') === undefined ? (entities.includes(1_000_000) ? [1_000_000] : entities) : positives('variants-at')
    for (const n of variantsAt) {
      if (!entities.includes(n)) problems.add(`--variants-at must list some of --entities (${entities.join(',')}), got ${n}`)
    }
    return { entities, records, runs, batchSize, windowRecords, synchronous: synchronous as EngineCase['synchronous'], cacheMb, variants, variantsAt }
  }
  const e2e = (): E2eOptions => {
    const { raw, positive, positives } = reader('e2e')
    return {
      records: positive('records'),
      entities: positives('entities'),
      seconds: positive('seconds'),
      ...(raw('rate') === undefined ? {} : { rate: positive('rate') })
    }
  }
  const twoDc = (): TwoDcOptions => {
    const { positive } = reader('two-dc')
    return { rate: positive('rate'), seconds: positive('seconds') }
  }

  const run: BenchRun = {
    help: false,
    suite,
    ...(chosen.includes('engine') ? { engine: engine() } : {}),
    ...(chosen.includes('e2e') ? { e2e: e2e() } : {}),
    ...(chosen.includes('two-dc') ? { twoDc: twoDc() } : {})
  }
  if (problems.size > 0) throw new BenchUsageError([...problems].join('\n'))
  return run
}
