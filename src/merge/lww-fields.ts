import { compareStamps, compareUtf8, type Stamp } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { isMap, kindOf, refuseRaw } from './document.ts'
import { decodeFieldsState, encodeFieldsState, type FieldEntry, type FieldsState } from './fields-codec.ts'
import type { Absorbed, BindContext, Conflict, Merger, MergePolicy, Resolved, Write } from './policy.ts'
import { decodedView, stampView, type StateDescription } from './state-description.ts'

/**
 * Field-level last-write-wins (`policy: lww-fields`). A record is a patch: a map of top-level fields to set,
 * a field set to null being deleted. Each field resolves by last-write-wins on its own, so two DCs editing
 * different fields of one entity at the same time both keep their edit. Nested paths are not supported: a
 * field holding a map is replaced whole by a newer patch that sets the field.
 *
 * State (its own, not the sibling state; fields-codec.ts): per field, the latest entry per writer DC, each
 * the stamp of that DC's latest patch setting the field and the decoded value, null for a field delete (a
 * field tombstone, so that an older patch cannot bring the field back); and the greatest record delete
 * (Kafka tombstone) ever absorbed, the tombstone. A stamp is dead when it is not newer than the tombstone
 * or, under `deleteRule: delete-wins`, made less than the conflict window after it. Dead entries are
 * dropped (and a field with none left) and dead patches ignored: the tombstone only grows, so they can
 * never count again.
 * Resolve: with a tombstone and no field left, the entity is deleted by the tombstone. Else, per field, the
 * entry with the greatest stamp (the greatest of the per-DC greatest is the greatest of all), and the
 * document of the fields whose winning entry has a value, built with keys in UTF-8 byte order and encoded
 * with the topic's codec (a state of field deletes only resolves to `{}`); synthesised, so no origin, and
 * the sources are the distinct stamps of the winning entries, deletes included. Caveat: a JavaScript object
 * puts integer-like keys ("7", "42") first, in numeric order, and the codecs encode objects in their key
 * order; the order is still the same in every DC.
 *
 * Laws: the state is the product of one max-stamp register per (field name, writer DC) and a max-stamp
 * register for the tombstone, each a semilattice, so absorbing is commutative, associative and idempotent.
 * Dropping dead entries keeps it a join: deadness only grows with the tombstone and is downward closed in
 * the stamp order, so a register's greatest patch is dead exactly when all of its patches are, and the state
 * is always "per field and DC, the greatest patch of that DC setting it, unless dead under the greatest
 * delete", whatever the order. Resolve reads only that state: no clock, no local DC, no arrival order; same
 * state, same bytes. A patch is rejected for its own value alone (not a map, or a field name that is not
 * well-formed Unicode), so rejection is the same in every order.
 * Tie-break: the stamp order (ts, counter, dc, eventId), total while event ids are unique per write. A patch
 * is applied when it is newer than its DC's entry of some field it sets (or the DC has none), even if it
 * loses that field to another DC; a redelivered patch, every field held in its DC's entry with its stamp,
 * is a duplicate (so is a patch of no fields: it changes nothing and creates no entity); any other patch,
 * older than its DC's entry of every field it sets, is stale.
 * Deletes: a field set to null deletes that field only. A Kafka tombstone deletes the record and every entry
 * not newer than it, wherever it arrives in the order; a newer patch revives the record with the fields it
 * (and any newer patch) sets, and a patch of field deletes only revives it as `{}`. Under delete-wins a
 * patch must also be made the conflict window after the delete.
 * Conflicts: entries of different DCs of the same field, both values, made within the conflict window of
 * each other and encoding to different bytes, are in conflict. A pair is reported when its second entry
 * arrives: for each field a patch sets to a value in its DC's entry, each such entry of another DC gives
 * one conflict naming the field, the greater stamp the winner, each side that field's value encoded alone.
 * Each DC holds both entries once both have arrived, whichever came first, so each DC reports the pair
 * once and the same way; a redelivery changes no entry and reports nothing. Caveat: a DC whose entry was
 * replaced (by a newer patch of the same field from the same DC) or dropped (by a record delete) before the
 * other DC's entry arrived never holds the two together and does not report them, while a DC that got them
 * in the other order does; the merged value never differs.
 *
 * Example, order o-1, window 10 s: eu created it as {status: 'new', qty: 1} @09:00:00; then, concurrently,
 * eu sends {status: 'paid'} @10:00:05 and us sends {qty: 2} @10:00:06. Every DC resolves
 * {qty: 2, status: 'paid'} whatever the arrival order, with no conflict (different fields). Had us sent
 * {status: 'void'} @10:00:06 instead, status would be 'void' in every DC and each DC, eu and us alike,
 * would report one conflict on field status: winner us ('void'), loser eu ('paid').
 */
const EMPTY: FieldsState = { fields: new Map(), tombstone: undefined }

