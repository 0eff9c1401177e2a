import { Type } from '../schema/schema.ts'
import { isMap, kindOf } from './document.ts'
import type { Write } from './policy.ts'

/**
 * Several writers per DC, for the policies whose values carry one writer's own running state (a counter's
 * total, a union's set): with `writerField` set, each value names its writer in that field of its map, and
 * the state keeps the latest version of each writer of each DC instead of one per DC. Without it, two writers
 * of one DC replace each other's totals or sets, and lose what the other added. The writer SDK's `increment`,
 * `add` and `remove` set it.
 *
 * The slot is a function of the version alone (its DC and its writer field), so absorbing stays a join on the
 * per-slot max-stamp map. A delete, or a stored version that no longer passes the check, takes the DC's own
 * slot: no writer id is empty, so it never replaces a writer's version (the tombstone hides those older than it).
 */
export const writerFieldOption = (what: string): ReturnType<typeof Type.String> => Type.String({
  default: '',
  description: `the map field naming the writer of each ${what}, for several writers per DC (the writer SDK sets it): one ${what} per writer of each DC is kept; empty: one per DC`
})

/** The configured writer field, or undefined for one slot per DC. */
export const writerFieldOf = (options: Readonly<Record<string, unknown>>): string | undefined =>
  typeof options.writerField === 'string' && options.writerField !== '' ? options.writerField : undefined

/** The configuration problem of a writer field that is the policy's own field, or undefined. */
export function writerFieldClash (path: string, field: unknown, writerField: string | undefined, what: string): string | undefined {
  if (writerField === undefined || writerField !== field) return undefined
  return `"${path}.writerField" must differ from "field" ("${writerField}"): one field holds the ${what}, the other the writer`
}

/** Why a decoded map's writer field names no writer, or undefined when it is a string of 1 to 256 characters. */
export function writerProblem (policy: string, decoded: unknown, writerField: string): string | undefined {
  const writer = isMap(decoded) ? decoded[writerField] : undefined
  if (typeof writer === 'string' && writer !== '' && writer.length <= 256) return undefined
  return `${policy} writer field "${writerField}" must be a string of 1 to 256 characters naming the writer, got ${kindOf(writer)}`
}

/** The slot of a version: its DC, and its writer where its value names one. */
export function writerSlot (writerField: string): (w: Write, decoded: (w: Write) => unknown) => string {
  return (w, decoded) => {
    let doc: unknown
    try {
      doc = w.value === null ? undefined : decoded(w)
    } catch {
      doc = undefined
    }
    const writer = isMap(doc) ? doc[writerField] : undefined
    return typeof writer === 'string' ? `${w.stamp.dc}\u0000${writer}` : w.stamp.dc
  }
}
