import { compareStamps } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { isMap, kindOf, refuseRaw } from './document.ts'
import type { MergePolicy, Write } from './policy.ts'
import { decodeSiblingState, encodeSiblingState } from './sibling-codec.ts'
import { greatest, passThrough, siblingMerger } from './sibling-state.ts'

/**
 * The greatest or smallest field (`policy: { type: max, field: price }`, `{ type: min, field: price }`).
 *
 * State: the latest version per DC and the tombstone (sibling-state.ts).
 * Resolve: the live version whose `field` (a finite number in a map value) is the greatest (max) or the
 * smallest (min), its bytes passed through unchanged. This is the extremum over each DC's latest version,
 * not over all history: a DC that writes 9 and then 2 offers 2, so the merged value can go down under max
 * (and up under min). A stored version the check refuses (kept by another policy of the same state layout
 * before a switch) loses to every valid one.
 *
 * Laws: the state is the sibling semilattice (a per-DC max-stamp map and a max-stamp tombstone), so
 * absorbing is commutative, associative and idempotent; resolve is the greatest of the live set under a
 * total order on (field value, stamp), so it depends on the state only, not on the order of the siblings.
 * A write is rejected or not by its own value alone, so rejection is the same in every order.
 * Tie-break: equal values (0 and -0 are equal) go to the greater stamp `(ts, counter, dc, eventId)`, for max
 * and min alike.
 * Deletes: as lww: a version older than the newest delete is gone; under `deleteRule: lww` a newer write
 * revives the entity, under `delete-wins` it also needs to be made the conflict window after the delete.
 * Conflicts: two live versions of different DCs within the window; the one this order prefers wins.
 *
 * Example, three DCs, `field: price`:
 *   eu {price: 7} @1    us {price: 9} @2    ap {price: 9} @3
 *   max: ap's (9, the tie to the greater stamp); min: eu's (7).
 *   then ap {price: 2} @4: max us's (9), min ap's (2); then us {price: 5} @5: max eu's (7), min ap's (2).
 */
export const max: MergePolicy = extremum('max', 1)
export const min: MergePolicy = extremum('min', -1)

/** `sign` 1: the greater value wins; -1: the smaller one. */
function extremum (name: 'max' | 'min', sign: 1 | -1): MergePolicy {
  return {
    name,
    options: Type.Object({
      field: Type.String({ description: `the map field (a finite number) whose ${name === 'max' ? 'greatest' : 'smallest'} value wins` })
    }),
    bind: (options, context) => {
      const field = options.field as string
      refuseRaw(name, context)
      /** >0 when a wins: a valid value over none, then the better value, then the greater stamp. */
      const order = (a: Write, b: Write, decoded: (w: Write) => unknown): number => {
        const x = numberIn(decoded(a), field)
        const y = numberIn(decoded(b), field)
        if (x !== y) {
          if (y === undefined) return 1
          if (x === undefined) return -1
          return x > y ? sign : -sign
        }
        return compareStamps(a.stamp, b.stamp)
      }
      return siblingMerger({
        policy: name,
        decodesValues: true,
        check: (_write, decoded) => numberProblem(decoded, field, name),
        resolve: (live, decoded) => passThrough(greatest(live, (a, b) => order(a, b, decoded))),
        prefer: (a, b, decoded) => order(a, b, decoded) >= 0 ? a : b
      }, context, encodeSiblingState, decodeSiblingState)
    }
  }
}

/** The finite number in `field` of a map value, or undefined when there is none. */
function numberIn (decoded: unknown, field: string): number | undefined {
  if (!isMap(decoded) || !Object.hasOwn(decoded, field)) return undefined
  const v = decoded[field]
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

/** Why a decoded value cannot be compared, or undefined when its `field` is a finite number in a map. */
function numberProblem (decoded: unknown, field: string, policy: string): string | undefined {
  if (numberIn(decoded, field) !== undefined) return undefined
  if (!isMap(decoded)) return `${policy} needs a map value with a number "${field}", got ${kindOf(decoded)}`
  return `${policy} field "${field}" must be a finite number, got ${kindOf(Object.hasOwn(decoded, field) ? decoded[field] : undefined)}`
}
