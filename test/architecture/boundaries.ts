import { isBuiltin } from 'node:module'
import type { Import, ImportGraph } from './import-graph.ts'

/**
 * The import rule of /work/shared/STYLE.md ("Layout that shows the architecture": imports point inward, pure
 * folders do no I/O, each third-party package is imported by one folder) as a table, and the check of a graph
 * against it. A unit is the first path segment under src/ (`metrics/`), or a file directly in src/ (`main.ts`).
 * Type-only imports are judged like value imports: a layering break is a break even when tsc erases it.
 */

/** In a `may` list: every unit. */
export const ANY = '*'
/** In a `may` list: every unit main.ts itself imports (cli/ drives main.ts and may name what main.ts wires). */
export const MAIN_USES = 'what main.ts imports'

export interface UnitRule {
  /** Units this unit may import besides its own files; `!unit` takes one back out of ANY. */
  readonly may: readonly string[]
  /** Why, quoted in each violation so the reader need not look the rule up. */
  readonly why: string
}

export interface Rules {
  readonly units: Readonly<Record<string, UnitRule>>
  /** Each third-party package and the one unit that wraps it; a package with no row may not be imported. */
  readonly packages: Readonly<Record<string, string>>
  /** Units that do no I/O and import no logger, and the only Node built-ins they may import. */
  readonly pure: { readonly units: readonly string[], readonly builtins: readonly string[] }
}

const adapter = 'an adapter speaks the project\'s own types (model/, wire/), not another adapter\'s'
// dedupe/ is being renamed to provenance/: both names are accepted until the rename lands.
const provenance: UnitRule = { may: ['model/', 'wire/', 'errors.ts'], why: 'loop and duplicate decisions are pure' }

export const rules: Rules = {
  units: {
    'cli/': { may: ['main.ts', 'config/', 'merge/', 'log/', 'query/', 'wire/', 'model/', 'errors.ts', MAIN_USES], why: 'cli/ parses arguments into commands over main.ts, loads the config with the merge registry, and reads state folders through query/' },
    'main.ts': { may: [ANY, '!cli/'], why: 'the composition root wires everything; only cli/ sits above it' },
    'processor/': {
      may: ['merge/', 'provenance/', 'dedupe/', 'store/', 'codec/', 'kafka/', 'metrics/', 'log/', 'config/', 'wire/', 'model/', 'schema/', 'errors.ts'],
      why: 'the batch pipeline runs the parts below it and is wired by main.ts'
    },
    'http/': { may: ['model/', 'wire/', 'errors.ts', 'config/', 'log/', 'metrics/'], why: 'http/ serves what main.ts hands it' },
    'metrics/': { may: ['model/', 'errors.ts'], why: 'metrics are declared in one place and know values, not the pipeline that counts them' },
    'config/': { may: ['schema/', 'wire/', 'model/', 'errors.ts'], why: 'config is validated before anything it configures exists' },
    'store/': { may: ['model/', 'wire/', 'errors.ts'], why: adapter },
    'kafka/': { may: ['model/', 'wire/', 'errors.ts'], why: adapter },
    'codec/': { may: ['model/', 'wire/', 'errors.ts'], why: adapter },
    'merge/': { may: ['model/', 'wire/', 'schema/', 'errors.ts'], why: 'merge policies are pure; each owns its options schema' },
    'provenance/': provenance,
    'dedupe/': provenance,
    'schema/': { may: ['errors.ts'], why: 'the schema walker knows no configuration in particular' },
    'wire/': { may: ['model/', 'errors.ts'], why: 'the wire contract is shared by src/, lab/, bench/ and tests' },
    'model/': { may: ['errors.ts'], why: 'model/ holds pure value types and the clock, the innermost layer' },
    'errors.ts': { may: [], why: 'every error class is defined in one file that everything may import' },
    'log/': { may: ['errors.ts'], why: 'one pino root, below everything that logs' },
    'query/': { may: ['merge/', 'store/', 'codec/', 'model/', 'errors.ts'], why: 'state queries and digests read a store through its read port and let each policy resolve and describe its state' },
    'sdk/': { may: ['kafka/', 'codec/', 'wire/', 'model/', 'errors.ts'], why: 'the writer SDK stamps and sends records for applications, over the same wire contract, codecs and Kafka port as the processor' },
    'index.ts': { may: ['sdk/', 'wire/', 'model/', 'errors.ts'], why: 'the package\'s public entry point exports the writer SDK and what its users name' },
    'plugin/': { may: ['config/', 'errors.ts'], why: 'plugin/ loads user modules (custom policies) at start-up, for main.ts to hand to the policies it binds' }
  },
  packages: {
    kafkajs: 'kafka/',
    lz4js: 'kafka/',
    snappyjs: 'kafka/',
    'better-sqlite3': 'store/',
    'msgpack-lite': 'codec/',
    'int64-buffer': 'codec/',
    pino: 'log/',
    'prom-client': 'metrics/',
    yaml: 'config/',
    '@sinclair/typebox': 'schema/'
  },
  pure: {
    units: ['model/', 'merge/', 'provenance/', 'dedupe/', 'wire/', 'schema/'],
    // Hashing is a pure function of its input; everything else in node: is I/O or process state.
    builtins: ['node:buffer', 'node:crypto']
  }
}

/** `src/metrics/metrics.ts` -> `metrics/`, `src/main.ts` -> `main.ts`; undefined outside src/. */
export function unitOf (file: string): string | undefined {
  const parts = file.split('/')
  if (parts[0] !== 'src' || parts.length < 2) return undefined
  return parts.length === 2 ? parts[1] : `${parts[1]}/`
}

