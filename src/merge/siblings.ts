import { compareStamps } from '../model/stamp.ts'
import type { Version } from '../model/version.ts'

/**
 * The latest version from each writer datacenter, at most one per `stamp.dc` (or per slot, where a policy
 * keys versions more finely: a counter with a writer field keeps one per writer of each DC).
 *
 * Laws (test/merge/siblings.test.ts): `absorb` is a join on a semilattice (a map from writer DC, or slot, to
 * the max-stamp version), so applying any multiset of versions in any order, with any duplication, yields the
 * same sibling set. This is what makes redelivery, replay and reordering harmless. A version's slot must be a
 * function of the version alone.
 */
export type Outcome = 'applied' | 'stale' | 'duplicate'

export interface Absorbed<V extends Version = Version> {
  readonly outcome: Outcome
  /** The new sibling set; the same array instance when nothing changed. */
  readonly siblings: readonly V[]
}

const byDc = (v: Version): string => v.stamp.dc

export function absorb<V extends Version> (siblings: readonly V[], incoming: V, slotOf: (v: V) => string = byDc): Absorbed<V> {
  const slot = slotOf(incoming)
  for (let i = 0; i < siblings.length; i++) {
    const current = siblings[i]!
    if (slotOf(current) !== slot) continue
    const order = compareStamps(incoming.stamp, current.stamp)
    if (order === 0) return { outcome: 'duplicate', siblings }
    if (order < 0) return { outcome: 'stale', siblings }
    const next = siblings.slice()
    next[i] = incoming
    return { outcome: 'applied', siblings: next }
  }
  return { outcome: 'applied', siblings: [...siblings, incoming] }
}
