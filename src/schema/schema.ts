import { Type, type Static, type TSchema } from '@sinclair/typebox'

/**
 * The only importer of @sinclair/typebox. A configuration is declared once as a TypeBox schema of its
 * resolved form (every key present), which gives its static type; the options below, carried on each
 * schema node, give the rest: how a rule reads in an error message, defaults, documentation and
 * environment overrides. `read.ts` walks a schema to validate and resolve a value, `docs.ts` lists its keys.
 */
export { Type, type Static, type TSchema }

/** What one resolved object and the root resolved so far look like to a derived default or a check. */
export interface ReadContext {
  readonly root: Readonly<Record<string, unknown>>
  readonly parent: Readonly<Record<string, unknown>>
}

/** Reports problems while a hook reads a value; see `Reader` in read.ts. */
export interface ProblemSink {
  fail (path: string, expected: string, got: unknown): undefined
  read (schema: TSchema, value: unknown, path: string): unknown
}

/** The options concord reads on schema nodes, beside JSON Schema's own (default, minimum, pattern, ...). */
export interface Annotations {
  /** The rule as an error message says it: `a DC id (1 to 64 letters, digits, _)`. */
  readonly expected?: string
  /** A rule JSON Schema cannot say (a port range inside host:port); checked after the schema's own. */
  readonly test?: (value: string) => boolean
  /** A default computed from other keys (`concord-<dc>`); undefined when those keys are invalid. */
  readonly derive?: (context: ReadContext) => unknown
  /** Turns a valid value into its resolved form (a relative path into an absolute one). */
  readonly finish?: (value: never) => unknown
  /** Reads the value itself, for a shape the walker does not know (a policy name or mapping). */
  readonly read?: (value: unknown, path: string, sink: ProblemSink, context: ReadContext) => unknown
  /** How the key's type and default read in the README's configuration table. */
  readonly docType?: string
  readonly docDefault?: string
  /** One line for the README's configuration table. */
  readonly description?: string
  /** The environment variable that overrides the key, and how its rule reads for text. */
  readonly env?: string
  readonly envExpected?: string
  /** A secret (a password): never shown, in a printed configuration nor in an error message. */
  readonly secret?: boolean
}

export const annotations = (schema: TSchema): Annotations => schema as unknown as Annotations
