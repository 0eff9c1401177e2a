/**
 * The sibling state codec (src/merge/sibling-codec.ts): round trip, the limits of its length fields, and
 * compatibility with store version 1, whose `entities.siblings` blob is the siblings part of the state
 * without the tombstone trailer. The version-1 layout is built by hand here, from 001-initial.sql and the
 * codec's header, so that a change to the encoder cannot move the reference with it.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeSiblingState, encodeSiblingState } from '../../src/merge/sibling-codec.ts'
import type { SiblingState } from '../../src/merge/sibling-state.ts'
import type { Stamp } from '../../src/model/stamp.ts'
import type { Version } from '../../src/model/version.ts'
import { referenceMax } from './arbitraries.ts'

const T = 1_700_000_000_000

const u8 = (n: number): Buffer => Buffer.from([n])
const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }
const f64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleBE(n); return b }

/** A stamp in the layout: u8 dc length, dc, f64 ts, f64 counter, u16 event id length, event id. */
function stampBlob (s: Stamp): Buffer {
  const dc = Buffer.from(s.dc, 'utf8')
  const id = Buffer.from(s.eventId, 'utf8')
  return Buffer.concat([u8(dc.length), dc, f64(s.ts), f64(s.counter), u16(id.length), id])
}

/** Version 1's `entities.siblings`: u8 count, then per sibling its stamp and i32 value length (-1: delete), value. */
function v1Blob (siblings: readonly Version[]): Buffer {
  return Buffer.concat([u8(siblings.length), ...siblings.flatMap(s =>
    [stampBlob(s.stamp), i32(s.value === null ? -1 : s.value.length), s.value ?? Buffer.alloc(0)])])
}

/** The tombstone trailer version 2 appends: u8 0, or u8 1 and the stamp. */
const trailer = (tombstone: Stamp | undefined): Buffer =>
  tombstone === undefined ? u8(0) : Buffer.concat([u8(1), stampBlob(tombstone)])

const bufferArb = fc.uint8Array({ maxLength: 40 }).map(a => Buffer.from(a))

/** Any stamp the codec can hold: full-range ts and counter, unicode DC and event id. */
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  ts: fc.maxSafeNat(),
  counter: fc.maxSafeNat(),
  dc: fc.string({ unit: 'binary', maxLength: 16 }),
  eventId: fc.string({ unit: 'binary', maxLength: 64 })
}, { noNullPrototype: true })

/** Any version: deletes (null) and empty values included. */
const versionArb: fc.Arbitrary<Version> = fc.record({
  stamp: stampArb,
  value: fc.option(bufferArb, { nil: null, freq: 3 })
}, { noNullPrototype: true })

const stateArb: fc.Arbitrary<SiblingState> = fc.record({
  siblings: fc.array(versionArb, { maxLength: 8 }),
  tombstone: fc.option(stampArb, { nil: undefined })
}, { noNullPrototype: true })

const version = (dc: string, eventId: string, value: string | null): Version =>
  ({ stamp: { ts: T, counter: 0, dc, eventId }, value: value === null ? null : Buffer.from(value) })

/** The greatest delete among the siblings, by the reference stamp order of the merge tests. */
function greatestDelete (siblings: readonly Version[]): Stamp | undefined {
  const deletes = siblings.filter(s => s.value === null)
  return deletes.length === 0 ? undefined : referenceMax(deletes).stamp
}

