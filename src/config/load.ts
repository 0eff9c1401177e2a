import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { ConfigError } from '../errors.ts'
import { applyEnv, envOverridesOf, type EnvOverride } from '../schema/env.ts'
import { isObject, show } from '../schema/text.ts'
import { configSchema, type Config, type PolicyCatalog } from './schema.ts'
import { validateConfig } from './validate.ts'

export interface LoadOptions {
  /** Path of the YAML configuration file. */
  readonly file: string
  /** Environment to read overrides from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** The merge policies a topic may name (src/merge/index.ts). */
  readonly policies: PolicyCatalog
}

/**
 * The environment variables that override the file, each declared with its key in schema.ts (`env`):
 * precedence file < env, and an empty variable counts as unset. No policy option has one, so the catalog
 * does not matter here.
 */
export const envOverrides: readonly EnvOverride[] =
  Object.freeze(envOverridesOf(configSchema(new Map())).map(o => Object.freeze(o)))

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

/**
 * Reads the YAML file, applies the environment overrides and validates the result. Throws one ConfigError for a
 * missing or unreadable file, invalid YAML (with line and column), or every problem in the configuration.
 */
export function loadConfig (options: LoadOptions): Config {
  if (!isObject(options) || typeof options.file !== 'string' || options.file === '') {
    throw new ConfigError([`"file" must be the path of a YAML config file, got ${show(isObject(options) ? options.file : options)}`])
  }
  const { file, env = process.env, policies } = options
  const { raw, applied, problems } = applyEnv(configSchema(policies), readYaml(file), env)
  const source = applied.length === 0 ? file : `${file} with ${applied.join(', ')}`
  let config: Config | undefined
  try {
    config = validateConfig(raw, { policies, source })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems.push(...err.problems)
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems)
  return config
}
