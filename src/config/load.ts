import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { ConfigError } from '../errors.ts'
import type { Config } from './types.ts'
import { dcIdExpected, dcIdPattern, hostPortExpected, isHostPort, logLevels, show, validateConfig } from './validate.ts'

export interface LoadOptions {
  /** Path of the YAML configuration file. */
  readonly file: string
  /** Environment to read overrides from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv
}

interface Override {
  readonly name: string
  readonly key: string
  readonly meaning: string
  readonly expected: string
  /** The value to set, or undefined when the text is not a valid value. */
  readonly parse: (text: string) => unknown
}

const list = (text: string): string[] => text.split(',').map(s => s.trim())
const listOf = (test: (s: string) => boolean) => (text: string): string[] | undefined =>
  list(text).every(test) ? list(text) : undefined
const anyString = (text: string): string => text

/**
 * Environment overrides, applied over the file (precedence: file < env). An empty variable counts as unset.
 * Each value is checked here, so a bad one is reported by its variable name; rules that relate keys (a peer equal
 * to `dc`, say) are checked with the rest of the configuration.
 *
 * | variable               | key            | value                                          |
 * |------------------------|----------------|------------------------------------------------|
 * | CONCORD_DC             | dc             | DC id (1 to 64 letters, digits, _)                     |
 * | CONCORD_PEERS          | peers          | comma-separated DC ids, e.g. `dc2,dc3`         |
 * | CONCORD_KAFKA_BROKERS  | kafka.brokers  | comma-separated host:port                      |
 * | CONCORD_KAFKA_GROUP_ID | kafka.groupId  | consumer group id                              |
 * | CONCORD_STORE_DIR      | store.dir      | state directory, relative to the working dir   |
 * | CONCORD_HTTP_PORT      | http.port      | integer 0..65535 (0 = any free port)           |
 * | CONCORD_HTTP_HOST      | http.host      | listen address                                 |
 * | CONCORD_LOG_LEVEL      | log.level      | fatal, error, warn, info, debug, trace, silent |
 */
const overrides: readonly Override[] = [
  {
    name: 'CONCORD_DC',
    key: 'dc',
    meaning: "this datacenter's id",
    expected: dcIdExpected,
    parse: text => dcIdPattern.test(text) ? text : undefined
  },
  {
    name: 'CONCORD_PEERS',
    key: 'peers',
    meaning: 'the other datacenters, comma-separated',
    expected: 'a comma-separated list of DC ids (1 to 64 letters, digits, _)',
    parse: listOf(s => dcIdPattern.test(s))
  },
  {
    name: 'CONCORD_KAFKA_BROKERS',
    key: 'kafka.brokers',
    meaning: 'the local Kafka bootstrap brokers, comma-separated host:port',
    expected: `a comma-separated list of ${hostPortExpected}`,
    parse: listOf(isHostPort)
  },
  {
    name: 'CONCORD_KAFKA_GROUP_ID',
    key: 'kafka.groupId',
    meaning: 'the Kafka consumer group id',
    expected: 'a non-empty string',
    parse: anyString
  },
  {
    name: 'CONCORD_STORE_DIR',
    key: 'store.dir',
    meaning: 'the state store directory',
    expected: 'a non-empty string',
    parse: anyString
  },
  {
    name: 'CONCORD_HTTP_PORT',
    key: 'http.port',
    meaning: 'the HTTP port (0 = any free port)',
    expected: 'an integer 0..65535',
    parse: text => /^[0-9]{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined
  },
  {
    name: 'CONCORD_HTTP_HOST',
    key: 'http.host',
    meaning: 'the HTTP listen address',
    expected: 'a non-empty string',
    parse: anyString
  },
  {
    name: 'CONCORD_LOG_LEVEL',
    key: 'log.level',
    meaning: 'the log level',
    expected: `one of ${logLevels.join(', ')}`,
    parse: text => (logLevels as readonly string[]).includes(text) ? text : undefined
  }
]

/** The environment variables that override the file, with the key each sets and a one-line meaning. */
export const envOverrides: ReadonlyArray<{ readonly name: string, readonly key: string, readonly meaning: string }> =
  Object.freeze(overrides.map(({ name, key, meaning }) => Object.freeze({ name, key, meaning })))

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function readYaml (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read: ${(err as Error).message}`
    throw new ConfigError([`config file "${file}" ${why}`], { cause: err })
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map(e => {
      const { line, col } = lineCounter.linePos(e.pos[0])
      return `config file "${file}" is not valid YAML: line ${line}, column ${col}: ${e.message}`
    }), { cause: doc.errors[0] })
  }
  try {
    return doc.toJS()
  } catch (err) {
    throw new ConfigError([`config file "${file}" is not valid YAML: ${(err as Error).message}`], { cause: err })
  }
}

/** Sets each override found in `env` on a copy of `raw`; a bad value is a problem naming its variable. */
function applyEnv (raw: unknown, env: NodeJS.ProcessEnv): { raw: unknown, applied: string[], problems: string[] } {
  const applied: string[] = []
  const problems: string[] = []
  if (!isObject(raw) && raw !== null && raw !== undefined) return { raw, applied, problems }
  const root: Record<string, unknown> = { ...raw }
  for (const o of overrides) {
    const text = env[o.name]
    if (text === undefined || text === '') continue
    const value = o.parse(text)
    if (value === undefined) {
      problems.push(`"${o.name}" must be ${o.expected}, got ${show(text)}`)
      continue
    }
    const [section, key] = o.key.split('.') as [string, string | undefined]
    if (key === undefined) root[section] = value
    else if (isObject(root[section])) root[section] = { ...root[section], [key]: value }
    else if (root[section] === undefined || root[section] === null) root[section] = { [key]: value }
    else continue // not a mapping: validation reports the section itself
    applied.push(o.name)
  }
  return { raw: root, applied, problems }
}

/**
 * Reads the YAML file, applies the environment overrides and validates the result. Throws one ConfigError for a
 * missing or unreadable file, invalid YAML (with line and column), or every problem in the configuration.
 */
export function loadConfig (options: LoadOptions): Config {
  if (!isObject(options) || typeof options.file !== 'string' || options.file === '') {
    throw new ConfigError([`"file" must be the path of a YAML config file, got ${show(isObject(options) ? options.file : options)}`])
  }
  const { file, env = process.env } = options
  const { raw, applied, problems } = applyEnv(readYaml(file), env)
  const source = applied.length === 0 ? file : `${file} with ${applied.join(', ')}`
  let config: Config | undefined
  try {
    config = validateConfig(raw, source)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems.push(...err.problems)
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems)
  return config
}
