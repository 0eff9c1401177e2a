import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { dcPriority } from '../../src/merge/dc-priority.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import { lww } from '../../src/merge/lww.ts'
import type { BindContext, DeleteRule, Merger, Resolved, Write } from '../../src/merge/policy.ts'
import { union } from '../../src/merge/union.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { referenceCompare, stampKey } from './arbitraries.ts'
import { WINDOW_MS, decodedWrite, deleteOf, historyArb, referenceLive, setCaseArb, type SetCase } from './set-arbitraries.ts'

const T = 1_700_000_000_000
const DCS = ['dc1', 'dc2', 'dc3']

const contextFor = (dcs: readonly string[], deleteRule: DeleteRule, codec: Codec = codecs.msgpack): BindContext =>
  ({ dcs, deleteRule, conflictWindowMs: WINDOW_MS, codec, path: 'topics[0].policy', modules: new Map() })
const bindUnion = (dcs: readonly string[] = DCS, deleteRule: DeleteRule = 'lww', codec: Codec = codecs.msgpack): Merger =>
  union.bind({ field: 'tags' }, contextFor(dcs, deleteRule, codec))

const stamp = (dc: string, ts: number, eventId = `${dc}@${ts}`): Stamp => ({ ts, counter: 0, dc, eventId })
const set = (dc: string, ts: number, tags: readonly unknown[], extra: Record<string, unknown> = {}): Write =>
  decodedWrite(stamp(dc, ts), { tags, ...extra })
const del = (dc: string, ts: number): Write => deleteOf(stamp(dc, ts))

/** The state after absorbing the writes in turn (rejected, stale and duplicate writes change nothing). */
function stateAfter (merger: Merger, writes: readonly Write[], start?: unknown): unknown {
  let state = start
  for (const w of writes) {
    const r = merger.absorb(state, w)
    if (r.outcome === 'applied') state = r.state
  }
  return state
}

const resolveAfter = (merger: Merger, writes: readonly Write[]): Resolved => {
  const state = stateAfter(merger, writes)
  assert.ok(state !== undefined, 'no write was applied')
  return merger.resolve(state)
}

/** The merged map, decoded; null for a deleted entity. */
function mergedMap (merger: Merger, writes: readonly Write[], codec: Codec = codecs.msgpack): Record<string, unknown> | null {
  const r = resolveAfter(merger, writes)
  return r.value === null ? null : codec.decode(r.value) as Record<string, unknown>
}

const tagsOf = (merger: Merger, writes: readonly Write[]): unknown => mergedMap(merger, writes)?.tags ?? null

const stampsText = (stamps: readonly Stamp[]): string[] => stamps.map(stampKey)
/** An element's identity in the reference: its JSON text (the pool has no values JSON and msgpack see differently). */
const elementKey = (e: unknown): string => JSON.stringify(e)
const asSet = (elements: readonly unknown[]): string[] => [...new Set(elements.map(elementKey))].sort()

const unionHistoryArb = historyArb(setCaseArb, (c: SetCase) => c.write.stamp)

describe('union policy', () => {
  test('is named union, decodes values and shares the sibling state layout', () => {
    const m = bindUnion()
    assert.equal(union.name, 'union')
    assert.equal(m.policy, 'union')
    assert.equal(m.decodesValues, true)
    assert.equal(m.stateFormat, 'siblings')
  })
})

