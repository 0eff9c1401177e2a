import { compareStamps } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import type { MergePolicy } from './policy.ts'
import { decodeSiblingState, encodeSiblingState } from './sibling-codec.ts'
import { greatest, passThrough, siblingMerger } from './sibling-state.ts'

/**
 * Last-write-wins (`policy: lww`, the default). State: the latest version per DC and the tombstone
 * (sibling-state.ts). Resolve: the live version with the greatest stamp `(ts, counter, dc, eventId)`, its
 * bytes passed through untouched (this policy never decodes).
 *
 * Laws: max over a total order is commutative, associative and idempotent, and independent of the order of
 * the siblings. Tie-break: the stamp order itself, total while event ids are unique per write.
 * Deletes: a delete is a write; under `deleteRule: lww` a newer write revives the entity and an older one
 * cannot; under `delete-wins` a write also needs to be made the conflict window after the delete.
 * Conflicts: two live versions of different DCs within the window; the greater stamp wins.
 */
export const lww: MergePolicy = {
  name: 'lww',
  options: Type.Object({}),
  bind: (_options, context) => siblingMerger({
    policy: 'lww',
    decodesValues: false,
    resolve: live => passThrough(greatest(live, (a, b) => compareStamps(a.stamp, b.stamp))),
    prefer: (a, b) => compareStamps(a.stamp, b.stamp) >= 0 ? a : b
  }, context, encodeSiblingState, decodeSiblingState)
}