/** `@scope/name/sub.js` -> `@scope/name`, `lz4js/xxh32.js` -> `lz4js`. */
const packageOf = (specifier: string): string =>
  specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/')

const list = (units: readonly string[]): string => units.length === 0 ? 'nothing but its own files' : `only ${units.join(', ')}`

/** The units `unit` may import besides itself, with ANY and MAIN_USES expanded against the table and graph. */
function allowed (unit: string, rules: Rules, mainUses: readonly string[]): { units: Set<string>, shown: string } {
  const may = rules.units[unit]?.may ?? []
  const minus = may.filter(u => u.startsWith('!')).map(u => u.slice(1))
  const plus = may.filter(u => !u.startsWith('!'))
  const expand = (u: string): readonly string[] => u === ANY ? Object.keys(rules.units) : u === MAIN_USES ? mainUses : [u]
  const units = new Set(plus.flatMap(expand).filter(u => !minus.includes(u)))
  const named = plus.filter(u => u !== ANY && u !== MAIN_USES)
  const shown = plus.includes(ANY)
    ? `anything but ${minus.join(', ')}`
    : list(named) + (plus.includes(MAIN_USES) ? ` and ${MAIN_USES} (${mainUses.join(', ')})` : '')
  return { units, shown }
}

/** The one violation of one import, if any. */
function judge (file: string, unit: string, imp: Import, rules: Rules, mainUses: readonly string[]): string | undefined {
  const how = imp.typeOnly ? 'imports types from' : 'imports'
  const head = `${file}:${imp.line} ${how}`
  const why = rules.units[unit]?.why ?? ''
  if (imp.file !== undefined) {
    const target = unitOf(imp.file)
    if (target === undefined) {
      return `${head} ${imp.file}: nothing in src/ imports outside src/ (rule: lab/, bench/ and test/ build on src/, never the reverse)`
    }
    const { units, shown } = allowed(unit, rules, mainUses)
    if (target === unit || units.has(target)) return undefined
    return `${head} ${imp.file}: ${unit} may import ${shown} (rule: ${why})`
  }
  if (imp.specifier.startsWith('node:')) {
    const { units, builtins } = rules.pure
    if (!units.includes(unit) || builtins.includes(imp.specifier)) return undefined
    return `${head} ${imp.specifier}: ${unit} is pure; of Node's built-ins it may import only ${builtins.join(', ')} (rule: ${why}; no I/O, no logger)`
  }
  const name = packageOf(imp.specifier)
  const owner = rules.packages[name]
  if (owner === unit) return undefined
  if (owner !== undefined) {
    return `${head} package ${name}: only ${owner} may import ${name} (rule: each third-party package is wrapped by one folder)`
  }
  const hint = isBuiltin(imp.specifier) ? `; a Node built-in is imported as node:${imp.specifier}` : ''
  return `${head} package ${name}, which no row of the package table names (rule: adding a dependency means adding ` +
    `the row that says which folder wraps it${hint})`
}

const CYCLE_LIMIT = 20

/**
 * Every elementary cycle among the graph's files, each once, starting at its alphabetically first file. From
 * each start only later files are visited, so a cycle is found from its first file and from no other. Stops at
 * `limit` cycles: past that the graph needs a redesign, not a longer list.
 */
export function cycles (graph: ImportGraph, limit = CYCLE_LIMIT): string[][] {
  const next = new Map([...graph].map(([f, imps]) => [f, [...new Set(imps.flatMap(i => i.file !== undefined && graph.has(i.file) ? [i.file] : []))].sort()]))
  const found: string[][] = []
  const files = [...graph.keys()].sort()
  for (const start of files) {
    const path = [start]
    const onPath = new Set(path)
    const walk = (at: string): void => {
      for (const to of next.get(at) ?? []) {
        if (found.length >= limit) return
        if (to === start) found.push([...path, start])
        else if (to > start && !onPath.has(to)) {
          path.push(to)
          onPath.add(to)
          walk(to)
          onPath.delete(to)
          path.pop()
        }
      }
    }
    walk(start)
  }
  return found
}

/** Human-readable violations of `rules` in `graph`: layering, packages, built-ins, then cycles. Empty when clean. */
export function violations (graph: ImportGraph, rules: Rules): string[] {
  const mainImports = graph.get('src/main.ts') ?? []
  const mainUses = [...new Set(mainImports.flatMap(i => {
    const u = i.file === undefined ? undefined : unitOf(i.file)
    return u === undefined || u === 'main.ts' ? [] : [u]
  }))].sort()
  const out: string[] = []
  const unknown = new Set<string>()
  for (const [file, imports] of graph) {
    const unit = unitOf(file)
    if (unit === undefined) {
      out.push(`${file}: not under src/, so no rule applies (the graph holds src/ only)`)
      continue
    }
    if (rules.units[unit] === undefined) {
      if (!unknown.has(unit)) out.push(`${file}: ${unit} has no row in the rules table (add one to say what it may import)`)
      unknown.add(unit)
      continue
    }
    for (const imp of imports) {
      const v = judge(file, unit, imp, rules, mainUses)
      if (v !== undefined) out.push(v)
    }
  }
  const found = cycles(graph, CYCLE_LIMIT)
  for (const c of found) out.push(`cycle: ${c.join(' -> ')}`)
  if (found.length === CYCLE_LIMIT) out.push(`(the cycle list stops at ${CYCLE_LIMIT}; there may be more)`)
  return out
}
