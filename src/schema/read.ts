import { InternalError } from '../errors.ts'
import { annotations, type ProblemSink, type ReadContext, type TSchema } from './schema.ts'
import { isObject, join, show, suggest } from './text.ts'

/** The JSON Schema keywords the walker understands; a schema uses no others. */
interface Node {
  readonly type?: 'object' | 'string' | 'integer' | 'array' | 'boolean'
  readonly properties?: Readonly<Record<string, TSchema>>
  readonly items?: TSchema
  readonly anyOf?: ReadonlyArray<{ readonly const?: unknown }>
  readonly default?: unknown
  readonly minLength?: number
  readonly pattern?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly minItems?: number
  readonly maxItems?: number
  readonly uniqueItems?: boolean
}

const node = (schema: TSchema): Node => schema as unknown as Node
const missing = (v: unknown): boolean => v === undefined || v === null

/** The names a union of literals allows, or undefined when the schema is no such union. */
export function literals (schema: TSchema): readonly string[] | undefined {
  const anyOf = node(schema).anyOf
  if (anyOf === undefined || !anyOf.every(s => typeof s.const === 'string')) return undefined
  return anyOf.map(s => s.const as string)
}

/** The rule a value breaks, as an error message says it. */
export function expectedOf (schema: TSchema): string {
  const a = annotations(schema)
  if (a.expected !== undefined) return a.expected
  const n = node(schema)
  const names = literals(schema)
  if (names !== undefined) return `one of ${names.join(', ')}`
  switch (n.type) {
    case 'integer': {
      const min = n.minimum ?? Number.MIN_SAFE_INTEGER
      return n.maximum === undefined ? `an integer >= ${min}` : `an integer ${min}..${n.maximum}`
    }
    case 'object': return `a mapping with keys ${Object.keys(n.properties ?? {}).join(', ')}`
    case 'array': return 'a list'
    case 'boolean': return 'true or false'
    default: return 'a non-empty string'
  }
}

/**
 * Validates a value against a schema and resolves it: defaults applied (static or derived from other keys),
 * each problem recorded with its key path, the expected value and what it got. An invalid value reads as
 * undefined, so rules that relate several keys skip it rather than pile up noise. Unknown keys are
 * problems, with the nearest known key as a suggestion.
 */
export class Reader implements ProblemSink {
  readonly problems: string[] = []
  #root: Record<string, unknown> = {}

  fail (path: string, expected: string, got: unknown): undefined {
    this.problems.push(`${path === '' ? 'the configuration' : `"${path}"`} must be ${expected}, got ${show(got)}`)
    return undefined
  }

  /** Reads the whole value; a missing or null root is a problem, not an empty mapping. */
  readRoot (schema: TSchema, value: unknown): Record<string, unknown> | undefined {
    if (missing(value) || !isObject(value)) return this.fail('', expectedOf(schema), value)
    return this.#object(schema, value, '', true) as Record<string, unknown> | undefined
  }

  read (schema: TSchema, value: unknown, path: string, context?: ReadContext): unknown {
    const a = annotations(schema)
    if (a.read !== undefined) return a.read(value, path, this, context ?? { root: this.#root, parent: {} })
    const n = node(schema)
    const names = literals(schema)
    if (names !== undefined) return names.includes(value as string) ? value : this.fail(path, expectedOf(schema), value)
    switch (n.type) {
      case 'object':
        if (!isObject(value)) return this.fail(path, expectedOf(schema), value)
        return this.#object(schema, value, path, false)
      case 'array':
        return this.#array(schema, value, path)
      case 'boolean':
        return typeof value === 'boolean' ? value : this.fail(path, expectedOf(schema), value)
      case 'integer': {
        const ok = Number.isSafeInteger(value) && (value as number) >= (n.minimum ?? -Infinity) && (value as number) <= (n.maximum ?? Infinity)
        return ok ? value : this.fail(path, expectedOf(schema), value)
      }
      case 'string': {
        const ok = typeof value === 'string' && value.length >= (n.minLength ?? 1) &&
          (n.pattern === undefined || new RegExp(n.pattern).test(value)) && (a.test === undefined || a.test(value))
        return ok ? value : this.fail(path, expectedOf(schema), value)
      }
      default:
        throw new InternalError(`schema at "${path}" has no type the reader knows`)
    }
  }

  #object (schema: TSchema, value: Record<string, unknown>, path: string, isRoot: boolean): Record<string, unknown> {
    const properties = node(schema).properties ?? {}
    const known = Object.keys(properties)
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue
      const hint = suggest(key, known)
      this.problems.push(`unknown key "${join(path, key)}"${hint === undefined ? '' : ` (did you mean "${join(path, hint)}"?)`}`)
    }
    const out: Record<string, unknown> = {}
    if (isRoot) this.#root = out
    const derived: string[] = []
    for (const [key, child] of Object.entries(properties)) {
      const given = value[key]
      const n = node(child)
      const a = annotations(child)
      if (missing(given) && a.read === undefined) {
        if (n.default !== undefined) { out[key] = structuredClone(n.default); continue }
        if (a.derive !== undefined) { derived.push(key); continue }
        // A section left out is an empty one: its own keys then get their defaults or report themselves.
        if (n.type === 'object') { out[key] = this.#object(child, {}, join(path, key), false); continue }
      }
      out[key] = this.read(child, given, join(path, key), { root: this.#root, parent: out })
    }
    for (const key of derived) out[key] = annotations(properties[key]!).derive!({ root: this.#root, parent: out })
    for (const [key, child] of Object.entries(properties)) {
      const finish = annotations(child).finish as ((v: unknown) => unknown) | undefined
      if (finish !== undefined && out[key] !== undefined) out[key] = finish(out[key])
    }
    return out
  }

  /** A list, index for index; an invalid item reads as undefined, and a repeated one too when items must be unique. */
  #array (schema: TSchema, value: unknown, path: string): unknown[] | undefined {
    const n = node(schema)
    if (!Array.isArray(value) || value.length < (n.minItems ?? 0) || value.length > (n.maxItems ?? Infinity)) {
      return this.fail(path, expectedOf(schema), value)
    }
    const seen = new Set<unknown>()
    return value.map((item: unknown, i) => {
      const itemPath = join(path, i)
      const items = n.items!
      const v = node(items).type === 'object'
        ? (isObject(item) ? this.#object(items, item, itemPath, false) : this.fail(itemPath, expectedOf(items), item))
        : this.read(items, item, itemPath)
      if (v === undefined || n.uniqueItems !== true) return v
      if (seen.has(v)) return this.fail(itemPath, 'unique', v)
      seen.add(v)
      return v
    })
  }
}
