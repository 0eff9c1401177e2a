import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { codecs, type Codec } from '../../src/codec/value-codec.ts'
import { ConfigError, InternalError } from '../../src/errors.ts'
import { lawViolations } from '../../src/merge/laws.ts'
import { lwwFields } from '../../src/merge/lww-fields.ts'
import type { Absorbed, Conflict, DeleteRule, Merger, Write } from '../../src/merge/policy.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import { referenceCompare, stampKey } from './arbitraries.ts'
import { FIELD_POOL, heldTogetherHistoryArb, historyArb, toWrite, WINDOW_MS } from './patch-arbitraries.ts'

const T = 1_700_000_000_000
const bindWith = (deleteRule: DeleteRule, codec: Codec = codecs.msgpack): Merger => lwwFields.bind({}, {
  dcs: ['eu', 'us', 'ap'], deleteRule, conflictWindowMs: WINDOW_MS, codec, path: 'topics[0].policy', modules: new Map()
})
const mergers: Record<DeleteRule, Merger> = { lww: bindWith('lww'), 'delete-wins': bindWith('delete-wins') }
const jsonMerger = bindWith('lww', codecs.json)
const merger = mergers.lww

const stamp = (dc: string, ts: number, eventId = `${dc}-${ts}`, counter = 0): Stamp => ({ ts, counter, dc, eventId })
const patch = (s: Stamp, fields: Record<string, unknown>, codec: Codec = codecs.msgpack): Write => {
  const value = codec.encode(fields)
  return { stamp: s, value, decoded: codec.decode(value) }
}
const del = (s: Stamp): Write => ({ stamp: s, value: null })

interface Run { state: unknown, outcomes: string[], conflicts: Conflict[] }
function run (m: Merger, writes: readonly Write[], start?: unknown): Run {
  let state = start
  const outcomes: string[] = []
  const conflicts: Conflict[] = []
  for (const w of writes) {
    const r: Absorbed<unknown> = m.absorb(state, w)
    outcomes.push(r.outcome)
    if (r.outcome === 'applied') {
      state = r.state
      conflicts.push(...r.conflicts)
    }
  }
  return { state, outcomes, conflicts }
}
/** The resolved document decoded, or null when deleted. */
function doc (m: Merger, writes: readonly Write[], codec: Codec = codecs.msgpack): unknown {
  const { state } = run(m, writes)
  assert.notEqual(state, undefined, 'the writes left no state')
  const r = m.resolve(state)
  return r.value === null ? null : codec.decode(r.value)
}

const isPlainMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null &&
  !Array.isArray(v) && !Buffer.isBuffer(v) && Object.getPrototypeOf(v) === Object.prototype
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * What the writes should resolve to, worked out from the set of writes alone: the greatest record delete;
 * per field, the greatest patch setting it that the delete does not kill; deleted when nothing is left.
 */
function reference (writes: readonly Write[], rule: DeleteRule): { deleted: boolean, doc: Record<string, unknown>, sources: Stamp[], tombstone: Stamp | undefined } | undefined {
  let tomb: Stamp | undefined
  for (const w of writes) if (w.value === null && (tomb === undefined || referenceCompare(w.stamp, tomb) > 0)) tomb = w.stamp
  const killed = (s: Stamp): boolean => tomb !== undefined &&
    (referenceCompare(s, tomb) <= 0 || (rule === 'delete-wins' && s.ts - tomb.ts < WINDOW_MS))
  const best = new Map<string, { stamp: Stamp, value: unknown }>()
  for (const w of writes) {
    if (w.value === null || !isPlainMap(w.decoded) || killed(w.stamp)) continue
    for (const [name, value] of Object.entries(w.decoded)) {
      const held = best.get(name)
      if (held === undefined || referenceCompare(w.stamp, held.stamp) > 0) best.set(name, { stamp: w.stamp, value })
    }
  }
  if (tomb !== undefined && best.size === 0) return { deleted: true, doc: {}, sources: [tomb], tombstone: tomb }
  if (best.size === 0) return undefined
  const names = [...best.keys()].sort(utf8Order)
  const keys = new Map<string, Stamp>()
  for (const { stamp: s } of best.values()) keys.set(stampKey(s), s)
  return {
    deleted: false,
    doc: Object.fromEntries(names.filter(n => best.get(n)!.value !== null).map(n => [n, best.get(n)!.value])),
    sources: [...keys.values()].sort(referenceCompare),
    tombstone: undefined
  }
}

