import { compareStamps } from '../model/stamp.ts'
import type { Version } from '../model/version.ts'

/**
 * The latest version from each writer datacenter, at most one per `stamp.dc`.
 *
 * Laws (test/merge/siblings.test.ts): `absorb` is a join on a semilattice (a map from writer DC to the
 * max-stamp version), so applying any multiset of versions in any order, with any duplication, yields the
 * same sibling set. This is what makes redelivery, replay and reordering harmless.
 */
export type Outcome = 'applied' | 'stale' | 'duplicate'

export interface Absorbed<V extends Version = Version> {
  readonly outcome: Outcome
  /** The new sibling set; the same array instance when nothing changed. */
  readonly siblings: readonly V[]
}

export function absorb<V extends Version> (siblings: readonly V[], incoming: V): Absorbed<V> {
  const dc = incoming.stamp.dc
  for (let i = 0; i < siblings.length; i++) {
    const current = siblings[i]!
    if (current.stamp.dc !== dc) continue
    const order = compareStamps(incoming.stamp, current.stamp)
    if (order === 0) return { outcome: 'duplicate', siblings }
    if (order < 0) return { outcome: 'stale', siblings }
    const next = siblings.slice()
    next[i] = incoming
    return { outcome: 'applied', siblings: next }
  }
  return { outcome: 'applied', siblings: [...siblings, incoming] }
}
