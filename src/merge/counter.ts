import { ConfigError } from '../errors.ts'
import { compareStamps } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { isMap, kindOf, refuseRaw } from './document.ts'
import type { MergePolicy, Write } from './policy.ts'
import { decodeSiblingState, encodeSiblingState } from './sibling-codec.ts'
import { greatest, siblingMerger, stampsOf } from './sibling-state.ts'
import { writerFieldClash, writerFieldOf, writerFieldOption, writerProblem, writerSlot } from './writer-slot.ts'

/**
 * A state-based PN-counter (`policy: { type: counter, field: qty }`). Each DC publishes its own running
 * total for the entity in `field` of a map value (any safe integer, so it may go down); the merged value
 * is the sum over DCs of each DC's latest live total.
 *
 * State: the latest version per DC and the tombstone (sibling-state.ts); a DC's latest total replaces its
 * earlier ones, so each DC counts once however often its totals are redelivered.
 * With `writerField` (`policy: { type: counter, field: qty, writerField: writer }`), a DC may have several
 * writers, each publishing its own running total with its id in `writerField` (the writer SDK's `increment`
 * does): the state keeps the latest version per writer of each DC, and the sum runs over them all. Without it,
 * two writers of one DC would replace each other's totals and lose increments. A value whose writer field is
 * no non-empty string is rejected.
 * Resolve: the live versions' totals summed exactly (BigInt), written into `field` of the document of the
 * live version with the greatest stamp and encoded with the topic's codec. The field holds a number while
 * the sum is a safe integer, else a bigint (msgpack int64, a JSON integer). The value is synthesised: it has
 * no origin, and its sources are every live version. A stored version that the check refuses (kept by
 * another policy of the same state layout before a switch to counter) is not counted.
 *
 * Laws: the state is the sibling semilattice (a per-DC, or per-writer, max-stamp map and a max-stamp
 * tombstone; a version's slot is read from its own value), so
 * absorbing is commutative, associative and idempotent; resolve reads only that state: the live set is a
 * function of it, the sum is order-free (integer addition, exact), and the document it is written into is
 * chosen by the stamp order, which is total. Same state, same bytes, in every DC. A write is rejected or
 * not by its own value alone, so rejection is the same in every order.
 * Tie-break: none is needed for the sum; the document comes from the greatest stamp.
 * Deletes: contributions older than the newest delete are gone, for every DC, even when the delete arrives
 * after them. After a delete a DC's next total counts from zero: the writer must restart its total, or its
 * whole history is counted again. Under `deleteRule: delete-wins` totals made within the conflict window
 * after the delete are not counted either.
 * Conflicts: none; the counter combines every DC's total instead of choosing one.
 *
 * Example, three DCs, `field: qty`, `deleteRule: lww`:
 *   eu  {sku: 'a', qty: 3} @1    us  {sku: 'a', qty: 5} @2    ap  {sku: 'a', qty: -1} @3
 *   merged {sku: 'a', qty: 7} (ap's document, the greatest stamp);
 *   then a delete @4 from us, then eu {sku: 'a', qty: 2} @5: merged {sku: 'a', qty: 2}.
 */
export const counter: MergePolicy = {
  name: 'counter',
  options: Type.Object({
    field: Type.String({ description: 'the map field holding each DC\'s running total (a safe integer)' }),
    writerField: writerFieldOption('total')
  }),
  bind: (options, context) => {
    const field = options.field as string
    const writerField = writerFieldOf(options)
    refuseRaw('counter', context)
    const clash = writerFieldClash(context.path, field, writerField, 'total')
    if (clash !== undefined) throw new ConfigError([clash])
    return siblingMerger({
      policy: 'counter',
      decodesValues: true,
      check: (_write, decoded) => countProblem(decoded, field) ?? (writerField === undefined ? undefined : writerProblem('counter', decoded, writerField)),
      ...(writerField === undefined ? {} : { slot: writerSlot(writerField) }),
      resolve: (live, decoded) => {
        // Every live version passed the check when absorbed, unless another policy of the same state layout
        // kept it before a switch to counter: such a version is not counted.
        const counted = live.filter(w => countProblem(decoded(w), field) === undefined)
        let sum = 0n
        for (const w of counted) sum += BigInt((decoded(w) as Record<string, number>)[field]!)
        const total = sum >= -MAX_SAFE && sum <= MAX_SAFE ? Number(sum) : sum
        const top: Write | undefined = counted.length === 0 ? undefined : greatest(counted, (a, b) => compareStamps(a.stamp, b.stamp))
        // A copy: the decoded document is shared with the engine and other resolutions.
        const doc = { ...(top === undefined ? {} : decoded(top) as Record<string, unknown>), [field]: total }
        return { value: context.codec.encode(doc), origin: undefined, sources: stampsOf(counted), tombstone: undefined }
      }
    }, context, encodeSiblingState, decodeSiblingState)
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Why a decoded value cannot be counted, or undefined when its `field` is a safe integer in a map. */
function countProblem (decoded: unknown, field: string): string | undefined {
  if (!isMap(decoded)) return `counter needs a map value with an integer "${field}", got ${kindOf(decoded)}`
  const count = Object.hasOwn(decoded, field) ? decoded[field] : undefined
  if (Number.isSafeInteger(count)) return undefined
  return `counter field "${field}" must be a safe integer (-(2^53-1) to 2^53-1), got ${kindOf(count)}`
}
