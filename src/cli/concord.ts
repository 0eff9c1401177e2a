import { loadConfig } from '../config/load.ts'
import { ConcordError, InternalError, UsageError } from '../errors.ts'
import { createLogger } from '../log/logger.ts'
import { checkPolicies, run } from '../main.ts'
import { policies } from '../merge/index.ts'
import { parseCommandLine } from './args.ts'

/**
 * `concord <command>`. Every failure before the processor runs ends the process within moments, with one
 * line `concord: <message> [<code>]` on stderr (a config error lists its problems under it) and exit code 1
 * (2 for a bad command line): never a stack trace, never a process left half-started.
 */
async function main (): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2))
  if (args.command === 'help') {
    console.log(args.text)
    return
  }
  const config = loadConfig({ file: args.config, policies })
  if (args.command === 'check-config') {
    await checkPolicies(config)
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
    process.exit(2)
  }
  const coded = err instanceof ConcordError ? err : new InternalError(`unexpected error: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  console.error(`concord: ${coded.message} [${coded.code}]`)
  // Whatever a failed start left behind (a socket, a retry timer) must not keep the process alive.
  process.exit(1)
})
