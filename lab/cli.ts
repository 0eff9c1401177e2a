import { parseArgs } from 'node:util'
import { ConcordError } from '../src/errors.ts'
import { down, status, up } from './lab.ts'
import { labSettings, labSettingsUsage } from './settings.ts'

const COMMANDS = ['up', 'down', 'status', 'reset'] as const
type Command = typeof COMMANDS[number]

const USAGE = `usage: npm run lab -- <up|down|status|reset>
  up          fetch the jars if needed, start dc1, dc2 and MirrorMaker 2, create the demo topics, wait for replication
  down        stop everything the lab started and remove its run folder
  status      show the lab's processes; exit 1 when it is not fully up
  reset       down, then up (fresh, empty clusters)
  --help, -h  this text
settings, from the environment (unset or empty: the default shown):
${labSettingsUsage()}`

const OPTIONS = { help: { type: 'boolean', short: 'h' } } as const

const isCommand = (word: string): word is Command => (COMMANDS as readonly string[]).includes(word)

/** The command to run, or why the command line is refused (an empty reason: nothing was asked). */
function parseCommandLine (args: string[]): { readonly command: Command | 'help' } | { readonly refused: string } {
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
  return { command }
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
