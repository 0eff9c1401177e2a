import { ConfigError } from '../errors.ts'
import { compareStamps, compareUtf8, type Stamp } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { decodeFieldsState, encodeFieldsState } from './fields-codec.ts'
import type { Absorbed, BindContext, Conflict, Merger, MergePolicy, Resolved, Write } from './policy.ts'

/**
 * Field-level last-write-wins (`policy: lww-fields`). A record is a patch: a map of top-level fields to set,
 * a field set to null being deleted. Each field resolves by last-write-wins on its own, so two DCs editing
 * different fields of one entity at the same time both keep their edit. Nested paths are not supported: a
 * field holding a map is replaced whole by a newer patch that sets the field.
 *
 * State (its own, not the sibling state): per field, the stamp of the latest patch that set it and the
 * decoded value, null for a field delete (a field tombstone, so that an older patch cannot bring the field
 * back); and the greatest record delete (Kafka tombstone) ever absorbed, the tombstone. A stamp is dead when
 * it is not newer than the tombstone or, under `deleteRule: delete-wins`, made less than the conflict window
 * after it. Dead fields are dropped and dead patches ignored: the tombstone only grows, so they can never
 * count again.
 * Resolve: with a tombstone and no field left, the entity is deleted by the tombstone. Else the document of
 * the fields with non-null values, built with keys in UTF-8 byte order and encoded with the topic's codec (a
 * state of field deletes only resolves to `{}`); synthesised, so no origin, and the sources are the distinct
 * stamps of the held fields, deletes included. Caveat: a JavaScript object puts integer-like keys ("7",
 * "42") first, in numeric order, and the codecs encode objects in their key order; the order is still the
 * same in every DC.
 *
 * Laws: the state is the product of one max-stamp register per field name and a max-stamp register for the
 * tombstone, each a semilattice, so absorbing is commutative, associative and idempotent. Dropping dead
 * fields keeps it a join: deadness only grows with the tombstone, and a patch that is not dead is newer than
 * every field that was dropped, so the state is always "per field, the greatest patch setting it that is not
 * dead under the greatest delete", whatever the order. Resolve reads only that state: no clock, no local DC,
 * no arrival order; same state, same bytes. A patch is rejected for its own value alone (not a map, or a
 * field name that is not well-formed Unicode), so rejection is the same in every order.
 * Tie-break: the stamp order (ts, counter, dc, eventId), total while event ids are unique per write; a
 * redelivered patch, every field held with its stamp, is a duplicate (so is a patch of no fields: it changes
 * nothing and creates no entity).
 * Deletes: a field set to null deletes that field only. A Kafka tombstone deletes the record and every field
 * not newer than it, wherever it arrives in the order; a newer patch revives the record with the fields it
 * (and any newer patch) sets, and a patch of field deletes only revives it as `{}`. Under delete-wins a
 * patch must also be made the conflict window after the delete.
 * Conflicts: for each field an applied patch sets to a value, when the field's holder is a value set by
 * another DC within the conflict window and the two encode to different bytes: one conflict naming the
 * field, the greater stamp the winner, each side that field's value encoded alone. Only the holder is
 * compared, and a patch that changes nothing reports nothing, so with three or more concurrent writers (or a
 * losing patch that arrives last) DCs may report different pairs, or none.
 *
 * Example, order o-1, window 10 s: eu created it as {status: 'new', qty: 1} @09:00:00; then, concurrently,
 * eu sends {status: 'paid'} @10:00:05 and us sends {qty: 2} @10:00:06. Every DC resolves
 * {qty: 2, status: 'paid'} whatever the arrival order, with no conflict (different fields). Had us sent
 * {status: 'void'} @10:00:06 instead, status would be 'void' in every DC and a conflict reported on field
 * status: winner us ('void'), loser eu ('paid').
 */
export interface FieldEntry {
  readonly stamp: Stamp
  /** The decoded value; null for a field delete. */
  readonly value: unknown
}

export interface FieldsState {
  readonly fields: ReadonlyMap<string, FieldEntry>
  readonly tombstone: Stamp | undefined
}

const EMPTY: FieldsState = { fields: new Map(), tombstone: undefined }

export const lwwFields: MergePolicy = {
  name: 'lww-fields',
  options: Type.Object({}),
  bind: (_options, context) => {
    if (context.codec.name === 'raw') {
      throw new ConfigError([`"${context.path}" is lww-fields, which reads and builds documents: it needs codec msgpack or json, got raw`])
    }
    return fieldsMerger(context)
  }
}

