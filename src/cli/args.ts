import { parseArgs } from 'node:util'
import { UsageError } from '../errors.ts'

export const COMMANDS = {
  run: 'consume, merge and emit until SIGTERM or SIGINT',
  'check-config': 'validate the configuration (the file and CONCORD_* overrides) and print it resolved'
} as const

export type Command = keyof typeof COMMANDS

export const USAGE = `usage: concord <command> --config <file>
commands:
${Object.entries(COMMANDS).map(([name, what]) => `  ${name.padEnd(14)}${what}`).join('\n')}
options:
  -c, --config <file>  YAML configuration file (see config/dc1.yaml)
  -h, --help           this text
exit codes: 0 done, 1 failed (the reason is printed as "concord: <message> [<code>]"), 2 bad command line`

export type Parsed = { readonly command: 'help', readonly text: string } |
  { readonly command: Command, readonly config: string }

const isCommand = (name: string): name is Command => Object.hasOwn(COMMANDS, name)

/** The command line, or a UsageError naming what is wrong, with the usage text. */
export function parseCommandLine (argv: readonly string[]): Parsed {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`, { cause: err })
  }
  const { values, positionals } = parsed
  const [command, ...extra] = positionals
  if (values.help === true) {
    const text = command !== undefined && isCommand(command) ? `concord ${command}: ${COMMANDS[command]}\n${USAGE}` : USAGE
    return { command: 'help', text }
  }
  if (command === undefined) throw new UsageError(`missing command\n${USAGE}`)
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"\n${USAGE}`)
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\n${USAGE}`)
  if (values.config === undefined || values.config === '') throw new UsageError(`missing --config <file>\n${USAGE}`)
  return { command, config: values.config }
}