export const lwwFields: MergePolicy = {
  name: 'lww-fields',
  options: Type.Object({}),
  bind: (_options, context) => {
    refuseRaw('lww-fields', context, 'reads and builds documents')
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
    const fields = new Map<string, ReadonlyMap<string, FieldEntry>>()
    for (const [name, byDc] of held.fields) {
      const live = new Map<string, FieldEntry>()
      for (const [dc, entry] of byDc) if (!dead(entry.stamp, stamp)) live.set(dc, entry)
      if (live.size > 0) fields.set(name, live.size === byDc.size ? byDc : live)
    }
    return { outcome: 'applied', state: { fields, tombstone: stamp }, conflicts: [] }
  }

  function absorbPatch (held: FieldsState, stamp: Stamp, patch: Record<string, unknown>): Absorbed<FieldsState> {
    const entries = Object.entries(patch)
    if (dead(stamp, held.tombstone)) return { outcome: entries.length === 0 ? 'duplicate' : 'stale' }
    let fields: Map<string, ReadonlyMap<string, FieldEntry>> | undefined
    let redelivered = 0
    // The fields whose entry of this DC changed to a value: compared with the other DCs' entries below.
    const changed: Array<[string, unknown]> = []
    for (const [name, value] of entries) {
      const byDc = held.fields.get(name)
      const current = byDc?.get(stamp.dc)
      const order = current === undefined ? 1 : compareStamps(stamp, current.stamp)
      if (order === 0) redelivered++
      if (order <= 0) continue
      fields ??= new Map(held.fields)
      fields.set(name, new Map(byDc).set(stamp.dc, { stamp, value }))
      if (value !== null) changed.push([name, value])
    }
    if (fields === undefined) return { outcome: redelivered === entries.length ? 'duplicate' : 'stale' }
    const conflicts: Conflict[] = []
    for (const [field, value] of changed) {
      let mine: Write | undefined
      // Every held entry is live: dead ones are dropped when the tombstone rises.
      for (const other of fields.get(field)!.values()) {
        if (other.stamp.dc === stamp.dc || other.value === null || Math.abs(other.stamp.ts - stamp.ts) >= window) continue
        mine ??= { stamp, value: codec.encode(value) }
        const theirs: Write = { stamp: other.stamp, value: codec.encode(other.value) }
        if (mine.value!.equals(theirs.value!)) continue
        const mineWins = compareStamps(stamp, other.stamp) > 0
        conflicts.push({ field, winner: mineWins ? mine : theirs, loser: mineWins ? theirs : mine })
      }
    }
    // Entries sit in arrival order, which differs between DCs; the report does not.
    if (conflicts.length > 1) conflicts.sort(byFieldAndRival)
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
      // Every held entry is newer than the tombstone (dead ones are dropped), so no field means deleted.
      if (tombstone !== undefined && state.fields.size === 0) return { value: null, origin: tombstone, sources: [tombstone], tombstone }
      const names = [...state.fields.keys()].sort(compareUtf8)
      const doc: Array<[string, unknown]> = []
      const stamps: Stamp[] = []
      for (const name of names) {
        // The field's winner: the greatest of the per-DC greatest stamps is the greatest of all.
        let top: FieldEntry | undefined
        for (const entry of state.fields.get(name)!.values()) if (top === undefined || compareStamps(entry.stamp, top.stamp) > 0) top = entry
        if (top!.value !== null) doc.push([name, top!.value])
        stamps.push(top!.stamp)
      }
      stamps.sort(compareStamps)
      const sources = stamps.filter((s, i) => i === 0 || compareStamps(s, stamps[i - 1]!) !== 0)
      // fromEntries defines own properties: a field named __proto__ stays a field.
      return { value: codec.encode(Object.fromEntries(doc)), origin: undefined, sources, tombstone: undefined }
    },
    encodeState: state => encodeFieldsState(state, codec),
    decodeState: bytes => decodeFieldsState(bytes, codec),
    describeState (state): StateDescription {
      const fields = [...state.fields.keys()].sort(compareUtf8).map(name => {
        const byDc = state.fields.get(name)!
        const entries = [...byDc.keys()].sort(compareUtf8).map(dc => {
          const { stamp, value } = byDc.get(dc)!
          return value === null
            ? { stamp: stampView(stamp), deleted: true }
            : { stamp: stampView(stamp), deleted: false, value: decodedView(value, codec) }
        })
        return { name, entries }
      })
      return { layout: 'fields', tombstone: state.tombstone === undefined ? null : stampView(state.tombstone), fields }
    }
  }
}

/** Why a decoded value is no patch, or undefined when it is a map of fields. */
function patchProblem (v: unknown): string | undefined {
  if (!isMap(v)) {
    const kind = typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) ? 'an object that is no plain map' : kindOf(v)
    return `lww-fields needs a map value (a patch of top-level fields), got ${kind}`
  }
  // The state stores names as UTF-8, which cannot carry a lone surrogate (JSON's "\ud800" can).
  for (const name of Object.keys(v)) {
    if (LONE_SURROGATE.test(name)) return `lww-fields field name ${JSON.stringify(name)} is not well-formed Unicode`
  }
  return undefined
}

const LONE_SURROGATE = /\p{Cs}/u

/** The conflicts of one patch in a fixed order: by field name, then by their stamps. */
function byFieldAndRival (a: Conflict, b: Conflict): number {
  return compareUtf8(a.field!, b.field!) || compareStamps(a.winner.stamp, b.winner.stamp) || compareStamps(a.loser.stamp, b.loser.stamp)
}