function fieldsMerger (context: BindContext): Merger<FieldsState> {
  const { codec, conflictWindowMs: window } = context
  const deleteWins = context.deleteRule === 'delete-wins'
  const dead = (s: Stamp, tombstone: Stamp | undefined): boolean =>
    tombstone !== undefined && (compareStamps(s, tombstone) <= 0 || (deleteWins && s.ts < tombstone.ts + window))

  function absorbDelete (held: FieldsState, stamp: Stamp): Absorbed<FieldsState> {
    const order = held.tombstone === undefined ? 1 : compareStamps(stamp, held.tombstone)
    if (order <= 0) return { outcome: order === 0 ? 'duplicate' : 'stale' }
    const fields = new Map<string, FieldEntry>()
    for (const [name, entry] of held.fields) if (!dead(entry.stamp, stamp)) fields.set(name, entry)
    return { outcome: 'applied', state: { fields, tombstone: stamp }, conflicts: [] }
  }

  function absorbPatch (held: FieldsState, stamp: Stamp, patch: Record<string, unknown>): Absorbed<FieldsState> {
    const entries = Object.entries(patch)
    if (dead(stamp, held.tombstone)) return { outcome: entries.length === 0 ? 'duplicate' : 'stale' }
    let fields: Map<string, FieldEntry> | undefined
    let redelivered = 0
    // Fields whose holder is a value of another DC within the window; checked only if the patch applies.
    const rivals: Array<[string, unknown, FieldEntry]> = []
    for (const [name, value] of entries) {
      const current = held.fields.get(name)
      const order = current === undefined ? 1 : compareStamps(stamp, current.stamp)
      if (order === 0) {
        redelivered++
        continue
      }
      if (current !== undefined && value !== null && current.value !== null && current.stamp.dc !== stamp.dc &&
        Math.abs(current.stamp.ts - stamp.ts) < window) rivals.push([name, value, current])
      if (order > 0) {
        fields ??= new Map(held.fields)
        fields.set(name, { stamp, value })
      }
    }
    if (fields === undefined) return { outcome: redelivered === entries.length ? 'duplicate' : 'stale' }
    const conflicts: Conflict[] = []
    for (const [field, value, current] of rivals) {
      const mine: Write = { stamp, value: codec.encode(value) }
      const theirs: Write = { stamp: current.stamp, value: codec.encode(current.value) }
      if (mine.value!.equals(theirs.value!)) continue
      const mineWins = compareStamps(stamp, current.stamp) > 0
      conflicts.push({ field, winner: mineWins ? mine : theirs, loser: mineWins ? theirs : mine })
    }
    return { outcome: 'applied', state: { fields, tombstone: held.tombstone }, conflicts }
  }

  return {
    policy: 'lww-fields',
    stateFormat: 'fields',
    decodesValues: true,
    absorb (state, write): Absorbed<FieldsState> {
      const held = state ?? EMPTY
      if (write.value === null) return absorbDelete(held, write.stamp)
      let patch = write.decoded
      if (patch === undefined) {
        // The engine decodes for policies that ask it to; a caller that did not gets the same answer.
        try {
          patch = codec.decode(write.value)
        } catch (err) {
          return { outcome: 'rejected', reason: `value is not valid ${codec.name}: ${(err as Error).message}` }
        }
      }
      const problem = patchProblem(patch)
      if (problem !== undefined) return { outcome: 'rejected', reason: problem }
      return absorbPatch(held, write.stamp, patch as Record<string, unknown>)
    },
    resolve (state): Resolved {
      const { tombstone } = state
      // Every held field is newer than the tombstone (dead ones are dropped), so no field means deleted.
      if (tombstone !== undefined && state.fields.size === 0) return { value: null, origin: tombstone, sources: [tombstone], tombstone }
      const names = [...state.fields.keys()].sort(compareUtf8)
      const doc: Array<[string, unknown]> = []
      const stamps: Stamp[] = []
      for (const name of names) {
        const entry = state.fields.get(name)!
        if (entry.value !== null) doc.push([name, entry.value])
        stamps.push(entry.stamp)
      }
      stamps.sort(compareStamps)
      const sources = stamps.filter((s, i) => i === 0 || compareStamps(s, stamps[i - 1]!) !== 0)
      // fromEntries defines own properties: a field named __proto__ stays a field.
      return { value: codec.encode(Object.fromEntries(doc)), origin: undefined, sources, tombstone: undefined }
    },
    encodeState: state => encodeFieldsState(state, codec),
    decodeState: bytes => decodeFieldsState(bytes, codec)
  }
}

/** Why a decoded value is no patch, or undefined when it is a map of fields. */
function patchProblem (v: unknown): string | undefined {
  if (!isMap(v)) return `lww-fields needs a map value (a patch of top-level fields), got ${kindOf(v)}`
  // The state stores names as UTF-8, which cannot carry a lone surrogate (JSON's "\ud800" can).
  for (const name of Object.keys(v)) {
    if (LONE_SURROGATE.test(name)) return `lww-fields field name ${JSON.stringify(name)} is not well-formed Unicode`
  }
  return undefined
}

const LONE_SURROGATE = /\p{Cs}/u

/** A plain object: what msgpack and JSON decode a map into (not a list, a byte string or null). */
function isMap (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function kindOf (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (Buffer.isBuffer(v)) return 'a byte string'
  if (typeof v === 'object') return 'an object that is no plain map'
  const text = typeof v === 'bigint' ? String(v) : JSON.stringify(v) ?? String(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
