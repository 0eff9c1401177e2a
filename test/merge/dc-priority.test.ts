import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { dcPriority } from '../../src/merge/dc-priority.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import type { BindContext, Conflict, DeleteRule, Merger, Resolved, Write } from '../../src/merge/policy.ts'
import { union } from '../../src/merge/union.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { stampKey } from './arbitraries.ts'
import { WINDOW_MS, deleteOf, historyArb, priorityWriteArb, referenceLive, type History } from './set-arbitraries.ts'

const T = 1_700_000_000_000
const DCS = ['dc1', 'dc2', 'dc3']

const contextFor = (dcs: readonly string[], deleteRule: DeleteRule, codec: Codec = codecs.msgpack): BindContext =>
  ({ dcs, deleteRule, conflictWindowMs: WINDOW_MS, codec, path: 'topics[0].policy', modules: new Map() })
const bind = (order: readonly string[], deleteRule: DeleteRule = 'lww', dcs: readonly string[] = DCS, codec: Codec = codecs.msgpack): Merger =>
  dcPriority.bind({ order }, contextFor(dcs, deleteRule, codec))

const stamp = (dc: string, ts: number, eventId = `${dc}@${ts}`): Stamp => ({ ts, counter: 0, dc, eventId })
const put = (dc: string, ts: number, text = `${dc}@${ts}`): Write => ({ stamp: stamp(dc, ts), value: Buffer.from(text) })
const del = (dc: string, ts: number): Write => deleteOf(stamp(dc, ts))

interface Run { readonly state: unknown, readonly conflicts: Conflict[] }

function run (merger: Merger, writes: readonly Write[], start?: unknown): Run {
  let state = start
  const conflicts: Conflict[] = []
  for (const w of writes) {
    const r = merger.absorb(state, w)
    assert.notEqual(r.outcome, 'rejected')
    if (r.outcome !== 'applied') continue
    state = r.state
    conflicts.push(...r.conflicts)
  }
  return { state, conflicts }
}

const resolveAfter = (merger: Merger, writes: readonly Write[]): Resolved => merger.resolve(run(merger, writes).state)
/** The merged value as text, null for a deleted entity. */
const mergedText = (merger: Merger, writes: readonly Write[]): string | null => resolveAfter(merger, writes).value?.toString() ?? null
const conflictText = (c: Conflict): string => `${c.winner.stamp.dc}@${c.winner.stamp.ts} beats ${c.loser.stamp.dc}@${c.loser.stamp.ts}`

type PriorityHistory = History<Write> & { readonly order: string[] }
const priorityHistoryArb: fc.Arbitrary<PriorityHistory> = historyArb(priorityWriteArb, (w: Write) => w.stamp).chain(h =>
  fc.shuffledSubarray(h.dcs, { minLength: h.dcs.length, maxLength: h.dcs.length }).map(order => ({ ...h, order })))

describe('dc-priority policy', () => {
  test('is named dc-priority, never decodes and shares the sibling state layout', () => {
    const m = bind(DCS)
    assert.equal(dcPriority.name, 'dc-priority')
    assert.equal(m.policy, 'dc-priority')
    assert.equal(m.decodesValues, false)
    assert.equal(m.stateFormat, 'siblings')
  })
})

describe('dc-priority laws', () => {
  for (const deleteRule of ['lww', 'delete-wins'] as const) {
    test(`absorb and resolve keep the laws on generated histories (deleteRule ${deleteRule})`, () => {
      fc.assert(fc.property(priorityHistoryArb, h => {
        assert.deepEqual(lawViolations(bind(h.order, deleteRule, h.dcs), h.cases, h.orders), [])
      }), { numRuns: 1000 })
    })
  }

  test('resolves to the live version of the most preferred DC of an independent reference, its bytes unchanged', () => {
    fc.assert(fc.property(priorityHistoryArb, h => {
      const merger = bind(h.order, h.deleteRule, h.dcs)
      const r = resolveAfter(merger, h.orders[0]!.map(i => h.cases[i]!))
      const { live, tombstone } = referenceLive(h.cases, h.deleteRule, WINDOW_MS)
      const winner = h.order.map(dc => live.find(w => w.stamp.dc === dc)).find(w => w !== undefined)
      if (winner === undefined) {
        assert.ok(tombstone !== undefined)
        assert.deepEqual({ value: r.value, origin: r.origin, sources: r.sources.map(stampKey), tombstone: r.tombstone },
          { value: null, origin: tombstone, sources: [stampKey(tombstone)], tombstone })
        return
      }
      assert.ok(r.value !== null && winner.value !== null)
      assert.ok(r.value.equals(winner.value), 'value bytes differ from the winner\'s')
      assert.ok(r.origin !== undefined)
      assert.equal(stampKey(r.origin), stampKey(winner.stamp))
      assert.deepEqual(r.sources.map(stampKey), [stampKey(winner.stamp)])
      assert.equal(r.tombstone, undefined)
    }), { numRuns: 1000 })
  })

  test('every conflict is between live versions of two DCs within the window, won by the more preferred DC', () => {
    fc.assert(fc.property(priorityHistoryArb, h => {
      const rank = (w: Write): number => h.order.indexOf(w.stamp.dc)
      for (const c of run(bind(h.order, h.deleteRule, h.dcs), h.orders[0]!.map(i => h.cases[i]!)).conflicts) {
        assert.ok(rank(c.winner) < rank(c.loser), conflictText(c))
        assert.ok(Math.abs(c.winner.stamp.ts - c.loser.stamp.ts) < WINDOW_MS, conflictText(c))
        assert.ok(c.winner.value !== null && c.loser.value !== null)
      }
    }), { numRuns: 300 })
  })
})

