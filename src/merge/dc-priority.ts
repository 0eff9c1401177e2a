import { ConfigError } from '../errors.ts'
import { compareStamps } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import { show } from '../schema/text.ts'
import { DC_ID_PATTERN } from '../wire/contract.ts'
import type { MergePolicy, Write } from './policy.ts'
import { decodeSiblingState, encodeSiblingState } from './sibling-codec.ts'
import { greatest, passThrough, siblingMerger } from './sibling-state.ts'

/**
 * DC priority (`policy: { type: dc-priority, order: [dc1, dc2] }`). State: the latest version per DC
 * and the tombstone (sibling-state.ts). Resolve: the live version of the most preferred DC in `order`, its
 * bytes passed through untouched (this policy never decodes, so it works with any codec, raw included).
 * Within one DC the stamps decide, since a DC holds only its latest version.
 *
 * Laws: absorbing is the shared state's join (a per-DC max-stamp map and a max-stamp tombstone: commutative,
 * associative, idempotent). Resolve is a min over the order's ranks, which are distinct because each DC has
 * at most one sibling, so it depends on the set of live versions only, not on their order, and reads no
 * clock and no local DC. Tie-break: none is needed between listed DCs; a version of a DC missing from
 * `order` (state kept from an earlier configuration) ranks after every listed DC, and among such versions
 * the greater stamp wins.
 * Deletes: the tombstone hides every version older than it whatever its DC, so a preferred DC's delete hides
 * the versions of the less preferred DCs too; a version newer than the delete (under
 * `deleteRule: delete-wins`, made at least the conflict window after it) is live, and the most preferred
 * DC among the live versions wins, whatever their ages.
 * Conflicts: two live versions of different DCs made within the conflict window; the more preferred DC wins.
 *
 * Example (`order: [dc1, dc2]`, t in ms):
 *   dc2 at t=10  "u1"      merged "u1"
 *   dc1 at t=5   "e1"      merged "e1"    (preferred, though older)
 *   dc2 at t=20  "u2"      merged "e1"
 *   dc1 at t=30  delete    merged null    (the delete also hides "u2", which is older)
 *   dc2 at t=40  "u3"      merged "u3"    (dc1 has no live version)
 */
export const dcPriority: MergePolicy = {
  name: 'dc-priority',
  options: Type.Object({
    order: Type.Array(Type.String({ pattern: DC_ID_PATTERN.source, expected: 'a DC id' }), {
      minItems: 1,
      uniqueItems: true,
      expected: 'a list of every DC id, most preferred first',
      description: 'every DC once, most preferred first: the live version of the first DC that has one wins'
    })
  }),
  bind (options, context) {
    const order = checkOrder(options.order, context.dcs, `${context.path}.order`)
    const rank = new Map(order.map((dc, i) => [dc, i]))
    const unranked = order.length
    /** > 0 when `a` is preferred to `b`; two versions of one DC never meet (one sibling per DC). */
    const preference = (a: Write, b: Write): number => {
      const ra = rank.get(a.stamp.dc) ?? unranked
      const rb = rank.get(b.stamp.dc) ?? unranked
      return ra !== rb ? rb - ra : compareStamps(a.stamp, b.stamp)
    }
    return siblingMerger({
      policy: 'dc-priority',
      decodesValues: false,
      resolve: live => passThrough(greatest(live, preference)),
      prefer: (a, b) => preference(a, b) >= 0 ? a : b
    }, context, encodeSiblingState, decodeSiblingState)
  }
}

/** `order` as a list naming every DC exactly once and nothing else; else a ConfigError naming `path`. */
function checkOrder (order: unknown, dcs: readonly string[], path: string): readonly string[] {
  const expected = `a list of every DC exactly once, most preferred first (${dcs.join(', ')} in any order)`
  if (!Array.isArray(order) || !order.every((d): d is string => typeof d === 'string')) {
    throw new ConfigError([`"${path}" must be ${expected}, got ${show(order)}`])
  }
  const missing = dcs.filter(dc => !order.includes(dc))
  const unknown = order.filter(dc => !dcs.includes(dc))
  const repeated = [...new Set(order.filter((dc, i) => order.indexOf(dc) !== i))]
  const faults = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(unknown.length > 0 ? [`not a DC: ${unknown.join(', ')}`] : []),
    ...(repeated.length > 0 ? [`repeated ${repeated.join(', ')}`] : [])
  ]
  if (faults.length > 0) throw new ConfigError([`"${path}" must be ${expected}, got ${show(order)} (${faults.join('; ')})`])
  return order
}
