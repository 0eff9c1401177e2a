import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ConcordError } from '../src/errors.ts'
import { CI_SIZE, FULL_SIZE, runDrill, type DrillOptions } from './drill.ts'
import { formatReport } from './drill-report.ts'
import { down, isUp, status, up } from './lab.ts'
import { labSettings, labSettingsUsage } from './settings.ts'

const COMMANDS = ['up', 'down', 'status', 'reset', 'drill'] as const
type Command = typeof COMMANDS[number]

const USAGE = `usage: npm run lab -- <up|down|status|reset|drill>
  up          fetch the jars if needed, start every DC's broker (LAB_DCS) and MirrorMaker 2 over every pair, create the demo topics, wait for replication
  down        stop everything the lab started and remove its run folder
  status      show the lab's processes; exit 1 when it is not fully up
  reset       down, then up (fresh, empty clusters)
  drill       disaster-recovery drill (starts the lab if it is down): stops dc1's broker while both DCs write,
              starts it again, checks both DCs converge with no acknowledged write lost; exit 1 unless so
  --help, -h  this text
drill options (default: full size; --ci: ${CI_SIZE.entities} entities, ${CI_SIZE.rate} writes/s, ${CI_SIZE.outageSeconds} s outage):
  --entities <n>  entities written (${FULL_SIZE.entities})
  --rate <n>      writes per second per DC at most: one write in flight per writer (${FULL_SIZE.rate})
  --seconds <n>   length of dc1's outage (${FULL_SIZE.outageSeconds})
  --warmup <n>    seconds of writing before the outage (${FULL_SIZE.warmupSeconds})
  --ci            the small size the integration test runs
settings, from the environment (unset or empty: the default shown):
${labSettingsUsage()}`

const DRILL_OPTIONS = {
  entities: { type: 'string' },
  rate: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  ci: { type: 'boolean' }
} as const
const OPTIONS = { help: { type: 'boolean', short: 'h' }, ...DRILL_OPTIONS } as const

const isCommand = (word: string): word is Command => (COMMANDS as readonly string[]).includes(word)

/** The command to run, or why the command line is refused (an empty reason: nothing was asked). */
function parseCommandLine (args: string[]): { readonly command: Command | 'help', readonly drill?: Partial<DrillOptions> } | { readonly refused: string } {
  // A first, lenient pass names an unknown option as it was written (`-x`, `--frobnicate=1`).
  const { tokens } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: false, tokens: true })
  for (const t of tokens) {
    if (t.kind === 'option' && !Object.hasOwn(OPTIONS, t.name)) return { refused: `unknown option "${t.rawName}"` }
  }
  let parsed
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true })
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS_')) return { refused: err.message }
    throw err
  }
  if (parsed.values.help === true) return { command: 'help' }
  const [command, ...extra] = parsed.positionals
  if (command === undefined) return { refused: '' }
  if (!isCommand(command)) return { refused: `unknown lab command "${command}"` }
  if (extra.length > 0) return { refused: `unexpected argument "${extra[0]}" after "${command}"` }
  const given = Object.keys(DRILL_OPTIONS).filter(k => (parsed.values as Record<string, unknown>)[k] !== undefined)
  if (command !== 'drill') return given.length > 0 ? { refused: `option "--${given[0]}" is a drill option, not one of "${command}"` } : { command }
  const v = parsed.values
  const drill: { -readonly [K in keyof DrillOptions]?: DrillOptions[K] } = v.ci === true ? { ...CI_SIZE } : {}
  const problems: string[] = []
  const count = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined
    const n = Number(raw)
    if (Number.isInteger(n) && n >= min && n <= max) return n
    problems.push(`"--${name}" must be an integer ${min}..${max}, got "${raw}"`)
    return undefined
  }
  const entities = count('entities', v.entities, 1, 10_000_000)
  const rate = count('rate', v.rate, 1, 10_000)
  const seconds = count('seconds', v.seconds, 1, 3_600)
  const warmup = count('warmup', v.warmup, 0, 3_600)
  if (problems.length > 0) return { refused: problems.join('; ') }
  if (entities !== undefined) drill.entities = entities
  if (rate !== undefined) drill.rate = rate
  if (seconds !== undefined) drill.outageSeconds = seconds
  if (warmup !== undefined) drill.warmupSeconds = warmup
  return { command, drill }
}

const log = (line: string): void => { console.log(`lab: ${line}`) }

async function main (args: string[]): Promise<number> {
  const line = parseCommandLine(args)
  if ('refused' in line) {
    console.error(line.refused === '' ? USAGE : `${line.refused}\n${USAGE}`)
    return 2
  }
  if (line.command === 'help') {
    console.log(USAGE)
    return 0
  }
  const settings = labSettings()
  switch (line.command) {
    case 'up': await up(settings, log); return 0
    case 'down': await down(settings, log); return 0
    case 'reset': await down(settings, log); await up(settings, log); return 0
    case 'drill': {
      if (!isUp(settings)) await up(settings, log)
      const work = mkdtempSync(join(tmpdir(), 'concord-drill-'))
      const report = await runDrill(settings, { ...FULL_SIZE, ...line.drill, work }, log)
      console.log(`drill report (work folder ${work})\n${formatReport(report)}`)
      return report.ok ? 0 : 1
    }
    case 'status': {
      const s = status(settings)
      for (const l of s.lines) console.log(l)
      return s.up ? 0 : 1
    }
  }
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
  console.error(err instanceof ConcordError ? `lab: ${err.message} [${err.code}]` : err)
  process.exitCode = 1
})