describe('dc-priority examples', () => {
  test('the preferred DC wins even when its version is older', () => {
    const m = bind(['dc1', 'dc2', 'dc3'])
    assert.equal(mergedText(m, [put('dc1', T), put('dc2', T + 5), put('dc3', T + 9)]), `dc1@${T}`)
    assert.equal(mergedText(m, [put('dc3', T + 9), put('dc2', T + 5)]), `dc2@${T + 5}`)
    const reversed = bind(['dc3', 'dc2', 'dc1'])
    assert.equal(mergedText(reversed, [put('dc1', T), put('dc2', T + 5), put('dc3', T + 9)]), `dc3@${T + 9}`)
  })

  test('within a DC its latest version counts', () => {
    const m = bind(['dc1', 'dc2', 'dc3'])
    assert.equal(mergedText(m, [put('dc1', T + 3, 'new'), put('dc2', T), put('dc1', T + 1, 'old')]), 'new')
  })

  test('the header\'s worked example', () => {
    const m = bind(['dc1', 'dc2'], 'lww', ['dc1', 'dc2'])
    const steps: Array<[Write, string | null]> = [
      [put('dc2', 10, 'u1'), 'u1'],
      [put('dc1', 5, 'e1'), 'e1'],
      [put('dc2', 20, 'u2'), 'e1'],
      [del('dc1', 30), null],
      [put('dc2', 40, 'u3'), 'u3']
    ]
    const seen: Write[] = []
    for (const [w, expected] of steps) {
      seen.push(w)
      assert.equal(mergedText(m, seen), expected)
    }
  })

  test('a delete hides every older version whatever its DC; a newer version of a less preferred DC then wins', () => {
    const m = bind(['dc1', 'dc2', 'dc3'])
    const history = [put('dc1', T), put('dc2', T + 1), del('dc1', T + 2)]
    const deleted = resolveAfter(m, history)
    assert.equal(deleted.value, null)
    assert.equal(deleted.tombstone?.ts, T + 2)
    assert.equal(mergedText(m, [...history, put('dc3', T + 3)]), `dc3@${T + 3}`)
    assert.equal(mergedText(m, [...history, put('dc3', T + 3), put('dc2', T + 4)]), `dc2@${T + 4}`)
    // A less preferred DC's delete hides the preferred DC's older version too.
    assert.equal(mergedText(m, [put('dc1', T), del('dc3', T + 1)]), null)
    assert.equal(mergedText(m, [put('dc1', T), del('dc3', T + 1), put('dc3', T + 2)]), `dc3@${T + 2}`)
    assert.equal(mergedText(m, [put('dc1', T), del('dc3', T + 1), put('dc3', T + 2), put('dc1', T + 3)]), `dc1@${T + 3}`)
  })

  test('under delete-wins a version needs to be made the conflict window after the delete', () => {
    const m = bind(['dc1', 'dc2', 'dc3'], 'delete-wins')
    const history = [put('dc1', T), del('dc1', T + 1)]
    assert.equal(mergedText(m, [...history, put('dc2', T + WINDOW_MS)]), null)
    assert.equal(mergedText(m, [...history, put('dc2', T + WINDOW_MS), put('dc3', T + 1 + WINDOW_MS)]), `dc3@${T + 1 + WINDOW_MS}`)
  })

  test('versions within the window are in conflict, won by the preferred DC in either arrival order; none beyond', () => {
    const m = bind(['dc2', 'dc1', 'dc3'])
    const older = put('dc1', T)
    const newer = put('dc2', T + WINDOW_MS - 1)
    assert.deepEqual(run(m, [older, newer]).conflicts.map(conflictText), [`dc2@${T + WINDOW_MS - 1} beats dc1@${T}`])
    assert.deepEqual(run(m, [newer, older]).conflicts.map(conflictText), [`dc2@${T + WINDOW_MS - 1} beats dc1@${T}`])
    assert.deepEqual(run(m, [older, put('dc2', T + WINDOW_MS)]).conflicts, [])
    assert.deepEqual(run(m, [older, put('dc1', T + 1)]).conflicts, [], 'two versions of one DC are no conflict')
    assert.deepEqual(run(m, [older, del('dc3', T + 1), put('dc2', T + 2)]).conflicts, [], 'a hidden version is no conflict')
  })

  test('passes any bytes through under codec raw', () => {
    const m = bind(DCS, 'lww', DCS, codecs.raw)
    const bytes = Buffer.from([0xc1, 0xff, 0x00])
    const r = resolveAfter(m, [{ stamp: stamp('dc2', T), value: bytes }, put('dc3', T + 1)])
    assert.deepEqual(r.value, bytes)
    assert.deepEqual(r.origin, stamp('dc2', T))
  })

  test('a version of a DC no longer listed ranks after every listed DC', () => {
    const before = bind(['dc1', 'dc2', 'dc3'])
    const after = bind(['dc2', 'dc1'], 'lww', ['dc1', 'dc2'])
    const state = (writes: readonly Write[]): unknown => after.decodeState(before.encodeState(run(before, writes).state))
    assert.equal(after.resolve(state([put('dc3', T + 5), put('dc1', T)])).value?.toString(), `dc1@${T}`)
    assert.equal(after.resolve(state([put('dc3', T + 5)])).value?.toString(), `dc3@${T + 5}`)
  })
})

