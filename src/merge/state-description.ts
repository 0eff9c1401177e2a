import type { Stamp } from '../model/stamp.ts'

/**
 * What a policy says of an entity's decoded state for people and tools (the state query, `concord inspect`):
 * plain JSON data, built by a pure function of the state, so two DCs with the same state describe it alike
 * (lists in a fixed order: by writer DC, by field name). It is a view, never read back: the store keeps
 * the policy's own encoding.
 */

/** A JSON value: what `JSON.stringify` writes and `JSON.parse` gives back unchanged. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** A stamp as JSON: the writer DC, its time (ms since the epoch), its hybrid-logical-clock counter, its event id. */
export interface StampView {
  readonly dc: string
  readonly ts: number
  readonly counter: number
  readonly eventId: string
}

/**
 * A value as JSON: `json` when the topic's codec decodes it to data JSON holds exactly (no byte strings,
 * no integers beyond 2^53 (bigint or number), no NaN or msgpack extensions), else `base64` of its bytes as stored.
 */
export type ValueView =
  | { readonly encoding: 'json', readonly value: Json }
  | { readonly encoding: 'base64', readonly value: string }

/** The latest version of one writer DC, in the sibling layout (lww, counter, max, min, union, dc-priority). */
export interface VersionView {
  readonly stamp: StampView
  /** A delete (a Kafka tombstone). */
  readonly deleted: boolean
  /** Whether the policy resolves it: not a delete, newer than the tombstone (and the delete rule), accepted by the policy. */
  readonly live: boolean
  /** The version's value; absent for a delete. */
  readonly value?: ValueView
}

/** One writer DC's latest entry of one field, in the fields layout (lww-fields). */
export interface FieldEntryView {
  readonly stamp: StampView
  /** A field delete (the patch set it to null). */
  readonly deleted: boolean
  readonly value?: ValueView
}

export type StateDescription =
  | {
    readonly layout: 'siblings'
    /** The newest delete absorbed, or null. */
    readonly tombstone: StampView | null
    /** The latest version of each writer DC, by DC (UTF-8 order). */
    readonly versions: readonly VersionView[]
  }
  | {
    readonly layout: 'fields'
    readonly tombstone: StampView | null
    /** Per field name (UTF-8 order): each writer DC's latest entry, by DC. */
    readonly fields: ReadonlyArray<{ readonly name: string, readonly entries: readonly FieldEntryView[] }>
  }
  | {
    readonly layout: 'custom'
    /** The greatest stamp absorbed from each writer DC, by DC. */
    readonly sources: readonly StampView[]
    /**
     * What the module's `describe(state)` returned, as JSON; without that export (or when it throws or
     * returns what JSON cannot hold), the module's state itself as the codec round-trips it.
     */
    readonly state: ValueView
    /** Where `state` comes from: the module's `describe`, or the state itself; with why describe was not used. */
    readonly describedBy: 'module' | 'state'
    readonly describeError?: string
  }

/** The topic's value codec, as the views need it (policy.ts's ValueCodec, named here to keep the imports one way). */
interface ViewCodec {
  readonly name: string
  encode (value: unknown): Buffer
  decode (bytes: Buffer): unknown
}

export const stampView = (s: Stamp): StampView => ({ dc: s.dc, ts: s.ts, counter: s.counter, eventId: s.eventId })

/**
 * The data as JSON, or undefined when JSON cannot hold it exactly: a byte string, a bigint, a number that
 * is not finite or an integer beyond 2^53, undefined, a function, an object that is no plain map or list (a msgpack extension value).
 */
export function toJson (v: unknown, depth = 0): Json | undefined {
  if (depth > 200) return undefined
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  // An integer beyond 2^53 may have been rounded when decoded (a msgpack int64), and JSON readers round it.
  if (typeof v === 'number') return Number.isFinite(v) && (Number.isSafeInteger(v) || !Number.isInteger(v)) ? v : undefined
  if (Array.isArray(v)) {
    const out: Json[] = []
    for (const x of v) {
      const j = toJson(x, depth + 1)
      if (j === undefined) return undefined
      out.push(j)
    }
    return out
  }
  if (typeof v !== 'object' || Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return undefined
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) return undefined
  const entries: Array<[string, Json]> = []
  for (const [k, x] of Object.entries(v)) {
    const j = toJson(x, depth + 1)
    if (j === undefined) return undefined
    entries.push([k, j])
  }
  // fromEntries defines own properties: a key named __proto__ stays a key.
  return Object.fromEntries(entries)
}

/** Value bytes as the topic's codec decodes them, as JSON when it holds them exactly, else base64. */
export function valueView (bytes: Buffer, codec: ViewCodec): ValueView {
  if (codec.name !== 'raw') {
    try {
      const j = toJson(codec.decode(bytes))
      if (j !== undefined) return { encoding: 'json', value: j }
    } catch {
      // Not valid under the codec (kept by an earlier configuration): shown as bytes.
    }
  }
  return { encoding: 'base64', value: bytes.toString('base64') }
}

/** A decoded value as JSON when it holds it exactly, else base64 of its encoding with the codec. */
export function decodedView (value: unknown, codec: ViewCodec): ValueView {
  const j = toJson(value)
  if (j !== undefined) return { encoding: 'json', value: j }
  return { encoding: 'base64', value: codec.encode(value).toString('base64') }
}
