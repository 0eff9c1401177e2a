import { pino } from 'pino'

/** The one logging interface the project uses; `log/` is the only importer of pino. */
export interface Logger {
  fatal (obj: object, msg: string): void
  error (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
  debug (obj: object, msg: string): void
  child (bindings: Record<string, unknown>): Logger
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** The root logger: JSON lines on stdout, one child per component (`log.child({ component: 'processor' })`). */
export function createLogger (level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } })
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = createLogger('silent')
