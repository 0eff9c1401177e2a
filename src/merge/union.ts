import { ConfigError } from '../errors.ts'
import { compareStamps } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { show } from '../schema/text.ts'
import { isMap, typeOf } from './document.ts'
import type { MergePolicy, Write } from './policy.ts'
import { decodeSiblingState, encodeSiblingState } from './sibling-codec.ts'
import { greatest, siblingMerger, stampsOf } from './sibling-state.ts'
import { writerFieldClash, writerFieldOf, writerFieldOption, writerProblem, writerSlot } from './writer-slot.ts'

/**
 * Set union (`policy: { type: union, field: tags }`). State: the latest version per DC and the tombstone
 * (sibling-state.ts); each version is a map whose `field` is a list, read as a set. Resolve: the union of
 * the live versions' sets, put in the map of the live version with the greatest stamp (its other fields
 * are that version's, as under lww) and encoded with the topic's codec; the value is built, so it has no
 * origin, and its sources are the live versions.
 *
 * Element identity: the bytes of the codec's encoding of the element, so `1` and `"1"` are two elements,
 * and so are two maps with the same entries in another key order. The union is deduplicated by those bytes
 * and sorted by them (byte order, not numeric: under json `10` sorts before `9`), so every DC builds the
 * same list whatever the order of its siblings. Two elements with equal bytes encode alike inside the list
 * too (both codecs encode a list as its elements' encodings), so which one is kept does not show.
 *
 * Laws: absorbing is the shared state's join (a per-DC max-stamp map and a max-stamp tombstone: commutative,
 * associative, idempotent). Resolve reads only the set of live versions: set union is commutative,
 * associative and idempotent, the base map is a max over the total stamp order, and the byte sort removes
 * the siblings' order; no clock, no local DC, no arrival order. Tie-break: none for elements (equal bytes
 * are one element); the base map by the stamp order, total while event ids are unique.
 * Deletes and removals: this is no OR-set. A DC's new set replaces its previous one, so an element stays
 * while any DC's latest live set holds it, and leaves once none does. A delete empties the entity: the
 * tombstone hides every version older than it whatever its DC, so the sets made before it are gone, an
 * older set arriving late changes nothing, and a newer set revives the entity with its own elements only
 * (under `deleteRule: delete-wins`, a set made within the conflict window after the delete is hidden too).
 * Several writers per DC: with `writerField`, each writer of a DC publishes its own set and the state keeps
 * the latest of each (writer-slot.ts); the union runs over them all.
 * Conflicts: none; the policy combines, nothing is lost. A value that is no map, or whose `field` is no
 * list, is rejected (dead-lettered with the reason). A version absorbed under another policy on the same
 * state (lww) that is no such map adds no elements.
 *
 * Example (`field: tags`, msgpack, t in ms):
 *   dc1 at t=10  {tags: [b, a], by: 1}
 *   dc2 at t=12  {tags: [c, a], by: 2}    merged {tags: [a, b, c], by: 2}
 *   dc1 at t=20  {tags: [b], by: 1}       merged {tags: [a, b, c], by: 1}   (dc2 still holds a)
 *   dc2 at t=30  delete                   merged null
 *   dc1 at t=25  {tags: [x], by: 1}       merged null                       (late, older than the delete)
 *   dc2 at t=40  {tags: [d], by: 2}       merged {tags: [d], by: 2}
 */
export const union: MergePolicy = {
  name: 'union',
  options: Type.Object({
    field: Type.String({ expected: 'the name of the list field holding the set', description: 'the list field whose elements are merged as a set' }),
    writerField: writerFieldOption('set')
  }),
  bind (options, context) {
    const field = options.field
    const problems: string[] = []
    if (typeof field !== 'string' || field === '') {
      problems.push(`"${context.path}.field" must be the name of the list field holding the set, got ${show(field)}`)
    }
    const writerField = writerFieldOf(options)
    const clash = writerFieldClash(context.path, field, writerField, 'set')
    if (clash !== undefined) problems.push(clash)
    if (context.codec.name === 'raw') {
      problems.push(`"${context.path}" must be used with codec msgpack or json (union reads and builds maps), got union with codec raw`)
    }
    if (problems.length > 0) throw new ConfigError(problems)
    const key = field as string
    const codec = context.codec
    const setOf = (value: unknown): readonly unknown[] | undefined => {
      if (!isMap(value)) return undefined
      const list = value[key]
      return Array.isArray(list) ? list : undefined
    }
    return siblingMerger({
      policy: 'union',
      decodesValues: true,
      check (_write, decoded) {
        if (!isMap(decoded)) return `union needs a map with a list in "${key}", got ${typeOf(decoded)}`
        const list = decoded[key]
        if (!Array.isArray(list)) return `union needs "${key}" to be a list, got ${typeOf(list)}`
        return writerField === undefined ? undefined : writerProblem('union', decoded, writerField)
      },
      ...(writerField === undefined ? {} : { slot: writerSlot(writerField) }),
      resolve (live, decoded) {
        const elements = new Map<string, { readonly bytes: Buffer, readonly element: unknown }>()
        for (const w of live) {
          for (const element of setOf(decoded(w)) ?? []) {
            const bytes = codec.encode(element)
            const id = bytes.toString('latin1')
            if (!elements.has(id)) elements.set(id, { bytes, element })
          }
        }
        const set = [...elements.values()].sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map(e => e.element)
        const maps = live.filter(w => setOf(decoded(w)) !== undefined)
        const base = maps.length === 0 ? {} : decoded(greatest(maps, byStamp)) as Record<string, unknown>
        return { value: codec.encode({ ...base, [key]: set }), origin: undefined, sources: stampsOf(live), tombstone: undefined }
      }
    }, context, encodeSiblingState, decodeSiblingState)
  }
}

const byStamp = (a: Write, b: Write): number => compareStamps(a.stamp, b.stamp)
