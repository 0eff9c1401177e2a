import { compareStamps, compareUtf8, type Stamp } from '../model/stamp.ts'
import { absorb } from './siblings.ts'
import type { Absorbed, BindContext, Conflict, Merger, Resolved, Write } from './policy.ts'
import { stampView, valueView, type StateDescription } from './state-description.ts'

/**
 * The state shared by the policies that merge each DC's latest version (lww, counter, max, min, union,
 * dc-priority): the siblings (the latest version per writer DC, deletes included) and the greatest delete
 * ever absorbed, the tombstone.
 *
 * Laws: the state is the product of two semilattices, a per-DC max-stamp map and a max-stamp register, so
 * absorbing is commutative, associative and idempotent. The tombstone is kept apart from the siblings
 * because a DC's later write replaces its delete in its slot, while the delete must still hide the older
 * versions of the other DCs (a counter must not count them again).
 *
 * Live versions: not deletes, newer than the tombstone, and under `deleteRule: delete-wins` also made at
 * least the conflict window after it. A policy resolves the live versions; with none, the entity is deleted.
 * Policies of this layout can replace each other on a store with state, so resolve also leaves out stored
 * versions the current policy's check refuses.
 */
export interface SiblingState {
  readonly siblings: readonly Write[]
  readonly tombstone: Stamp | undefined
}

/** What a sibling policy adds to the shared state: how it resolves the live versions, and how it chooses. */
export interface SiblingResolver {
  readonly policy: string
  readonly decodesValues: boolean
  /** A reason when a write cannot take part in this policy (it is then dead-lettered); undefined when it can. */
  check? (write: Write, decoded: unknown): string | undefined
  /**
   * The slot a version takes, for a policy that keeps more than one version per DC (a function of the
   * version alone); absent: one slot per DC.
   */
  slot? (write: Write, decoded: (w: Write) => unknown): string
  /** The merged value of a non-empty list of live versions (one per slot, in no particular order). */
  resolve (live: readonly Write[], decoded: (w: Write) => unknown): Resolved
  /** For policies that choose one version: which of two live versions wins. Absent for policies that combine. */
  prefer? (a: Write, b: Write, decoded: (w: Write) => unknown): Write
}

export function isLive (w: Write, tombstone: Stamp | undefined, context: Pick<BindContext, 'deleteRule' | 'conflictWindowMs'>): boolean {
  if (w.value === null) return false
  if (tombstone === undefined) return true
  if (compareStamps(w.stamp, tombstone) <= 0) return false
  return context.deleteRule === 'lww' || w.stamp.ts >= tombstone.ts + context.conflictWindowMs
}

/** Absorbs one write into the shared state. */
export function absorbSibling (state: SiblingState | undefined, write: Write, slotOf?: (w: Write) => string): { outcome: 'applied' | 'stale' | 'duplicate', state: SiblingState } {
  const held = state ?? { siblings: [], tombstone: undefined }
  const slot = absorb(held.siblings, write, slotOf)
  let tombstone = held.tombstone
  let deleteOrder = 1
  if (write.value === null) {
    deleteOrder = tombstone === undefined ? 1 : compareStamps(write.stamp, tombstone)
    if (deleteOrder > 0) tombstone = write.stamp
  }
  if (slot.siblings === held.siblings && tombstone === held.tombstone) {
    return { outcome: slot.outcome === 'duplicate' || deleteOrder === 0 ? 'duplicate' : 'stale', state: held }
  }
  return { outcome: 'applied', state: { siblings: slot.siblings, tombstone } }
}

/** The resolution of an entity that has no live version: deleted by its tombstone. */
function deleted (tombstone: Stamp): Resolved {
  return { value: null, origin: tombstone, sources: [tombstone], tombstone }
}

/**
 * A policy over the shared sibling state. Conflicts: when an applied write is live, each live version of
 * another DC made within the conflict window of it is in conflict with it; `prefer` names the winner.
 */
