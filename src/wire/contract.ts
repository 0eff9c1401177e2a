import { createHash } from 'node:crypto'
import type { Stamp } from '../model/stamp.ts'

/**
 * The wire contract in one place: what producers must put on input records, what concord puts on its merged
 * and dead-letter records. Imported by src/, lab/, bench/ and the tests alike, so no header name or key and
 * timestamp format is written anywhere else. The README's "Wire contract" section describes the same.
 */

/** Headers of input records, and of merged records (the winner's, plus `x-merged-by`); values are UTF-8. */
export const H = {
  /** The DC where the write happened. */
  originDc: 'x-origin-dc',
  /** The write time: `<ms since the epoch>[:<counter>]` (see parseOriginTs). */
  originTs: 'x-origin-ts',
  /** Unique per write; time-ordered ids such as UUIDv7 recommended. */
  eventId: 'x-event-id',
  /** On merged records: the DC whose concord produced it. */
  mergedBy: 'x-merged-by',
  /** On merged records whose value was built from several writes: each of them (see sourcesHeader). */
  mergedSources: 'x-merged-sources'
} as const

/** Dead-letter headers, after Kafka Connect's `errors.deadletterqueue.context.headers.enable`. */
export const DLQ = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  exceptionClass: '__connect.errors.exception.class.name',
  message: '__connect.errors.exception.message',
  stage: '__connect.errors.stage',
  dc: '__concord.errors.dc'
} as const

/** DC ids appear in topic prefixes (`dc2.orders`) and key suffixes (`42-dc2`), so they stay plain. */
export const DC_ID_PATTERN = /^[A-Za-z0-9_]{1,64}$/

/** Longest accepted x-event-id, in UTF-8 bytes (a UUID takes 36). */
export const MAX_EVENT_ID_BYTES = 1024

/** The default separator of `suffixed` keys. */
export const KEY_SEPARATOR = '-'

// Keys. `suffixed` keys are `<entityId><sep><dc>` (`order-42-dc1` with sep `-`), split at the LAST separator so
// entity ids may contain it; `plain` keys are the entity id itself (the writer DC then comes from x-origin-dc).

export interface ParsedKey {
  readonly entity: string
  /** The DC named by the key suffix. */
  readonly dc: string
}

/** MM2's DefaultReplicationPolicy name of a peer's copy of a topic: `orders` of dc2 is `dc2.orders` (separator `.`). */
export function remoteTopic (peer: string, separator: string, topic: string): string {
  return `${peer}${separator}${topic}`
}

/** The key a DC writes for an entity: `order-42` by dc1 is `order-42-dc1`. */
export function suffixedKey (entity: string, dc: string, separator = KEY_SEPARATOR): string {
  return `${entity}${separator}${dc}`
}

/** Returns the parsed key, or a reason string when the key is unusable. */
export function parseSuffixedKey (key: string, separator: string, dcs: ReadonlySet<string>): ParsedKey | string {
  const at = key.lastIndexOf(separator)
  if (at <= 0) return `key "${key}" has no "${separator}<dc>" suffix`
  const dc = key.slice(at + separator.length)
  if (!dcs.has(dc)) return `key "${key}" ends in "${dc}", which is not a configured DC (${[...dcs].join(', ')})`
  return { entity: key.slice(0, at), dc }
}

// Timestamps. The `x-origin-ts` form: decimal milliseconds since the epoch, optionally `:<counter>` for a hybrid
// logical clock (`1732530000123` or `1732530000123:2`). Both parts are non-negative integers no larger than
// 2^53 - 1, without signs, spaces or leading zeros... except a lone 0.
const TS_FORM = /^(0|[1-9]\d{0,15})(?::(0|[1-9]\d{0,15}))?$/

export interface OriginTs {
  readonly ts: number
  readonly counter: number
}

/** The parsed time, or a reason string when `text` is not in the wire form. */
export function parseOriginTs (text: string): OriginTs | string {
  const m = TS_FORM.exec(text)
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

/** `ts` or `ts:counter`, the `x-origin-ts` form; the counter is omitted when 0. */
export function formatTs (time: OriginTs): string {
  return time.counter === 0 ? String(time.ts) : `${time.ts}:${time.counter}`
}

/** The origin headers of a write with this stamp, as a producer puts them on the record. */
export function originHeaders (stamp: Stamp): { [H.originDc]: string, [H.originTs]: string, [H.eventId]: string } {
  return { [H.originDc]: stamp.dc, [H.originTs]: formatTs(stamp), [H.eventId]: stamp.eventId }
}

/**
 * The `x-merged-sources` value: a JSON array with one `{"dc","ts","eventId"}` per contributing write, `ts`
 * in the `x-origin-ts` form, in stamp order.
 */
export function sourcesHeader (stamps: readonly Stamp[]): string {
  return JSON.stringify(stamps.map(s => ({ dc: s.dc, ts: formatTs(s), eventId: s.eventId })))
}

/**
 * The event id of a record without `x-event-id`: a content hash. The same write has the same bytes in every DC,
 * and two writes with equal stamps and equal bytes are interchangeable, so the tie-break stays total and shared.
 */
export function contentEventId (key: Buffer, value: Buffer | null): string {
  return 'sha1:' + createHash('sha1').update(key).update(value ?? Buffer.alloc(0)).digest('hex')
}
