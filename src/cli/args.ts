import { parseArgs } from 'node:util'
import { UsageError } from '../errors.ts'

/**
 * The command line: `concord <command> [arguments] [options]`, parsed with node:util's parseArgs (strict: an
 * unknown option, a missing value or an option another command takes is refused by name). Each command
 * declares its arguments, the options it takes and its help text here, once.
 */

interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  /** How the value reads in the help: `<file>`. */
  readonly value?: string
  readonly help: string
}

const OPTIONS = {
  config: { type: 'string', short: 'c', value: '<file>', help: 'YAML configuration file (see config/dc1.yaml)' },
  'state-dir': { type: 'string', value: '<dir>', help: 'read this state folder instead of the configuration\'s store.dir' },
  url: { type: 'string', value: '<url>', help: 'ask a running processor over HTTP (http://host:port) instead of reading a state folder' },
  topic: { type: 'string', multiple: true, value: '<name>', help: 'only this topic (repeatable); default: every configured topic' },
  limit: { type: 'string', value: '<n>', help: 'list at most n differing entities per topic (default 20)' },
  attempts: { type: 'string', value: '<n>', help: 'compare up to n times while they differ, for processors still catching up (default 1)' },
  wait: { type: 'string', value: '<ms>', help: 'between attempts (default 2000)' },
  to: { type: 'string', value: '<target>', help: 'earliest, latest, or a time: ms since the epoch or 2026-12-01T10:00:00Z' },
  execute: { type: 'boolean', help: 'do it (without: a dry run that only says what it would do)' },
  json: { type: 'boolean', help: 'print JSON instead of text' },
  help: { type: 'boolean', short: 'h', help: 'this text' }
} as const satisfies Record<string, OptionSpec>

type OptionName = keyof typeof OPTIONS

interface CommandSpec {
  readonly summary: string
  /** Positional arguments, by name, all required. */
  readonly args: readonly string[]
  readonly options: readonly OptionName[]
  /** The synopsis after `concord <command>`. */
  readonly synopsis: string
  readonly details: string
  /** What exit codes 0 and 1 mean for this command. */
  readonly success?: string
  readonly failure: string
}

export const COMMANDS = {
  run: {
    summary: 'consume, merge and emit until SIGTERM or SIGINT',
    args: [],
    options: ['config'],
    synopsis: '--config <file>',
    details: 'Runs the processor: the HTTP endpoints (/livez, /readyz, /metrics, /v1/...) and the Kafka pipeline.',
    failure: 'failed to start or stopped with an error'
  },
  'check-config': {
    summary: 'validate the configuration (the file and CONCORD_* overrides) and bind every topic\'s policy',
    args: [],
    options: ['config', 'json'],
    synopsis: '--config <file> [--json]',
    details: 'Loads custom policy modules and binds each policy to its options, as the processor would at start.',
    failure: 'the configuration is invalid (every problem is listed)'
  },
  'print-config': {
    summary: 'print the resolved configuration (defaults applied, secrets redacted)',
    args: [],
    options: ['config', 'json'],
    synopsis: '--config <file> [--json]',
    details: 'Text: one line per key, as `path: value` (the paths of error messages and the README). Secret keys show [redacted].',
    failure: 'the configuration is invalid'
  },
  inspect: {
    summary: 'show one entity\'s merged value and per-DC state, read-only',
    args: ['topic', 'entityId'],
    options: ['config', 'state-dir', 'url', 'json'],
    synopsis: '<topic> <entityId> (--config <file> [--state-dir <dir>] | --url <url>) [--json]',
    details: 'Reads the state folder without its owner lock and without migrating it, so it works while the\n' +
      'processor runs; --url asks a running processor instead (GET /v1/state/<topic>/<entityId>).',
    failure: 'no such topic or entity, or the store or endpoint cannot be read'
  },
  verify: {
    summary: 'compare two DCs\' merged state by digests and list the entities that differ',
    args: ['a', 'b'],
    options: ['config', 'topic', 'limit', 'attempts', 'wait', 'json'],
    synopsis: '<a> <b> [--config <file>] [--topic <name>]... [--limit <n>] [--attempts <n> --wait <ms>] [--json]',
    details: 'Each of <a> and <b> is a running processor (http://host:port), a DC\'s configuration file (its\n' +
      'store.dir is read) or a state folder (read with the topics of --config). Both sides compute a digest\n' +
      'per topic from each entity\'s merged value and provenance, in 256 buckets; the buckets that differ are\n' +
      'compared entity by entity. Deleted entities count as absent.',
    success: 'converged',
    failure: 'the DCs diverge (the differing entities are listed), or a side cannot be read'
  },
  rebuild: {
    summary: 'fill an empty state folder from the input topics, from their beginning (after losing a volume)',
    args: [],
    options: ['config', 'json'],
    synopsis: '--config <file> [--json]',
    details: 'Reads every input topic up to the end it has at the start, through the same engine as run, into the\n' +
      'empty store.dir; produces nothing (the output is on its topics already). Progress on stderr: a bar on a\n' +
      'terminal, a line per second otherwise. Ends with a summary and each topic\'s state digest (as verify).',
    failure: 'the folder holds state already, an input topic is missing, or Kafka cannot be read'
  },
  dlq: {
    summary: 'list the dead letters, or replay them to their input topics (dlq list | dlq replay)',
    args: ['action'],
    options: ['config', 'topic', 'execute', 'json'],
    synopsis: 'list|replay --config <file> [--topic <name>]... [--execute] [--json]',
    details: 'list: every dead letter of the configured topics (or of --topic), oldest first, with the input record\n' +
      'it was and why. replay: sends each back to its input topic and partition as it was, to be processed\n' +
      'again after a fix; a dry run unless --execute.',
    failure: 'Kafka cannot be read or written'
  },
  'reset-offsets': {
    summary: 'move the positions concord resumes from, for every input partition (refused while it runs)',
    args: [],
    options: ['config', 'to', 'execute', 'json'],
    synopsis: '--config <file> --to earliest|latest|<time> [--execute] [--json]',
    details: 'Sets the state store\'s position of each input partition to its earliest or latest offset, or to the\n' +
      'first record at or after a time; the state is kept. A dry run unless --execute. Takes the state folder\'s\n' +
      'owner lock, so it is refused while a processor runs on it.',
    failure: 'the folder is in use by a running processor, or Kafka cannot be read'
  }
} as const satisfies Record<string, CommandSpec>