describe('sibling codec', () => {
  test('decodes what it encodes: any siblings and tombstone, deletes, empty values, unicode DC ids and event ids', () => {
    fc.assert(fc.property(stateArb, state => {
      assert.deepEqual(decodeSiblingState(encodeSiblingState(state)), state)
    }), { numRuns: 300 })
  })

  test('keeps a delete apart from an empty value', () => {
    const { siblings } = decodeSiblingState(encodeSiblingState({ siblings: [version('dc1', 'a', null), version('dc2', 'b', '')], tombstone: undefined }))
    assert.equal(siblings[0]?.value, null)
    assert.deepEqual(siblings[1]?.value, Buffer.alloc(0))
  })

  test('keeps an encoded "no tombstone" even when the siblings hold a delete (the trailer, not the siblings, decides)', () => {
    const state = { siblings: [version('dc1', 'a', null)], tombstone: undefined }
    assert.equal(decodeSiblingState(encodeSiblingState(state)).tombstone, undefined)
  })

  test('throws rather than write a corrupt blob when a count or length outgrows its field', () => {
    const many = (n: number): Version[] => Array.from({ length: n }, (_, i) => version('dc1', `e${i}`, null))
    assert.throws(() => encodeSiblingState({ siblings: many(256), tombstone: undefined }), RangeError)
    assert.throws(() => encodeSiblingState({ siblings: [version('d'.repeat(256), 'e', 'v')], tombstone: undefined }), RangeError)
    assert.throws(() => encodeSiblingState({ siblings: [version('dc1', 'é'.repeat(32_768), 'v')], tombstone: undefined }), RangeError)
    assert.throws(() => encodeSiblingState({ siblings: [], tombstone: { ts: T, counter: 0, dc: 'd'.repeat(256), eventId: 'e' } }), RangeError)
    assert.equal(decodeSiblingState(encodeSiblingState({ siblings: many(255), tombstone: undefined })).siblings.length, 255)
  })
})

describe('sibling codec and store version 1', () => {
  test('the encoded state is the version-1 blob, byte for byte, then the tombstone trailer (a fixed vector)', () => {
    const live: Version = { stamp: { ts: 1, counter: 2, dc: 'eu', eventId: 'é' }, value: Buffer.from('ab') }
    const gone: Version = { stamp: { ts: 3, counter: 0, dc: 'us', eventId: 'x' }, value: null }
    const expected = Buffer.from([
      '02', //                                     2 siblings
      '02', '6575', //                             dc "eu"
      '3ff0000000000000', '4000000000000000', //   ts 1, counter 2 (f64)
      '0002', 'c3a9', //                           event id "é" (2 bytes of UTF-8)
      '00000002', '6162', //                       value "ab"
      '02', '7573', //                             dc "us"
      '4008000000000000', '0000000000000000', //   ts 3, counter 0
      '0001', '78', //                             event id "x"
      'ffffffff', //                               a delete
      '01', '02', '7573', '4008000000000000', '0000000000000000', '0001', '78' // tombstone: the delete's stamp
    ].join(''), 'hex')
    assert.deepEqual(encodeSiblingState({ siblings: [live, gone], tombstone: gone.stamp }), expected)
    assert.deepEqual(v1Blob([live, gone]), expected.subarray(0, expected.length - 1 - stampBlob(gone.stamp).length), 'the hand-built layout agrees with the vector')
  })

  test('the siblings part of any encoded state is the version-1 blob of its siblings, and the trailer follows it', () => {
    fc.assert(fc.property(stateArb, state => {
      const encoded = encodeSiblingState(state)
      assert.deepEqual(encoded, Buffer.concat([v1Blob(state.siblings), trailer(state.tombstone)]))
    }), { numRuns: 300 })
  })

  test('a version-1 blob (no trailer) decodes to its siblings with the greatest delete among them as tombstone', () => {
    fc.assert(fc.property(fc.array(versionArb, { maxLength: 8 }), siblings => {
      assert.deepEqual(decodeSiblingState(v1Blob(siblings)), { siblings, tombstone: greatestDelete(siblings) })
    }), { numRuns: 300 })
  })

  test('a version-1 blob with no delete decodes with no tombstone; with several, the greatest stamp is the tombstone', () => {
    assert.equal(decodeSiblingState(v1Blob([version('dc1', 'a', 'x'), version('dc2', 'b', '')])).tombstone, undefined)
    const older: Version = { stamp: { ts: T + 1, counter: 9, dc: 'dc9', eventId: 'z' }, value: null }
    const newer: Version = { stamp: { ts: T + 2, counter: 0, dc: 'dc-\uFF21', eventId: 'a' }, value: null }
    const tie: Version = { stamp: { ts: T + 2, counter: 0, dc: 'dc-\u{1D400}', eventId: 'a' }, value: null }
    const live: Version = { stamp: { ts: T + 5, counter: 0, dc: 'dc1', eventId: 'a' }, value: Buffer.from('v') }
    assert.deepEqual(decodeSiblingState(v1Blob([older, newer, live])).tombstone, newer.stamp)
    // U+1D400 sorts after U+FF21 in UTF-8 (the stamp order), though not in UTF-16.
    assert.deepEqual(decodeSiblingState(v1Blob([tie, newer, older, live])).tombstone, tie.stamp)
  })
})
