import { InternalError } from '../errors.ts'
import { compareStamps } from '../model/stamp.ts'
import type { Version } from '../model/version.ts'
import { Type } from '../schema/schema.ts'
import type { MergePolicy } from './policy.ts'

/**
 * Last-write-wins: the merged version is the sibling with the greatest stamp, (ts, counter, dc, eventId).
 * A delete (null value) wins or loses like any write, so a newer write revives an entity and an older one
 * cannot. The winner's value bytes pass through untouched: this policy never decodes.
 *
 * Laws: max over a total order is commutative, associative and idempotent; the result does not depend on
 * the order of `siblings`.
 */
export const lww: MergePolicy = {
  name: 'lww',
  options: Type.Object({}),
  decodesValues: false,
  merge (siblings) {
    let best: Version | undefined
    for (const v of siblings) {
      if (best === undefined || compareStamps(v.stamp, best.stamp) > 0) best = v
    }
    if (best === undefined) throw new InternalError('merge needs at least one sibling')
    return best
  }
}
