import { loadConfig } from '../config/load.ts'
import { ConcordError, InternalError, UsageError } from '../errors.ts'
import { createLogger } from '../log/logger.ts'
import { run } from '../main.ts'
import { policies } from '../merge/index.ts'
import { parseCommandLine, type Options } from './args.ts'
import { checkConfig, printConfig } from './config-commands.ts'
import { inspect } from './inspect.ts'
import { dlq, rebuildCommand, resetOffsetsCommand } from './repair-commands.ts'
import { verify } from './verify.ts'

/**
 * `concord <command>`. Exit codes: 0 done (verify: converged); 1 failed (verify: diverged), the reason on
 * stderr as one line `concord: <message> [<code>]` (a config error lists its problems under it), never a
 * stack trace, never a process left half-started; 2 bad command line, the reason and the usage on stderr.
 */
async function main (): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2))
  if (args.command === 'help') {
    console.log(args.text)
    return
  }
  const out = (text: string): void => { console.log(text) }
  switch (args.command) {
    case 'check-config':
      process.exitCode = await checkConfig(args.options, out)
      return
    case 'print-config':
      process.exitCode = printConfig(args.options, out)
      return
    case 'inspect':
      process.exitCode = await inspect(args.args[0]!, args.args[1]!, args.options, out)
      return
    case 'verify':
      process.exitCode = await verify(args.args, args.options, out)
      return
    case 'rebuild':
      process.exitCode = await rebuildCommand(args.options, out)
      return
    case 'dlq':
      process.exitCode = await dlq(args.args[0]!, args.options, out)
      return
    case 'reset-offsets':
      process.exitCode = await resetOffsetsCommand(args.options, out)
      return
    case 'run':
      return runProcessor(args.options)
  }
}

async function runProcessor (options: Options): Promise<void> {
  const config = loadConfig({ file: options.config!, policies })
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
    process.exit(2)
  }
  const coded = err instanceof ConcordError ? err : new InternalError(`unexpected error: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  console.error(`concord: ${coded.message} [${coded.code}]`)
  // Whatever a failed start left behind (a socket, a retry timer) must not keep the process alive.
  process.exit(1)
})
