import { compareStamps, type Stamp } from '../model/stamp.ts'
import type { Merger, Resolved, Write } from './policy.ts'

/**
 * The laws every merge policy must keep, checked on one history: a set of writes and several delivery
 * orders of them (each an index sequence into `writes`, with repeats for redelivery). concord's own
 * property tests run it on generated histories; a custom policy's tests can do the same (README,
 * "Custom policies"). Returns the laws broken, each with what showed it; empty when all hold.
 *
 *   convergence   every order (any reordering, duplication, batch split) resolves to the same value,
 *                 origin, sources and tombstone;
 *   idempotence   absorbing again a write already absorbed changes neither the state's encoding nor its
 *                 resolution;
 *   commutation   at every step of the first order, absorbing two writes in either order resolves alike;
 *   round trip    decodeState(encodeState(s)) resolves like s and encodes to the same bytes;
 *   rejection     a write is rejected in every order or in none (a rejected write changes nothing: the
 *                 engine keeps the state it had).
 */
export function lawViolations (merger: Merger, writes: readonly Write[], orders: ReadonlyArray<readonly number[]>): string[] {
  const broken: string[] = []
  const runs = orders.map(order => fold(merger, order.map(i => copy(writes[i]!))))
  const first = runs[0]
  if (first === undefined) return broken

  const rejectedIn = (run: Run): string => [...run.rejected].sort().join(',')
  runs.forEach((run, k) => {
    if (rejectedIn(run) !== rejectedIn(first)) broken.push(`rejection: order ${k} rejects [${rejectedIn(run)}], order 0 rejects [${rejectedIn(first)}]`)
    const a = show(first.state === undefined ? undefined : merger.resolve(first.state))
    const b = show(run.state === undefined ? undefined : merger.resolve(run.state))
    if (a !== b) broken.push(`convergence: order ${k} resolves to ${b}, order 0 to ${a}`)
  })

  if (first.state !== undefined) {
    const state = first.state
    const bytes = merger.encodeState(state)
    const back = merger.decodeState(bytes)
    if (!merger.encodeState(back).equals(bytes)) broken.push('round trip: encodeState(decodeState(bytes)) differs from bytes')
    if (show(merger.resolve(back)) !== show(merger.resolve(state))) broken.push('round trip: the decoded state resolves differently')
    for (const i of new Set(orders[0])) {
      const again = merger.absorb(state, copy(writes[i]!))
      if (again.outcome !== 'applied') continue
      if (!merger.encodeState(again.state).equals(bytes) || show(merger.resolve(again.state)) !== show(merger.resolve(state))) {
        broken.push(`idempotence: absorbing write ${i} (${stampText(writes[i]!.stamp)}) again changed the state`)
      }
    }
  }

  // Commutation, step by step along the first order.
  const order = orders[0] ?? []
  let state: unknown
  for (let step = 0; step + 1 < order.length; step++) {
    const x = writes[order[step]!]!
    const y = writes[order[step + 1]!]!
    const xy = absorbAll(merger, state, [copy(x), copy(y)])
    const yx = absorbAll(merger, state, [copy(y), copy(x)])
    const a = show(xy === undefined ? undefined : merger.resolve(xy))
    const b = show(yx === undefined ? undefined : merger.resolve(yx))
    if (a !== b) broken.push(`commutation: at step ${step}, ${stampText(x.stamp)} then ${stampText(y.stamp)} resolves to ${a}, the other way to ${b}`)
    state = absorbAll(merger, state, [copy(x)])
  }
  return broken
}

interface Run { readonly state: unknown, readonly rejected: Set<string> }

function fold (merger: Merger, deliveries: readonly Write[]): Run {
  let state: unknown
  const rejected = new Set<string>()
  for (const w of deliveries) {
    const r = merger.absorb(state, w)
    if (r.outcome === 'rejected') rejected.add(stampText(w.stamp))
    else if (r.outcome === 'applied') state = r.state
  }
  return { state, rejected }
}

function absorbAll (merger: Merger, state: unknown, writes: readonly Write[]): unknown {
  for (const w of writes) {
    const r = merger.absorb(state, w)
    if (r.outcome === 'applied') state = r.state
  }
  return state
}

/** A write as a redelivery decodes it: equal content, new objects. */
function copy (w: Write): Write {
  const value = w.value === null ? null : Buffer.from(w.value)
  // The decoded value is shared: policies must not change what they are given.
  return w.decoded === undefined ? { stamp: { ...w.stamp }, value } : { stamp: { ...w.stamp }, value, decoded: w.decoded }
}

const stampText = (s: Stamp): string => `${s.dc}@${s.ts}:${s.counter}/${s.eventId}`

/** A resolution as comparable text: value bytes in hex, origin, sources in stamp order, tombstone. */
function show (r: Resolved | undefined): string {
  if (r === undefined) return 'nothing'
  const sources = [...r.sources].sort(compareStamps).map(stampText).join(' ')
  return `value=${r.value === null ? 'null' : r.value.toString('hex')} origin=${r.origin === undefined ? '-' : stampText(r.origin)} sources=[${sources}] tombstone=${r.tombstone === undefined ? '-' : stampText(r.tombstone)}`
}