describe('lww-fields policy', () => {
  test('is named lww-fields, keeps its own state layout, decodes values and takes no options', () => {
    assert.equal(lwwFields.name, 'lww-fields')
    assert.equal(merger.policy, 'lww-fields')
    assert.equal(merger.stateFormat, 'fields')
    assert.equal(merger.decodesValues, true)
    assert.deepEqual(Object.keys((lwwFields.options as unknown as { properties: object }).properties), [])
  })

  test('refuses codec raw at bind, naming the key', () => {
    assert.throws(() => lwwFields.bind({}, {
      dcs: ['eu', 'us'], deleteRule: 'lww', conflictWindowMs: WINDOW_MS, codec: codecs.raw, path: 'topics[2].policy', modules: new Map()
    }), (err: unknown) => err instanceof ConfigError && err.problems.length === 1 &&
      err.problems[0]!.includes('"topics[2].policy"') && err.problems[0]!.includes('msgpack or json'))
  })
})

describe('lww-fields laws', () => {
  for (const rule of ['lww', 'delete-wins'] as const) {
    test(`generated histories keep every law under deleteRule ${rule} (msgpack)`, () => {
      fc.assert(fc.property(historyArb, ({ generated, orders }) => {
        const writes = generated.map(g => toWrite(g, codecs.msgpack))
        assert.deepEqual(lawViolations(mergers[rule], writes, orders), [])
      }), { numRuns: 1000 })
    })

    test(`generated histories resolve as the reference says under deleteRule ${rule}`, () => {
      fc.assert(fc.property(historyArb, ({ generated, orders }) => {
        const writes = generated.map(g => toWrite(g, codecs.msgpack))
        const expected = reference(writes, rule)
        const { state } = run(mergers[rule], orders[0]!.map(i => writes[i]!))
        for (const order of orders.slice(1)) {
          // Equal states encode to equal bytes, whatever order the fields were set in.
          const other = run(mergers[rule], order.map(i => writes[i]!)).state
          assert.deepEqual(other === undefined ? undefined : mergers[rule].encodeState(other), state === undefined ? undefined : mergers[rule].encodeState(state))
        }
        if (expected === undefined) {
          assert.equal(state, undefined)
          return
        }
        const r = mergers[rule].resolve(state)
        assert.equal(r.value === null, expected.deleted)
        assert.deepEqual(r.tombstone, expected.tombstone)
        assert.deepEqual(r.sources, expected.sources)
        if (r.value === null) {
          assert.deepEqual(r.origin, expected.tombstone)
          return
        }
        assert.equal(r.origin, undefined)
        const got = codecs.msgpack.decode(r.value)
        assert.deepEqual(got, expected.doc)
        assert.deepEqual(Object.keys(got as object), Object.keys(expected.doc), 'keys are not in UTF-8 byte order')
      }), { numRuns: 1000 })
    })
  }

  test('generated histories keep every law with codec json', () => {
    fc.assert(fc.property(historyArb, ({ generated, orders }) => {
      const writes = generated.map(g => toWrite(g, codecs.json))
      assert.deepEqual(lawViolations(jsonMerger, writes, orders), [])
      const expected = reference(writes, 'lww')
      const { state } = run(jsonMerger, writes)
      if (expected === undefined || expected.deleted) return
      assert.deepEqual(codecs.json.decode(jsonMerger.resolve(state).value!), expected.doc)
    }), { numRuns: 300 })
  })

  test('every conflict reported names a field, two DCs within the window, different bytes, the greater stamp winning', () => {
    fc.assert(fc.property(historyArb, ({ generated, orders }) => {
      const writes = generated.map(g => toWrite(g, codecs.msgpack))
      const byStamp = new Map(writes.map(w => [stampKey(w.stamp), w]))
      for (const c of run(merger, orders[0]!.map(i => writes[i]!)).conflicts) {
        assert.ok(c.field !== undefined && FIELD_POOL.includes(c.field))
        assert.ok(referenceCompare(c.winner.stamp, c.loser.stamp) > 0)
        assert.notEqual(c.winner.stamp.dc, c.loser.stamp.dc)
        assert.ok(Math.abs(c.winner.stamp.ts - c.loser.stamp.ts) < WINDOW_MS)
        assert.ok(!c.winner.value!.equals(c.loser.value!))
        for (const side of [c.winner, c.loser]) {
          const source = byStamp.get(stampKey(side.stamp))!.decoded as Record<string, unknown>
          assert.deepEqual(codecs.msgpack.decode(side.value!), source[c.field])
        }
      }
    }), { numRuns: 500 })
  })

  test('every DC reports each pair of entries of different DCs of a field once, the same in every order, redeliveries included', () => {
    // Comparable text for a conflict; the values are compared as bytes.
    const key = (c: Conflict): string => `${c.field!}|${stampKey(c.winner.stamp)}=${c.winner.value!.toString('hex')}|${stampKey(c.loser.stamp)}=${c.loser.value!.toString('hex')}`
    fc.assert(fc.property(heldTogetherHistoryArb, ({ generated, orders }) => {
      const writes = generated.map(g => toWrite(g, codecs.msgpack))
      // Worked out from the set of writes: every pair of patches of different DCs setting a field to values
      // within the window that encode differently.
      const expected: string[] = []
      const patches = writes.filter(w => isPlainMap(w.decoded))
      patches.forEach((a, i) => {
        for (const b of patches.slice(i + 1)) {
          if (a.stamp.dc === b.stamp.dc || Math.abs(a.stamp.ts - b.stamp.ts) >= WINDOW_MS) continue
          const [x, y] = [a.decoded as Record<string, unknown>, b.decoded as Record<string, unknown>]
          for (const field of Object.keys(x)) {
            if (!Object.hasOwn(y, field) || x[field] === null || y[field] === null) continue
            const [ax, by] = [codecs.msgpack.encode(x[field]), codecs.msgpack.encode(y[field])]
            if (ax.equals(by)) continue
            const aWins = referenceCompare(a.stamp, b.stamp) > 0
            expected.push(key({
              field,
              winner: { stamp: aWins ? a.stamp : b.stamp, value: aWins ? ax : by },
              loser: { stamp: aWins ? b.stamp : a.stamp, value: aWins ? by : ax }
            }))
          }
        }
      })
      expected.sort()
      for (const order of orders) {
        assert.deepEqual(run(merger, order.map(i => writes[i]!)).conflicts.map(key).sort(), expected)
      }
    }), { numRuns: 500 })
  })

  test('absorbing changes neither the state given nor the decoded values of the writes', () => {
    const freeze = (v: unknown): void => {
      if (typeof v !== 'object' || v === null || Buffer.isBuffer(v)) return
      Object.freeze(v)
      for (const child of Object.values(v)) freeze(child)
    }
    fc.assert(fc.property(historyArb, ({ generated, orders }) => {
      const writes = generated.map(g => toWrite(g, codecs.msgpack))
      for (const w of writes) freeze(w.decoded)
      let state: unknown
      for (const i of orders[0]!) {
        const before = state === undefined ? undefined : merger.encodeState(state)
        const r = merger.absorb(state, writes[i]!)
        if (before !== undefined) assert.ok(merger.encodeState(state).equals(before), 'absorb changed the state it was given')
        if (r.outcome === 'applied') state = r.state
      }
    }), { numRuns: 300 })
  })
})

