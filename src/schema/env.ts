import { expectedOf, Reader } from './read.ts'
import { annotations, type TSchema } from './schema.ts'
import { keysOf } from './keys.ts'
import { isObject, show } from './text.ts'

/** An environment variable that overrides one key of the file. */
export interface EnvOverride {
  readonly name: string
  readonly key: string
  readonly meaning: string
}

/** The keys of a schema that an environment variable may set (those with an `env` annotation). */
export function envOverridesOf (schema: TSchema): EnvOverride[] {
  return keysOf(schema).flatMap(k => {
    const name = annotations(k.schema).env
    return name === undefined ? [] : [{ name, key: k.path, meaning: annotations(k.schema).description ?? '' }]
  })
}

/** A variable's text as the key's value: a number for an integer key, a list for a list key (comma-separated). */
function parse (schema: TSchema, text: string): unknown {
  const type = (schema as { type?: string }).type
  if (type === 'integer') return /^-?[0-9]+$/.test(text) ? Number(text) : text
  if (type === 'array') return text.split(',').map(s => s.trim())
  return text
}

/**
 * Sets each override found in `env` on a copy of `raw` (precedence: file < env; an empty variable counts as
 * unset). Each value is checked against its key's schema here, so a bad one is reported by its variable name;
 * rules that relate keys are checked later with the rest of the configuration.
 */
export function applyEnv (schema: TSchema, raw: unknown, env: NodeJS.ProcessEnv): { raw: unknown, applied: string[], problems: string[] } {
  const applied: string[] = []
  const problems: string[] = []
  if (!isObject(raw) && raw !== null && raw !== undefined) return { raw, applied, problems }
  const root: Record<string, unknown> = { ...raw }
  for (const k of keysOf(schema)) {
    const a = annotations(k.schema)
    const text = a.env === undefined ? undefined : env[a.env]
    if (text === undefined || text === '') continue
    const check = new Reader()
    const value = check.read(k.schema, parse(k.schema, text), a.env!)
    if (check.problems.length > 0 || value === undefined) {
      problems.push(`"${a.env}" must be ${a.envExpected ?? expectedOf(k.schema)}, got ${a.secret === true ? 'a value not shown (secret)' : show(text)}`)
      continue
    }
    if (!setPath(root, k.path.split('.'), value)) continue // a section is not a mapping: validation reports it
    applied.push(a.env!)
  }
  return { raw: root, applied, problems }
}

/**
 * Sets `value` at `path` in `root`, copying each mapping on the way (the file's own objects stay as they were)
 * and creating the missing ones; false when a section on the way is not a mapping.
 */
function setPath (root: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let at = root
  for (const name of path.slice(0, -1)) {
    const held = at[name]
    if (held !== undefined && held !== null && !isObject(held)) return false
    const copy: Record<string, unknown> = { ...(held ?? {}) }
    at[name] = copy
    at = copy
  }
  at[path[path.length - 1]!] = value
  return true
}