describe('dc-priority configuration', () => {
  const problemsOf = (order: unknown): readonly string[] => {
    try {
      dcPriority.bind({ order }, contextFor(DCS, 'lww'))
    } catch (err) {
      assert.ok(err instanceof ConfigError)
      return err.problems
    }
    assert.fail('expected a ConfigError')
  }
  const expected = '"topics[0].policy.order" must be a list of every DC exactly once, most preferred first (dc1, dc2, dc3 in any order)'

  test('binding refuses an order that misses a DC, names another, or repeats one, naming the key and what it got', () => {
    assert.deepEqual(problemsOf(['dc1', 'dc2']), [`${expected}, got ["dc1","dc2"] (missing dc3)`])
    assert.deepEqual(problemsOf(['dc1', 'dc2', 'dc3', 'dc4']), [`${expected}, got ["dc1","dc2","dc3","dc4"] (not a DC: dc4)`])
    assert.deepEqual(problemsOf(['dc1', 'dc2', 'dc3', 'dc1']), [`${expected}, got ["dc1","dc2","dc3","dc1"] (repeated dc1)`])
    assert.deepEqual(problemsOf(['dc1', 'dc1', 'dcX']), [`${expected}, got ["dc1","dc1","dcX"] (missing dc2, dc3; not a DC: dcX; repeated dc1)`])
    assert.deepEqual(problemsOf('dc1'), [`${expected}, got "dc1"`])
    assert.deepEqual(problemsOf(undefined), [`${expected}, got nothing`])
  })

  test('binding accepts every permutation of the DCs', () => {
    for (const order of [['dc1', 'dc2', 'dc3'], ['dc3', 'dc1', 'dc2'], ['dc2', 'dc3', 'dc1']]) {
      assert.doesNotThrow(() => bind(order))
    }
  })

  const policies = new Map([['union', union], ['dc-priority', dcPriority]])
  const configWith = (policy: unknown): Record<string, unknown> =>
    ({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy }] })
  const configProblems = (policy: unknown): readonly string[] => {
    try {
      validateConfig(configWith(policy), { policies })
    } catch (err) {
      assert.ok(err instanceof ConfigError)
      return err.problems
    }
    assert.fail('expected a ConfigError')
  }

  test('the configuration requires order, a list of distinct DC ids', () => {
    assert.deepEqual(configProblems({ type: 'dc-priority' }),
      ['"topics[0].policy.order" must be a list of every DC id, most preferred first, got nothing'])
    assert.deepEqual(configProblems({ type: 'dc-priority', order: [] }),
      ['"topics[0].policy.order" must be a list of every DC id, most preferred first, got []'])
    assert.deepEqual(configProblems({ type: 'dc-priority', order: ['dc1', 'dc1'] }),
      ['"topics[0].policy.order[1]" must be unique, got "dc1"'])
    assert.deepEqual(configProblems({ type: 'dc-priority', order: ['dc1', 'eu-west'] }),
      ['"topics[0].policy.order[1]" must be a DC id, got "eu-west"'])
  })

  test('the configuration accepts dc-priority with its order', () => {
    const config = validateConfig(configWith({ type: 'dc-priority', order: ['dc2', 'dc1'] }), { policies })
    assert.deepEqual(config.topics[0]?.policy, { type: 'dc-priority', order: ['dc2', 'dc1'] })
  })
})