describe('lww-fields merging', () => {
  const base = patch(stamp('eu', T - 60_000), { status: 'new', qty: 1 })
  const paid = patch(stamp('eu', T + 5_000), { status: 'paid' })
  const qty2 = patch(stamp('us', T + 6_000), { qty: 2 })

  test('concurrent edits of different fields in two DCs both survive, in either order, without conflict', () => {
    for (const order of [[base, paid, qty2], [base, qty2, paid], [qty2, paid, base]]) {
      const r = run(merger, order)
      assert.deepEqual(doc(merger, order), { qty: 2, status: 'paid' })
      assert.deepEqual(r.conflicts, [])
      assert.deepEqual(merger.resolve(r.state).sources, [paid.stamp, qty2.stamp], 'base set no field that is still held')
    }
  })

  test('the same field edited in two DCs: the greater stamp wins and the conflict names the field and both sides', () => {
    const voided = patch(stamp('us', T + 6_000), { status: 'void' })
    const r = run(merger, [base, paid, voided])
    assert.deepEqual(merger.resolve(r.state).value, merger.resolve(run(merger, [base, voided, paid]).state).value)
    assert.deepEqual(doc(merger, [base, voided, paid]), { qty: 1, status: 'void' })
    assert.deepEqual(r.conflicts, [{
      field: 'status',
      winner: { stamp: voided.stamp, value: codecs.msgpack.encode('void') },
      loser: { stamp: paid.stamp, value: codecs.msgpack.encode('paid') }
    }])
  })

  test('a patch that applies reports the fields it loses too, the holder winning', () => {
    const late = patch(stamp('us', T + 7_000), { status: 'void' })
    const early = patch(stamp('eu', T + 5_000), { status: 'paid', note: 'x' })
    const r = run(merger, [late, early])
    assert.deepEqual(r.outcomes, ['applied', 'applied'])
    assert.deepEqual(doc(merger, [late, early]), { note: 'x', status: 'void' })
    assert.equal(r.conflicts.length, 1)
    assert.deepEqual(r.conflicts[0]!.winner.stamp, late.stamp)
    assert.deepEqual(r.conflicts[0]!.loser.stamp, early.stamp)
  })

  test('two DCs setting one field report the same conflict in both arrival orders, once; a redelivery reports nothing', () => {
    // dc1 sets status=paid at t1, dc2 sets status=void at t2 > t1, within the window. Each DC absorbs its
    // own patch first, then the other's (then a redelivery of each).
    const p1 = patch(stamp('dc1', T + 5_000), { status: 'paid' })
    const p2 = patch(stamp('dc2', T + 6_000), { status: 'void' })
    const expected: Conflict[] = [{
      field: 'status',
      winner: { stamp: p2.stamp, value: codecs.msgpack.encode('void') },
      loser: { stamp: p1.stamp, value: codecs.msgpack.encode('paid') }
    }]
    const inDc1 = run(merger, [p1, p2, p1, p2])
    const inDc2 = run(merger, [p2, p1, p2, p1])
    assert.deepEqual(inDc1.outcomes, ['applied', 'applied', 'duplicate', 'duplicate'])
    assert.deepEqual(inDc2.outcomes, ['applied', 'applied', 'duplicate', 'duplicate'])
    assert.deepEqual(inDc1.conflicts, expected)
    assert.deepEqual(inDc2.conflicts, expected)
    assert.ok(merger.encodeState(inDc1.state).equals(merger.encodeState(inDc2.state)))
    assert.deepEqual(doc(merger, [p2, p1]), { status: 'void' })
  })

  test('a patch older than its DC\'s entries of every field it sets is stale and reports nothing', () => {
    const late = patch(stamp('us', T + 7_000), { status: 'void' })
    const own = patch(stamp('eu', T + 5_000), { status: 'paid' })
    const older = patch(stamp('eu', T + 4_000), { status: 'new' })
    const r = run(merger, [late, own, older])
    assert.deepEqual(r.outcomes, ['applied', 'applied', 'stale'])
    assert.equal(r.conflicts.length, 1, 'only own against late')
    assert.deepEqual(doc(merger, [late, own, older]), { status: 'void' })
  })

  test('a DC that replaced its own entry before the other DC\'s patch arrived does not report the replaced one', () => {
    const paid = patch(stamp('eu', T + 5_000), { status: 'paid' })
    const shipped = patch(stamp('eu', T + 5_500), { status: 'shipped' })
    const voided = patch(stamp('us', T + 6_000), { status: 'void' })
    const losers = (order: Write[]): Stamp[] => run(merger, order).conflicts.map(c => c.loser.stamp)
    assert.deepEqual(losers([paid, shipped, voided]), [shipped.stamp])
    assert.deepEqual(losers([voided, paid, shipped]), [paid.stamp, shipped.stamp])
    assert.deepEqual(doc(merger, [paid, shipped, voided]), doc(merger, [voided, paid, shipped]), 'the merged value never differs')
  })

  test('no conflict from the same DC, at or beyond the window, or for equal values', () => {
    const cases: Array<[Write, Write]> = [
      [patch(stamp('eu', T), { status: 'a' }), patch(stamp('eu', T + 1), { status: 'b' })],
      [patch(stamp('eu', T), { status: 'a' }), patch(stamp('us', T + WINDOW_MS), { status: 'b' })],
      [patch(stamp('eu', T), { status: 'a' }), patch(stamp('us', T + 2 * WINDOW_MS), { status: 'b' })],
      [patch(stamp('eu', T), { status: { n: [1] } }), patch(stamp('us', T + 1), { status: { n: [1] } })],
      [patch(stamp('eu', T), { status: null }), patch(stamp('us', T + 1), { status: 'b' })]
    ]
    for (const [a, b] of cases) {
      assert.deepEqual(run(merger, [a, b]).conflicts, [])
      assert.deepEqual(run(merger, [b, a]).conflicts, [])
    }
    const edge = run(merger, [patch(stamp('eu', T), { status: 'a' }), patch(stamp('us', T + WINDOW_MS - 1), { status: 'b' })])
    assert.equal(edge.conflicts.length, 1, 'a millisecond inside the window is a conflict')
  })

  test('a field set to null is deleted, and an older patch does not bring it back', () => {
    const drop = patch(stamp('us', T + 2), { qty: null })
    const older = patch(stamp('ap', T + 1), { qty: 9 })
    for (const order of [[base, drop, older], [older, drop, base], [drop, older, base]]) {
      assert.deepEqual(doc(merger, order), { status: 'new' })
    }
    const r = run(merger, [base, drop, older])
    assert.deepEqual(r.outcomes, ['applied', 'applied', 'applied'], 'ap\'s entry of qty is held, losing to the delete')
    assert.deepEqual(r.conflicts, [], 'a field delete is in conflict with nothing')
    assert.deepEqual(merger.resolve(r.state).sources, [base.stamp, drop.stamp])
  })

  test('a state of field deletes only resolves to an empty document', () => {
    assert.deepEqual(doc(merger, [patch(stamp('eu', T), { a: null, b: null })]), {})
  })

  test('a record delete deletes, and a newer patch revives the record with only the newer fields', () => {
    const gone = del(stamp('us', T + 10))
    const deleted = merger.resolve(run(merger, [base, gone]).state)
    assert.deepEqual(deleted, { value: null, origin: gone.stamp, sources: [gone.stamp], tombstone: gone.stamp })
    const revive = patch(stamp('ap', T + 20), { status: 'back' })
    for (const order of [[base, gone, revive], [revive, gone, base], [gone, revive, base]]) {
      assert.deepEqual(doc(merger, order), { status: 'back' })
      const r = merger.resolve(run(merger, order).state)
      assert.deepEqual([r.origin, r.tombstone, r.sources], [undefined, undefined, [revive.stamp]])
    }
  })

  test('a patch older than the record delete is ignored, in any order', () => {
    const gone = del(stamp('us', T + 10))
    const older = patch(stamp('eu', T + 5), { status: 'old' })
    assert.deepEqual(run(merger, [gone, older]).outcomes, ['applied', 'stale'])
    assert.equal(doc(merger, [gone, older]), null)
    assert.equal(doc(merger, [older, gone]), null)
  })

  test('under delete-wins a patch within the window after the delete is ignored; one at the window revives', () => {
    const dw = mergers['delete-wins']
    const gone = del(stamp('us', T))
    const soon = patch(stamp('eu', T + WINDOW_MS - 1), { a: 1 })
    const after = patch(stamp('eu', T + WINDOW_MS), { b: 2 })
    assert.equal(doc(dw, [gone, soon]), null)
    assert.equal(doc(dw, [soon, gone]), null)
    assert.deepEqual(doc(dw, [soon, gone, after]), { b: 2 })
    assert.deepEqual(doc(merger, [soon, gone]), { a: 1 }, 'under lww the newer patch revives')
  })

  test('a redelivered patch or delete is a duplicate; a newer one is applied', () => {
    const r = run(merger, [base, patch(base.stamp, { status: 'new', qty: 1 }), del(stamp('us', T + 1)), del(stamp('us', T + 1)), del(stamp('eu', T - 1))])
    assert.deepEqual(r.outcomes, ['applied', 'duplicate', 'applied', 'duplicate', 'stale'])
  })

  test('the document has its keys in UTF-8 byte order, whatever order the patches had them in', () => {
    const fields: Array<[string, number]> = [['b', 1], ['f-\u{1D400}', 2], ['a', 3], ['f-\uFF21', 4], ['ab', 5]]
    const one = run(merger, [patch(stamp('eu', T), Object.fromEntries(fields))])
    const other = run(merger, [patch(stamp('eu', T), Object.fromEntries([...fields].reverse()))])
    const bytes = merger.resolve(one.state).value!
    assert.ok(bytes.equals(merger.resolve(other.state).value!))
    assert.deepEqual(Object.keys(codecs.msgpack.decode(bytes) as object), ['a', 'ab', 'b', 'f-\uFF21', 'f-\u{1D400}'])
    const json = run(jsonMerger, [patch(stamp('eu', T), { b: 1, a: { z: 1, y: 2 } }, codecs.json)])
    assert.equal(jsonMerger.resolve(json.state).value!.toString(), '{"a":{"z":1,"y":2},"b":1}')
  })

  test('a value that is no map is rejected with the reason, and changes nothing', () => {
    const held = run(merger, [base]).state
    const bytes = merger.encodeState(held)
    for (const value of [[1, 2], 'text', 7, null, Buffer.from('ab')]) {
      const encoded = codecs.msgpack.encode(value)
      const r = merger.absorb(held, { stamp: stamp('us', T + 1), value: encoded, decoded: codecs.msgpack.decode(encoded) })
      assert.equal(r.outcome, 'rejected')
      assert.match((r as { reason: string }).reason, /lww-fields needs a map value/)
      assert.ok(merger.encodeState(held).equals(bytes))
    }
  })

  test('a field named __proto__ stays a field (json), and a lone surrogate in a name is rejected', () => {
    const proto = Buffer.from('{"__proto__":1,"a":2}')
    const r = run(jsonMerger, [{ stamp: stamp('eu', T), value: proto, decoded: codecs.json.decode(proto) }])
    assert.equal(jsonMerger.resolve(r.state).value!.toString(), '{"__proto__":1,"a":2}')
    const back = jsonMerger.decodeState(jsonMerger.encodeState(r.state))
    assert.equal(jsonMerger.resolve(back).value!.toString(), '{"__proto__":1,"a":2}')
    const lone = Buffer.from('{"\\ud800":1}')
    const bad = jsonMerger.absorb(undefined, { stamp: stamp('eu', T), value: lone, decoded: codecs.json.decode(lone) })
    assert.equal(bad.outcome, 'rejected')
  })

  test('the state is encoded in the documented layout: the stamp table in stamp order, fields by name, then entries by DC', () => {
    const u8 = (n: number): Buffer => Buffer.from([n])
    const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
    const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
    const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }
    const f64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleBE(n); return b }
    const utf8 = (t: string): Buffer => Buffer.from(t, 'utf8')
    const stampBlob = (s: Stamp): Buffer =>
      Buffer.concat([u8(utf8(s.dc).length), utf8(s.dc), f64(s.ts), f64(s.counter), u16(utf8(s.eventId).length), utf8(s.eventId)])
    const entry = (index: Buffer, value: unknown): Buffer => {
      const bytes = value === null ? null : codecs.msgpack.encode(value)
      return Buffer.concat([index, i32(bytes === null ? -1 : bytes.length), bytes ?? Buffer.alloc(0)])
    }
    const gone = stamp('eu', T)
    const [usB, euB, euAC] = [stamp('us', T + 1), stamp('eu', T + 2), stamp('eu', T + 3)]
    // Absorbed newest first, so that the table's order is not the arrival order.
    const { state } = run(merger, [del(gone), patch(euAC, { c: 7, a: [1] }), patch(euB, { b: null }), patch(usB, { b: 'x' })])
    const expected = Buffer.concat([
      u8(1), stampBlob(gone),
      u32(3), stampBlob(usB), stampBlob(euB), stampBlob(euAC),
      u32(3),
      u32(1), utf8('a'), u16(1), entry(u8(2), [1]),
      u32(1), utf8('b'), u16(2), entry(u8(1), null), entry(u8(0), 'x'),
      u32(1), utf8('c'), u16(1), entry(u8(2), 7)
    ])
    assert.deepEqual(merger.encodeState(state), expected)
    assert.deepEqual(merger.encodeState({ fields: new Map(), tombstone: undefined }), Buffer.concat([u8(0), u32(0), u32(0)]), 'no tombstone, no stamp, no field')
    const dangling = Buffer.concat([u8(0), u32(0), u32(1), u32(1), utf8('a'), u16(1), entry(u8(0), 1)])
    assert.throws(() => merger.decodeState(dangling), (err: unknown) => err instanceof InternalError && /names stamp 0 of a table of 0/.test(err.message))
  })

  test('a stamp index takes two bytes once the table holds more than 256 stamps', () => {
    const writes = (n: number): Write[] => Array.from({ length: n }, (_, i) => patch(stamp('eu', T + i), { [`f${String(i).padStart(3, '0')}`]: i }))
    for (const [n, width] of [[256, 1], [257, 2]] as const) {
      const { state } = run(merger, writes(n))
      const bytes = merger.encodeState(state)
      const back = merger.decodeState(bytes)
      assert.ok(merger.encodeState(back).equals(bytes))
      assert.deepEqual(back, state)
      // The last entry: its index, then i32 length and the value (one msgpack byte for 0..127, three above).
      const last = codecs.msgpack.encode(n - 1)
      const at = bytes.length - last.length - 4 - width
      assert.equal(bytes.readUIntBE(at, width), n - 1, `with ${n} stamps`)
    }
  })

  test('a patch of six fields stores its stamp once, not once per field', () => {
    const eventId = 'e'.repeat(30)
    const six = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }
    const size = (writes: Write[]): number => merger.encodeState(run(merger, writes).state).length
    const stampSize = 1 + 2 + 16 + 2 + eventId.length
    const growth = size([patch(stamp('eu', T, eventId), six)]) - size([patch(stamp('eu', T, eventId), { a: 1 })])
    // Five more fields, each a name, its entry count, a one-byte index and its value, and no stamp: far less
    // than the five stamps a stamp per entry would add.
    assert.equal(growth, 5 * (4 + 1 + 2 + 1 + 4 + 1))
    assert.ok(growth < 2 * stampSize, `grew by ${growth} bytes, a stamp is ${stampSize}`)
    const bySix = Object.entries(six).map(([name, v], i) => patch(stamp('eu', T + i, eventId.slice(1) + String(i)), { [name]: v }))
    assert.equal(size(bySix) - size([patch(stamp('eu', T, eventId), six)]), 5 * stampSize, 'six patches, six stamps')
  })

  test('the state round-trips byte for byte, tombstone and field deletes included', () => {
    const histories: Write[][] = [
      [base, del(stamp('us', T + 1)), patch(stamp('ap', T + 2), { qty: null, tags: ['a'], blob: Buffer.from([0, 255]) })],
      [base, patch(stamp('us', T + 1), { qty: 2, status: null }), patch(stamp('ap', T + 2), { qty: 3 }), patch(stamp('eu', T + 3), { status: 'paid' })]
    ]
    for (const writes of histories) {
      const { state } = run(merger, writes)
      const bytes = merger.encodeState(state)
      const back = merger.decodeState(bytes)
      assert.ok(merger.encodeState(back).equals(bytes))
      assert.deepEqual(merger.resolve(back), merger.resolve(state))
      assert.deepEqual(back, state)
    }
  })
})
