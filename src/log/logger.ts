import { pino, type Logger as Pino } from 'pino'
import { InternalError } from '../errors.ts'

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

/** Where the JSON lines go (default: stdout); a test passes one that keeps them. */
export interface LogDestination {
  write (line: string): void
}

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug'
type Fields = Readonly<Record<string, unknown>>

/** The keys pino writes on every line itself: a binding may not use them, a call's object has them renamed. */
const RESERVED = ['level', 'time', 'msg'] as const

const noop = (): void => {}

/**
 * One line's fields: the bindings, then the call's object over them. pino writes its bindings and the call's
 * object side by side without merging them, so a key given in both (or by a root and again by a child) came
 * out twice in the line (`"dc":"dc1",...,"dc":"dc1"`), which JSON parsers resolve differently. Built as one
 * object, each key is there once, the most specific value winning; pino's own keys in a call's object are
 * kept as `level_`, `time_`, `msg_`. An Error given as the object is logged as `err`.
 */
function fieldsOf (bindings: Fields, obj: object): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...bindings, ...(obj instanceof Error ? { err: obj } : obj) }
  for (const key of RESERVED) {
    if (!Object.hasOwn(fields, key)) continue
    fields[`${key}_`] = fields[key]
    delete fields[key]
  }
  return fields
}

function bind (root: Pino, bindings: Fields): Logger {
  // Decided once per logger: a disabled level is a no-op, as in pino itself.
  const method = (level: Method) => root.isLevelEnabled(level)
    ? (obj: object, msg: string): void => { root[level](fieldsOf(bindings, obj), msg) }
    : noop
  return {
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    child: more => bind(root, Object.freeze({ ...bindings, ...checked(more) }))
  }
}

function checked (bindings: Record<string, unknown>): Record<string, unknown> {
  const taken = RESERVED.filter(key => Object.hasOwn(bindings, key))
  if (taken.length > 0) throw new InternalError(`log bindings may not use pino's own keys ${RESERVED.join(', ')}, got ${taken.join(', ')}`)
  return bindings
}

/**
 * The root logger: JSON lines on stdout, `pid` and `bindings` on every line, one child per component
 * (`log.child({ component: 'processor' })`). A child's bindings replace its parent's of the same key, and
 * each line holds every key once (see fieldsOf).
 */
export function createLogger (level: LogLevel, bindings: Record<string, unknown> = {}, destination?: LogDestination): Logger {
  const options = { level, base: null }
  const root = destination === undefined ? pino(options) : pino(options, destination)
  return bind(root, Object.freeze({ pid: process.pid, ...checked(bindings) }))
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = createLogger('silent')
