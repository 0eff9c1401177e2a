/**
 * The `x-origin-ts` wire form: decimal milliseconds since the epoch, optionally `:<counter>` for a hybrid
 * logical clock (`1732530000123` or `1732530000123:2`). Both parts are non-negative integers no larger than
 * 2^53 - 1, without signs, spaces or leading zeros... except a lone 0.
 */
const FORM = /^(0|[1-9]\d{0,15})(?::(0|[1-9]\d{0,15}))?$/

export interface OriginTs {
  readonly ts: number
  readonly counter: number
}

/** The parsed time, or a reason string when `text` is not in the wire form. */
export function parseOriginTs (text: string): OriginTs | string {
  const m = FORM.exec(text)
  if (m === null) return `timestamp "${text.slice(0, 64)}" is not <milliseconds>[:<counter>]`
  const ts = Number(m[1])
  const counter = m[2] === undefined ? 0 : Number(m[2])
  if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(counter)) return `timestamp "${text}" is out of range`
  return { ts, counter }
}

/** A timestamp read from a decoded value: a non-negative integer of milliseconds, or the header's string form. */
export function originTsFromValue (field: unknown): OriginTs | string {
  if (typeof field === 'number') {
    return Number.isSafeInteger(field) && field >= 0 ? { ts: field, counter: 0 } : `timestamp ${field} is not a non-negative integer of milliseconds`
  }
  if (typeof field === 'string') return parseOriginTs(field)
  return `timestamp field is ${field === undefined ? 'missing' : `a ${typeof field}, not a number or string`}`
}