describe('union laws', () => {
  for (const deleteRule of ['lww', 'delete-wins'] as const) {
    test(`absorb and resolve keep the laws on generated histories (deleteRule ${deleteRule})`, () => {
      fc.assert(fc.property(unionHistoryArb, h => {
        const merger = bindUnion(h.dcs, deleteRule)
        assert.deepEqual(lawViolations(merger, h.cases.map(c => c.write), h.orders), [])
      }), { numRuns: 1000 })
    })
  }

  test('resolves to the union of the live sets of an independent reference, in canonical order, in the latest live map', () => {
    fc.assert(fc.property(unionHistoryArb, h => {
      const merger = bindUnion(h.dcs, h.deleteRule)
      const deliveries = h.orders[0]!.map(i => h.cases[i]!.write)
      const accepted = h.cases.filter(c => c.kind !== 'invalid')
      const state = stateAfter(merger, deliveries)
      if (accepted.length === 0) {
        assert.equal(state, undefined)
        return
      }
      assert.ok(state !== undefined)
      const r = merger.resolve(state)
      const { live, tombstone } = referenceLive(accepted.map(c => c.write), h.deleteRule, WINDOW_MS)
      if (live.length === 0) {
        assert.ok(tombstone !== undefined)
        assert.deepEqual({ value: r.value, origin: r.origin, sources: stampsText(r.sources), tombstone: r.tombstone },
          { value: null, origin: tombstone, sources: [stampKey(tombstone)], tombstone })
        return
      }
      assert.equal(r.origin, undefined)
      assert.equal(r.tombstone, undefined)
      assert.deepEqual(stampsText(r.sources), stampsText([...live.map(w => w.stamp)].sort(referenceCompare)))
      assert.ok(r.value !== null)
      const merged = codecs.msgpack.decode(r.value) as { tags: unknown[], at: string }
      const expected = live.flatMap(w => accepted.find(c => c.write === w)!.set)
      assert.deepEqual(asSet(merged.tags), asSet(expected))
      const encoded = merged.tags.map(e => codecs.msgpack.encode(e))
      for (let i = 1; i < encoded.length; i++) {
        assert.ok(Buffer.compare(encoded[i - 1]!, encoded[i]!) < 0, 'elements are not in strictly increasing byte order')
      }
      let latest = live[0]!
      for (const w of live) if (referenceCompare(w.stamp, latest.stamp) > 0) latest = w
      assert.equal(merged.at, stampKey(latest.stamp))
      assert.deepEqual(Object.keys(merged).sort(), ['at', 'tags'])
    }), { numRuns: 1000 })
  })

  test('rejects exactly the values that are no map with a list in the field, in every state', () => {
    fc.assert(fc.property(unionHistoryArb, h => {
      const merger = bindUnion(h.dcs, h.deleteRule)
      let state: unknown
      for (const i of h.orders[0]!) {
        const c = h.cases[i]!
        const r = merger.absorb(state, c.write)
        assert.equal(r.outcome === 'rejected', c.kind === 'invalid')
        if (r.outcome === 'applied') {
          assert.deepEqual(r.conflicts, [])
          state = r.state
        }
      }
    }), { numRuns: 300 })
  })
})