export function siblingMerger (resolver: SiblingResolver, context: BindContext, encodeState: (s: SiblingState) => Buffer, decodeState: (b: Buffer) => SiblingState): Merger<SiblingState> {
  const cache = new WeakMap<Write, unknown>()
  const decoded = (w: Write): unknown => {
    if (w.decoded !== undefined || w.value === null) return w.decoded
    let d = cache.get(w)
    if (d === undefined) {
      d = context.codec.decode(w.value)
      cache.set(w, d)
    }
    return d
  }
  const acceptable = (w: Write): boolean => {
    if (resolver.check === undefined) return true
    try {
      return resolver.check(w, decoded(w)) === undefined
    } catch {
      return false
    }
  }
  const window = context.conflictWindowMs
  const slot = resolver.slot
  const slotOf = slot === undefined ? undefined : (w: Write): string => slot(w, decoded)
  return {
    policy: resolver.policy,
    stateFormat: 'siblings',
    decodesValues: resolver.decodesValues,
    absorb (state, write): Absorbed<SiblingState> {
      if (resolver.check !== undefined && write.value !== null) {
        const reason = resolver.check(write, decoded(write))
        if (reason !== undefined) return { outcome: 'rejected', reason }
      }
      const r = absorbSibling(state, write, slotOf)
      if (r.outcome !== 'applied') return { outcome: r.outcome }
      const conflicts: Conflict[] = []
      const prefer = resolver.prefer
      if (prefer !== undefined && isLive(write, r.state.tombstone, context)) {
        for (const other of r.state.siblings) {
          if (other.stamp.dc === write.stamp.dc || !isLive(other, r.state.tombstone, context)) continue
          if (Math.abs(other.stamp.ts - write.stamp.ts) >= window) continue
          const winner = prefer(other, write, decoded)
          conflicts.push({ winner, loser: winner === write ? other : write })
        }
      }
      return { outcome: 'applied', state: r.state, conflicts }
    },
    resolve (state): Resolved {
      // A stored version that the policy's check refuses (state kept by another policy of the same layout,
      // or under another codec) takes no part, like a dead one: the same decision in every DC.
      const live = state.siblings.filter(w => isLive(w, state.tombstone, context) && acceptable(w))
      if (live.length > 0) return resolver.resolve(live, decoded)
      if (state.tombstone === undefined) return { value: null, origin: undefined, sources: [], tombstone: undefined }
      return deleted(state.tombstone)
    },
    encodeState,
    decodeState,
    describeState (state): StateDescription {
      // By DC, then stamp: the same order in every DC, whatever order the versions arrived in.
      const versions = [...state.siblings].sort((a, b) => compareUtf8(a.stamp.dc, b.stamp.dc) || compareStamps(a.stamp, b.stamp)).map(w => {
        const live = isLive(w, state.tombstone, context) && acceptable(w)
        const stamp = stampView(w.stamp)
        return w.value === null ? { stamp, deleted: true, live } : { stamp, deleted: false, live, value: valueView(w.value, context.codec) }
      })
      return { layout: 'siblings', tombstone: state.tombstone === undefined ? null : stampView(state.tombstone), versions }
    }
  }
}

/** The greatest of a non-empty list by `compare` (>0: first argument greater); ties keep the earlier one. */
export function greatest<T> (items: readonly T[], compare: (a: T, b: T) => number): T {
  let best = items[0]!
  for (let i = 1; i < items.length; i++) if (compare(items[i]!, best) > 0) best = items[i]!
  return best
}

/** A resolution that passes one live write's bytes through unchanged. */
export function passThrough (w: Write): Resolved {
  return { value: w.value, origin: w.stamp, sources: [w.stamp], tombstone: undefined }
}

/** The stamps of the given writes in stamp order, for a synthesised value's sources. */
export function stampsOf (writes: readonly Write[]): Stamp[] {
  return writes.map(w => w.stamp).sort(compareStamps)
}
