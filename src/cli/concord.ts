import { loadConfig } from '../config/load.ts'
import { ConcordError, UsageError } from '../errors.ts'
import { createLogger } from '../log/logger.ts'
import { run } from '../main.ts'

const USAGE = `usage: concord <command> --config <file>
commands:
  run            consume, merge and emit until SIGTERM or SIGINT
  check-config   validate the configuration file (and CONCORD_* overrides) and print the result
options:
  --config, -c   YAML configuration file (see config/dc1.yaml)
  --help, -h     this text`

function parseArgs (argv: readonly string[]): { command: string, config: string } {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h') throw new UsageError(USAGE)
  if (command !== 'run' && command !== 'check-config') throw new UsageError(`unknown command "${command}"\n${USAGE}`)
  let config: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (arg === '--config' || arg === '-c') config = rest[++i]
    else if (arg.startsWith('--config=')) config = arg.slice('--config='.length)
    else throw new UsageError(`unknown option "${arg}"\n${USAGE}`)
  }
  if (config === undefined || config === '') throw new UsageError(`missing --config <file>\n${USAGE}`)
  return { command, config }
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const config = loadConfig({ file: args.config })
  if (args.command === 'check-config') {
    console.log(JSON.stringify(config, null, 2))
    return
  }
  const log = createLogger(config.log.level, { dc: config.dc })
  const running = await run(config, log)
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    running.stop().then(() => { process.exitCode = 0 }, (err: unknown) => {
      log.error({ err }, 'error while stopping')
      process.exitCode = 1
    })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(err.message)
    process.exitCode = 2
  } else if (err instanceof ConcordError) {
    console.error(`concord: ${err.message} [${err.code}]`)
    process.exitCode = 1
  } else {
    console.error(err)
    process.exitCode = 1
  }
})