export type Command = keyof typeof COMMANDS

const optionLine = (name: OptionName): string => {
  const o: OptionSpec = OPTIONS[name]
  const flag = `${'short' in o ? `-${o.short}, ` : '    '}--${name}${o.value === undefined ? '' : ` ${o.value}`}`
  return `  ${flag.padEnd(24)}${o.help}`
}

export const USAGE = `usage: concord <command> [arguments] [options]   (concord <command> --help for its own)
commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`).join('\n')}
options:
${optionLine('config')}
${optionLine('json')}
${optionLine('help')}
exit codes: 0 done (verify: converged), 1 failed (verify: diverged; the reason is printed as
"concord: <message> [<code>]"), 2 bad command line`

/** The help text of one command. */
export function commandHelp (command: Command): string {
  const c: CommandSpec = COMMANDS[command]
  return `usage: concord ${command} ${c.synopsis}
${c.summary.charAt(0).toUpperCase()}${c.summary.slice(1)}.
${c.details}
options:
${[...c.options, 'help' as const].map(optionLine).join('\n')}
exit codes: 0 ${c.success ?? 'done'}, 1 ${c.failure}, 2 bad command line`
}

export interface Options {
  readonly config?: string
  readonly stateDir?: string
  readonly url?: string
  readonly topics: readonly string[]
  readonly limit: number
  readonly attempts: number
  readonly waitMs: number
  readonly to?: string
  readonly execute: boolean
  readonly json: boolean
}

export type Parsed = { readonly command: 'help', readonly text: string } |
  { readonly command: Command, readonly args: readonly string[], readonly options: Options }

const isCommand = (name: string): name is Command => Object.hasOwn(COMMANDS, name)

const refuse = (reason: string, command?: Command): never => {
  throw new UsageError(`${reason}\n${command === undefined ? USAGE : commandHelp(command)}`)
}

function count (value: string | undefined, name: string, fallback: number, min: number, command: Command): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < min) refuse(`--${name} must be an integer of at least ${min}, got "${value}"`, command)
  return Number(value)
}

/** The command line, or a UsageError naming what is wrong, followed by the usage. */
export function parseCommandLine (argv: readonly string[]): Parsed {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS, tokens: true })
  } catch (err) {
    const first = argv.find(a => !a.startsWith('-'))
    throw new UsageError(`${(err as Error).message}\n${first !== undefined && isCommand(first) ? commandHelp(first) : USAGE}`, { cause: err })
  }
  const { values, positionals, tokens } = parsed
  const [command, ...args] = positionals
  if (values.help === true) {
    return { command: 'help', text: command !== undefined && isCommand(command) ? commandHelp(command) : USAGE }
  }
  if (command === undefined) return refuse('missing command')
  if (!isCommand(command)) return refuse(`unknown command "${command}"`)
  const spec: CommandSpec = COMMANDS[command]
  for (const t of tokens) {
    if (t.kind === 'option' && !(spec.options as readonly string[]).includes(t.name)) refuse(`${command} takes no option ${t.rawName}`, command)
  }
  if (args.length > spec.args.length) refuse(`unexpected argument "${args[spec.args.length]}"`, command)
  if (args.length < spec.args.length) refuse(`missing ${spec.args.slice(args.length).map(a => `<${a}>`).join(' ')}`, command)
  for (const key of ['config', 'state-dir', 'url'] as const) {
    if (values[key] === '') refuse(`--${key} needs a value`, command)
  }
  const options: Options = {
    ...(values.config === undefined ? {} : { config: values.config }),
    ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
    ...(values.url === undefined ? {} : { url: values.url }),
    topics: values.topic ?? [],
    limit: count(values.limit, 'limit', 20, 1, command),
    attempts: count(values.attempts, 'attempts', 1, 1, command),
    waitMs: count(values.wait, 'wait', 2000, 0, command),
    ...(values.to === undefined ? {} : { to: values.to }),
    execute: values.execute === true,
    json: values.json === true
  }
  if (command === 'inspect') {
    if (options.url !== undefined && (options.config !== undefined || options.stateDir !== undefined)) refuse('give --url, or --config (and --state-dir), not both', command)
    if (options.url === undefined && options.config === undefined) refuse('missing --config <file> (or --url <url>)', command)
  } else if (command !== 'verify' && options.config === undefined) {
    refuse('missing --config <file>', command)
  }
  if (command === 'reset-offsets' && options.to === undefined) refuse('missing --to earliest|latest|<time>', command)
  if (command === 'dlq') {
    if (args[0] !== 'list' && args[0] !== 'replay') refuse(`dlq takes list or replay, got "${args[0]}"`, command)
    if (args[0] === 'list' && options.execute) refuse('dlq list takes no option --execute (it only reads)', command)
  }
  return { command, args, options }
}
