import { literals } from './read.ts'
import { annotations, type TSchema } from './schema.ts'

/** One configurable key: its path (`topics[].codec`) and its schema. */
export interface KeyDoc {
  readonly path: string
  readonly schema: TSchema
  readonly type: string
  readonly default: string
  readonly description: string
}

interface Walkable {
  readonly type?: string
  readonly properties?: Readonly<Record<string, TSchema>>
  readonly items?: TSchema
  readonly default?: unknown
}

function typeOf (schema: TSchema): string {
  const a = annotations(schema)
  if (a.docType !== undefined) return a.docType
  const names = literals(schema)
  if (names !== undefined) return names.map(n => `\`${n}\``).join(' \\| ')
  const type = (schema as Walkable).type
  return type === 'array' ? 'list' : type ?? 'value'
}

function defaultOf (schema: TSchema): string {
  const a = annotations(schema)
  if (a.docDefault !== undefined) return a.docDefault
  const d = (schema as Walkable).default
  return d === undefined ? 'required' : `\`${String(d)}\``
}

/**
 * Every leaf key of a schema, in declaration order: mappings are walked into, lists of mappings as
 * `key[].sub`; everything else (strings, numbers, lists of scalars, hook-read values) is a leaf.
 */
export function keysOf (schema: TSchema, path = ''): KeyDoc[] {
  const s = schema as Walkable
  const at = (key: string): string => path === '' ? key : `${path}.${key}`
  if (s.type === 'object' && annotations(schema).read === undefined) {
    return Object.entries(s.properties ?? {}).flatMap(([key, child]) => {
      const c = child as Walkable
      if (c.type === 'array' && (c.items as Walkable | undefined)?.type === 'object') return keysOf(c.items!, `${at(key)}[]`)
      if (c.type === 'object' && annotations(child).read === undefined) return keysOf(child, at(key))
      return [{ path: at(key), schema: child, type: typeOf(child), default: defaultOf(child), description: annotations(child).description ?? '' }]
    })
  }
  return []
}

/** A key's row of the README's configuration table. */
export const keyRow = (k: KeyDoc): string => `| \`${k.path}\` | ${k.type} | ${k.default} | ${k.description} |`
