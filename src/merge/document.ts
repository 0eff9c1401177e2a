import { ConfigError } from '../errors.ts'
import { show } from '../schema/text.ts'
import type { BindContext } from './policy.ts'

/**
 * What the policies that read documents (counter, max, min, union, lww-fields) share: telling a map from
 * the other values a codec decodes, naming a value in a rejection reason, and refusing codec raw at bind.
 */

/** A plain object: what msgpack and JSON decode a map into (not a list, a byte string, null or a msgpack extension). */
export function isMap (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A value for a message that shows it: `a list`, `a byte string`, or the value itself (JSON, cut short). */
export function kindOf (v: unknown): string {
  if (Array.isArray(v)) return 'a list'
  if (Buffer.isBuffer(v)) return 'a byte string'
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  return typeof v === 'bigint' ? String(v) : show(v)
}

/** A value's type in words, for a message that names it: `nothing`, `null`, `a list`, `bytes`, `a map`, `a string`... */
export function typeOf (v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (Buffer.isBuffer(v)) return 'bytes'
  if (isMap(v)) return 'a map'
  return typeof v === 'object' ? 'an extension value' : `a ${typeof v}`
}

/** Policies that read or build values cannot work on opaque bytes: `does` says what the policy does with them. */
export function refuseRaw (policy: string, context: BindContext, does = 'reads values'): void {
  if (context.codec.name === 'raw') {
    throw new ConfigError([`"${context.path}" is ${policy}, which ${does}: it needs codec msgpack or json, got raw`])
  }
}
