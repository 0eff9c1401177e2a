/**
 * An example custom merge policy for concord: a set of tags that writes add to and deletes clear.
 *
 *   topics:
 *     - name: labels
 *       policy: { type: custom, module: ./config/policies/tags.js }
 *
 *   a write's value   { tags: ['red', 'sale'] }   a list of strings (anything else is dead-lettered)
 *   the merged value  { tags: ['red', 'sale'] }   every tag written since the latest delete, sorted;
 *                                                 null while the latest write is a delete
 *
 * Concurrent writes from different DCs both add their tags, where last-write-wins would keep one list. A
 * delete clears the tags written before it in stamp order, wherever they were written; a later write
 * (even one with no tags) brings the entity back.
 *
 * State, plain data that the topic's codec stores, each stamp as [ts, counter, dc, eventId]:
 *   cleared  the greatest delete absorbed, or null
 *   live     the greatest write absorbed, or null
 *   tags     [[tag, stamp], ...] sorted by tag: per tag, the greatest write listing it, only those after
 *            `cleared`
 *
 * Laws: cleared and live are max registers and tags a map of max registers, pruned below cleared; cleared
 * only grows and a pruned entry would be pruned again after any join, so absorb is commutative,
 * associative and idempotent. Built in a fixed order (keys, tags sorted), equal states are equal data.
 * Tie-break: the stamp order (ts, counter, dc, eventId); strings compare by UTF-16 code units, a fixed total
 * order, the same in every DC. Pure: no clock, no I/O, and the arguments are never changed.
 */

const stampOf = write => [write.ts, write.counter, write.dc, write.eventId]

/** Negative, zero or positive as stamp a is before, equal to or after stamp b; null is before every stamp. */
function compare (a, b) {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}

const later = (a, b) => compare(a, b) >= 0 ? a : b
const byTag = ([a], [b]) => a < b ? -1 : a > b ? 1 : 0

export function absorb (state, write) {
  const held = state ?? { cleared: null, live: null, tags: [] }
  const stamp = stampOf(write)
  if (write.value === null) {
    const cleared = later(held.cleared, stamp)
    return { cleared, live: held.live, tags: held.tags.filter(([, at]) => compare(at, cleared) > 0) }
  }
  const tags = write.value.tags
  if (!Array.isArray(tags) || !tags.every(t => typeof t === 'string')) {
    throw new TypeError('the value must be { tags: [string, ...] }')
  }
  const tagged = new Map(held.tags)
  if (compare(stamp, held.cleared) > 0) {
    for (const tag of tags) tagged.set(tag, later(tagged.get(tag) ?? null, stamp))
  }
  return { cleared: held.cleared, live: later(held.live, stamp), tags: [...tagged].sort(byTag) }
}

export function resolve (state) {
  if (compare(state.live, state.cleared) < 0) return null
  return { tags: state.tags.map(([tag]) => tag) }
}