describe('union examples', () => {
  test('merges two DCs\' sets, in byte order, in the map of the later write', () => {
    const m = bindUnion()
    const writes = [set('dc1', T, ['b', 'a'], { by: 1 }), set('dc2', T + 2, ['c', 'a'], { by: 2 })]
    assert.deepEqual(mergedMap(m, writes), { tags: ['a', 'b', 'c'], by: 2 })
    assert.deepEqual(mergedMap(m, [...writes].reverse()), { tags: ['a', 'b', 'c'], by: 2 })
    const r = resolveAfter(m, writes)
    assert.equal(r.origin, undefined)
    assert.deepEqual(r.sources, writes.map(w => w.stamp))
  })

  test('the header\'s worked example', () => {
    const m = bindUnion()
    const steps: Array<[Write, unknown]> = [
      [set('dc1', 10, ['b', 'a'], { by: 1 }), { tags: ['a', 'b'], by: 1 }],
      [set('dc2', 12, ['c', 'a'], { by: 2 }), { tags: ['a', 'b', 'c'], by: 2 }],
      [set('dc1', 20, ['b'], { by: 1 }), { tags: ['a', 'b', 'c'], by: 1 }],
      [del('dc2', 30), null],
      [set('dc1', 25, ['x'], { by: 1 }), null],
      [set('dc2', 40, ['d'], { by: 2 }), { tags: ['d'], by: 2 }]
    ]
    const seen: Write[] = []
    for (const [w, expected] of steps) {
      seen.push(w)
      assert.deepEqual(mergedMap(m, seen), expected)
    }
  })

  test('an element one DC removes stays while another DC\'s latest set holds it', () => {
    const m = bindUnion()
    const writes = [set('dc1', T, ['a', 'b']), set('dc2', T + 1, ['a']), set('dc1', T + 2, ['b'])]
    assert.deepEqual(tagsOf(m, writes), ['a', 'b'])
    assert.deepEqual(tagsOf(m, [...writes, set('dc2', T + 3, [])]), ['b'])
    assert.deepEqual(tagsOf(m, [...writes, set('dc2', T + 3, []), set('dc1', T + 4, [])]), [])
  })

  test('a delete empties the entity; an older set arriving after it changes nothing; a newer one revives it alone', () => {
    const m = bindUnion()
    const before = [set('dc1', T, ['a']), set('dc2', T + 2, ['b'])]
    const deleted = resolveAfter(m, [...before, del('dc3', T + 5)])
    assert.equal(deleted.value, null)
    assert.equal(deleted.tombstone?.ts, T + 5)
    // dc2's slot takes the later write, which the tombstone still hides.
    const late = set('dc2', T + 4, ['c'])
    const state = stateAfter(m, [...before, del('dc3', T + 5)])
    assert.equal(m.absorb(state, late).outcome, 'applied')
    assert.equal(resolveAfter(m, [...before, del('dc3', T + 5), late]).value, null)
    assert.deepEqual(tagsOf(m, [...before, del('dc3', T + 5), late, set('dc1', T + 6, ['d'])]), ['d'])
    assert.deepEqual(tagsOf(m, [set('dc1', T + 6, ['d']), late, del('dc3', T + 5), ...before]), ['d'])
  })

  test('under delete-wins a set needs to be made the conflict window after the delete', () => {
    const m = bindUnion(DCS, 'delete-wins')
    const history = [set('dc1', T, ['a']), del('dc2', T + 1)]
    assert.equal(resolveAfter(m, [...history, set('dc1', T + WINDOW_MS, ['b'])]).value, null)
    assert.deepEqual(tagsOf(m, [...history, set('dc1', T + 1 + WINDOW_MS, ['b'])]), ['b'])
  })

  test('elements that are maps or lists dedupe by their encoding', () => {
    const m = bindUnion()
    const tags = tagsOf(m, [
      set('dc1', T, [{ k: 1, j: 2 }, [1, 2], 1, { k: 1, j: 2 }]),
      set('dc2', T + 1, [{ k: 1, j: 2 }, { j: 2, k: 1 }, [1, 2], [2, 1], '1', 1])
    ]) as unknown[]
    assert.deepEqual(asSet(tags), asSet([{ k: 1, j: 2 }, { j: 2, k: 1 }, [1, 2], [2, 1], 1, '1']))
    assert.equal(tags.length, 6)
    // Identity is the codec's encoding, not the JSON text: msgpack bytes and the map JSON shows them as differ
    // (and sort after it: a fixmap starts 0x82, bytes 0xc4).
    const bytes = tagsOf(m, [set('dc1', T, [Buffer.from([1])]), set('dc2', T + 1, [{ type: 'Buffer', data: [1] }])]) as unknown[]
    assert.deepEqual(bytes, [{ type: 'Buffer', data: [1] }, Buffer.from([1])])
  })

  test('msgpack: elements sort by their bytes, type byte first', () => {
    assert.deepEqual(tagsOf(bindUnion(), [set('dc1', T, [-1, 300, 'a']), set('dc2', T + 1, [[1], 1, { k: 1 }])]),
      [1, { k: 1 }, [1], 'a', 300, -1])
  })

  test('json: elements equal once decoded (1 and 1.0) are one element', () => {
    const m = bindUnion(DCS, 'lww', codecs.json)
    const bytes = Buffer.from('{"tags":[1,1.0,1e0,"1"]}')
    const r = resolveAfter(m, [{ stamp: stamp('dc1', T), value: bytes, decoded: codecs.json.decode(bytes) }])
    assert.equal(r.value?.toString(), '{"tags":["1",1]}')
  })

  test('json: elements sort by their text bytes, and the output is json', () => {
    const m = bindUnion(DCS, 'lww', codecs.json)
    const write = (dc: string, ts: number, value: string): Write => {
      const bytes = Buffer.from(value)
      return { stamp: stamp(dc, ts), value: bytes, decoded: codecs.json.decode(bytes) }
    }
    const r = resolveAfter(m, [write('dc1', T, '{"tags":[9,"b"],"n":1}'), write('dc2', T + 1, '{"n":2,"tags":[10,9]}')])
    assert.equal(r.value?.toString(), '{"n":2,"tags":["b",10,9]}')
  })

  test('reports no conflicts, even for sets made within the window', () => {
    const m = bindUnion()
    const state = stateAfter(m, [set('dc1', T, ['a'])])
    const r = m.absorb(state, set('dc2', T + 1, ['b']))
    assert.equal(r.outcome, 'applied')
    assert.deepEqual(r.outcome === 'applied' ? r.conflicts : undefined, [])
  })

  test('rejects a value that is no map, or whose field is no list, with the reason', () => {
    const m = bindUnion()
    const reason = (value: unknown): string | undefined => {
      const r = m.absorb(undefined, decodedWrite(stamp('dc1', T), value))
      return r.outcome === 'rejected' ? r.reason : undefined
    }
    assert.equal(reason(['a']), 'union needs a map with a list in "tags", got a list')
    assert.equal(reason(7), 'union needs a map with a list in "tags", got a number')
    assert.equal(reason(Buffer.from('ab')), 'union needs a map with a list in "tags", got bytes')
    assert.equal(reason({ tags: 'a' }), 'union needs "tags" to be a list, got a string')
    assert.equal(reason({ other: [] }), 'union needs "tags" to be a list, got nothing')
    assert.equal(reason({ tags: [] }), undefined)
    // A delete carries no value to check.
    assert.equal(m.absorb(undefined, del('dc1', T)).outcome, 'applied')
  })

  test('resolves a state absorbed under lww, leaving out the versions that are no sets (no value when none is left)', () => {
    const context = contextFor(DCS, 'lww')
    const before = lww.bind({}, context)
    const state = stateAfter(before, [set('dc1', T, ['a'], { by: 1 }), decodedWrite(stamp('dc2', T + 1), 'plain'), set('dc3', T + 2, ['b'], { by: 3 })])
    const m = bindUnion()
    assert.ok(state !== undefined)
    const r = m.resolve(m.decodeState(before.encodeState(state)))
    assert.deepEqual(codecs.msgpack.decode(r.value!), { tags: ['a', 'b'], by: 3 })
    assert.equal(r.sources.length, 2)
    const only = stateAfter(before, [decodedWrite(stamp('dc2', T + 1), 'plain')])
    assert.ok(only !== undefined)
    assert.deepEqual(m.resolve(only), { value: null, origin: undefined, sources: [], tombstone: undefined })
  })
})

