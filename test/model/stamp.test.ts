import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareStamps, compareUtf8, type Stamp } from '../../src/model/stamp.ts'
import { formatTs } from '../../src/wire/contract.ts'

const sign = (n: number): -1 | 0 | 1 => n < 0 ? -1 : n > 0 ? 1 : 0
const utf8Order = (a: string, b: string): -1 | 0 | 1 => sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))

/**
 * Code points biased towards the boundaries where UTF-16 and UTF-8 orders could part: the UTF-8 length steps
 * (U+0080, U+0800, U+10000), the last code point below the surrogates, and U+E000..U+FFFF against astral code
 * points (a surrogate pair starts with 0xD800..0xDBFF, below 0xE000 in UTF-16 yet above it in UTF-8).
 */
const trapUnit = fc.oneof(
  fc.constantFrom('a', 'z', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uff21', '\uffff',
    '\u{10000}', '\u{1d400}', '\u{1f600}', '\u{10ffff}'),
  fc.integer({ min: 0xe000, max: 0xffff }).map(cp => String.fromCodePoint(cp)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map(cp => String.fromCodePoint(cp)),
  fc.integer({ min: 0, max: 0xd7ff }).map(cp => String.fromCodePoint(cp))
)
const trapString = fc.string({ unit: trapUnit, maxLength: 6 })
/** Any well-formed string: 'binary' draws code points from the whole range except lone surrogates. */
const anyString = fc.string({ unit: 'binary', maxLength: 8 })
/** Pairs that share a prefix, so that the first difference sits anywhere, including right after a pair. */
const prefixedPair = fc.tuple(trapString, trapString, trapString).map(([p, a, b]) => [p + a, p + b] as const)

describe('compareUtf8', () => {
  test('orders the classic UTF-16 trap by code point: U+E000..U+FFFF sort below astral code points', () => {
    assert.ok(compareUtf8('\uffff', '\u{10000}') < 0)
    assert.ok(compareUtf8('\ue000', '\u{1f600}') < 0)
    assert.ok(compareUtf8('x\u{1d400}', 'x\uff21') > 0)
    assert.ok(compareUtf8('\u{10ffff}', '\u{10000}') > 0)
  })

  test('orders prefixes first and compares equal strings as 0', () => {
    assert.ok(compareUtf8('', 'a') < 0)
    assert.ok(compareUtf8('dc', 'dc-a') < 0)
    assert.ok(compareUtf8('\u{1f600}', '\u{1f600}a') < 0)
    assert.equal(compareUtf8('\u{1f600}', '\u{1f600}'), 0)
    assert.ok(compareUtf8('\u00e9', 'z') > 0)
  })

  test('agrees in sign with Buffer.compare of the UTF-8 encodings for arbitrary well-formed strings', () => {
    fc.assert(fc.property(anyString, anyString, (a, b) => {
      assert.equal(sign(compareUtf8(a, b)), utf8Order(a, b))
    }), { numRuns: 500 })
  })

  test('agrees in sign with Buffer.compare on strings mixing astral and U+E000..U+FFFF code points', () => {
    fc.assert(fc.property(trapString, trapString, (a, b) => {
      assert.equal(sign(compareUtf8(a, b)), utf8Order(a, b))
    }), { numRuns: 500 })
  })

  test('agrees in sign with Buffer.compare when the strings share a prefix', () => {
    fc.assert(fc.property(prefixedPair, ([a, b]) => {
      assert.equal(sign(compareUtf8(a, b)), utf8Order(a, b))
    }), { numRuns: 500 })
  })

  test('is antisymmetric and 0 exactly for equal strings', () => {
    fc.assert(fc.property(fc.oneof(trapString, anyString), fc.oneof(trapString, anyString), (a, b) => {
      assert.equal(sign(compareUtf8(a, b)), -sign(compareUtf8(b, a)) || 0)
      assert.equal(compareUtf8(a, b) === 0, a === b)
      assert.equal(compareUtf8(a, a), 0)
    }), { numRuns: 300 })
  })
})

const T = 1_700_000_000_000
const stamp = (ts: number, counter: number, dc: string, eventId: string): Stamp => ({ ts, counter, dc, eventId })

/** Small pools, so that equal fields and identical stamps come up often. */
const smallStamp: fc.Arbitrary<Stamp> = fc.record({
  ts: fc.constantFrom(T, T + 1, T + 2),
  counter: fc.constantFrom(0, 1, 2),
  dc: fc.constantFrom('dc', 'dc-a', 'dc-\uff21', 'dc-\u{1d400}'),
  eventId: fc.constantFrom('e1', 'e2', 'e\u{1f600}')
})
const wideStamp: fc.Arbitrary<Stamp> = fc.record({
  ts: fc.oneof(fc.constantFrom(0, T, Number.MAX_SAFE_INTEGER), fc.maxSafeNat()),
  counter: fc.oneof(fc.constantFrom(0, 1), fc.nat({ max: 0xffff })),
  dc: fc.oneof(trapString, anyString),
  eventId: fc.oneof(trapString, anyString)
})
const anyStamp = fc.oneof(smallStamp, wideStamp)

/** Lexicographic (ts, counter, dc, eventId) with strings as UTF-8 bytes, written without compareUtf8. */
function referenceCompare (a: Stamp, b: Stamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  return utf8Order(a.dc, b.dc) || utf8Order(a.eventId, b.eventId)
}

describe('compareStamps', () => {
  test('compares ts first: a later ts wins over any counter, dc and eventId', () => {
    assert.ok(compareStamps(stamp(T + 1, 0, 'a', 'a'), stamp(T, 9, 'z', 'z')) > 0)
    assert.ok(compareStamps(stamp(T, 9, 'z', 'z'), stamp(T + 1, 0, 'a', 'a')) < 0)
  })

  test('compares counter second, numerically', () => {
    assert.ok(compareStamps(stamp(T, 10, 'a', 'a'), stamp(T, 9, 'z', 'z')) > 0)
    assert.ok(compareStamps(stamp(T, 2, 'a', 'a'), stamp(T, 10, 'z', 'z')) < 0)
  })

  test('compares dc third, by UTF-8 byte order', () => {
    assert.ok(compareStamps(stamp(T, 1, 'dc-b', 'a'), stamp(T, 1, 'dc-a', 'z')) > 0)
    assert.ok(compareStamps(stamp(T, 1, 'dc-\u{1d400}', 'a'), stamp(T, 1, 'dc-\uff21', 'z')) > 0)
    assert.ok(compareStamps(stamp(T, 1, 'dc', 'z'), stamp(T, 1, 'dc-a', 'a')) < 0)
  })

  test('compares eventId last, by UTF-8 byte order', () => {
    assert.ok(compareStamps(stamp(T, 1, 'dc', 'e2'), stamp(T, 1, 'dc', 'e1')) > 0)
    assert.ok(compareStamps(stamp(T, 1, 'dc', 'e\u{1f600}'), stamp(T, 1, 'dc', 'e\uffff')) > 0)
    assert.equal(compareStamps(stamp(T, 1, 'dc', 'e1'), stamp(T, 1, 'dc', 'e1')), 0)
  })

  test('agrees in sign with the lexicographic order on (ts, counter, dc, eventId)', () => {
    fc.assert(fc.property(anyStamp, anyStamp, (a, b) => {
      assert.equal(sign(compareStamps(a, b)), sign(referenceCompare(a, b)))
    }), { numRuns: 500 })
  })

  test('is antisymmetric', () => {
    fc.assert(fc.property(anyStamp, anyStamp, (a, b) => {
      assert.equal(sign(compareStamps(a, b)), -sign(compareStamps(b, a)) || 0)
    }), { numRuns: 300 })
  })

  test('is 0 exactly when all four fields are equal', () => {
    fc.assert(fc.property(anyStamp, anyStamp, (a, b) => {
      assert.equal(compareStamps(a, a), 0)
      const same = a.ts === b.ts && a.counter === b.counter && a.dc === b.dc && a.eventId === b.eventId
      assert.equal(compareStamps(a, b) === 0, same)
    }), { numRuns: 300 })
  })

  test('is transitive', () => {
    fc.assert(fc.property(smallStamp, smallStamp, smallStamp, (a, b, c) => {
      if (compareStamps(a, b) <= 0 && compareStamps(b, c) <= 0) assert.ok(compareStamps(a, c) <= 0)
      if (compareStamps(a, b) >= 0 && compareStamps(b, c) >= 0) assert.ok(compareStamps(a, c) >= 0)
    }), { numRuns: 500 })
  })

  test('sorts any list into an order where every earlier stamp is at most every later one', () => {
    fc.assert(fc.property(fc.array(anyStamp, { minLength: 2, maxLength: 12 }), stamps => {
      const sorted = [...stamps].sort(compareStamps)
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++) assert.ok(compareStamps(sorted[i]!, sorted[j]!) <= 0)
      }
    }), { numRuns: 200 })
  })
})

describe('formatTs', () => {
  test('gives ts alone when the counter is 0', () => {
    assert.equal(formatTs({ ts: T, counter: 0 }), '1700000000000')
    assert.equal(formatTs({ ts: 0, counter: 0 }), '0')
  })

  test('gives ts:counter when the counter is not 0', () => {
    assert.equal(formatTs({ ts: T, counter: 3 }), '1700000000000:3')
    assert.equal(formatTs({ ts: T, counter: 65535 }), '1700000000000:65535')
  })

  test('round-trips ts and counter through the header form', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.oneof(fc.constant(0), fc.nat({ max: 0xffff })), (ts, counter) => {
      const text = formatTs({ ts, counter })
      assert.match(text, counter === 0 ? /^\d+$/ : /^\d+:[1-9]\d*$/)
      const [tsText, counterText = '0'] = text.split(':')
      assert.equal(Number(tsText), ts)
      assert.equal(Number(counterText), counter)
    }), { numRuns: 200 })
  })
})