describe('union configuration', () => {
  test('binding refuses codec raw, naming the key', () => {
    assert.throws(() => bindUnion(DCS, 'lww', codecs.raw), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems, ['"topics[0].policy" must be used with codec msgpack or json (union reads and builds maps), got union with codec raw'])
      return true
    })
  })

  test('binding refuses a missing field, naming the key', () => {
    assert.throws(() => union.bind({}, contextFor(DCS, 'lww')), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems, ['"topics[0].policy.field" must be the name of the list field holding the set, got nothing'])
      return true
    })
  })

  const policies = new Map([['union', union], ['dc-priority', dcPriority]])
  const configWith = (policy: unknown): Record<string, unknown> =>
    ({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy }] })

  test('the configuration requires field', () => {
    assert.throws(() => validateConfig(configWith({ type: 'union' }), { policies }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.deepEqual(err.problems, ['"topics[0].policy.field" must be the name of the list field holding the set, got nothing'])
      return true
    })
    assert.throws(() => validateConfig(configWith({ type: 'union', field: 'tags', fields: 'x' }), { policies }),
      /unknown key "topics\[0\]\.policy\.fields" \(did you mean "topics\[0\]\.policy\.field"\?\)/)
  })

  test('the configuration accepts union with its field', () => {
    const config = validateConfig(configWith({ type: 'union', field: 'tags' }), { policies })
    assert.deepEqual(config.topics[0]?.policy, { type: 'union', field: 'tags', writerField: '' })
  })
})

describe('union with a writer field (several writers per DC)', () => {
  const bindW = (dcs: readonly string[] = DCS, deleteRule: DeleteRule = 'lww'): Merger =>
    union.bind({ field: 'tags', writerField: 'writer' }, contextFor(dcs, deleteRule))
  const WRITERS = ['a', 'b'] as const

  test('keeps the laws on generated histories whose sets name one of two writers per DC', () => {
    const arb = unionHistoryArb.chain(h => fc.array(fc.constantFrom(...WRITERS), { minLength: h.cases.length, maxLength: h.cases.length })
      .map(ws => ({ ...h, writes: h.cases.map((c, i) => withWriter(c.write, ws[i]!)) })))
    fc.assert(fc.property(arb, h => {
      assert.deepEqual(lawViolations(bindW(h.dcs), h.writes, h.orders), [])
    }), { numRuns: 1000 })
  })

  test('two writers of one DC both count; without the writer field the later set replaces the other', () => {
    const a1 = set('dc1', T, ['x'], { writer: 'a' })
    const b1 = set('dc1', T + 1, ['y'], { writer: 'b' })
    const a2 = set('dc1', T + 2, ['x', 'z'], { writer: 'a' })
    const other = set('dc2', T + 1, ['w'], { writer: 'a' })
    for (const order of [[a1, b1, a2, other], [other, a2, b1, a1], [b1, a1, b1, other, a2]]) {
      assert.deepEqual(tagsOf(bindW(), order), ['w', 'x', 'y', 'z'])
    }
    assert.deepEqual(tagsOf(bindUnion(), [a1, b1, a2, other]), ['w', 'x', 'z'])
  })

  test('rejects a set without a writer id, and refuses a writer field equal to the set field', () => {
    const r = bindW().absorb(undefined, set('dc1', T, ['x']))
    assert.deepEqual(r, { outcome: 'rejected', reason: 'union writer field "writer" must be a string of 1 to 256 characters naming the writer, got nothing' })
    assert.throws(() => union.bind({ field: 'tags', writerField: 'tags' }, contextFor(DCS, 'lww')),
      (err: unknown) => err instanceof ConfigError && /"topics\[0\].policy.writerField" must differ from "field" \("tags"\)/.test(err.message))
  })
})

/** The write with `writer` set in its map (deletes and values that are no map stay as they are). */
function withWriter (w: Write, writer: string): Write {
  if (w.value === null || w.decoded === null || typeof w.decoded !== 'object' || Array.isArray(w.decoded) || Buffer.isBuffer(w.decoded)) return w
  return decodedWrite(w.stamp, { ...(w.decoded as Record<string, unknown>), writer })
}
