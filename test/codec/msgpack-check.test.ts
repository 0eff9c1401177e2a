import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Int64BE, Uint64BE } from 'int64-buffer'
import msgpack from 'msgpack-lite'
import { checkMsgpack, MAX_DEPTH } from '../../src/codec/msgpack-check.ts'
import { decodeMsgpack, encodeMsgpack } from '../../src/codec/msgpack.ts'
import { validators } from '../../src/codec/value-codec.ts'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex')
const show = (b: Buffer): string => b.toString('hex')

// ---- The oracle -----------------------------------------------------------------------------------------
//
// msgpack-lite parses; the check must agree with it, except where the check is stricter on purpose (see the
// header of src/codec/msgpack-check.ts). msgpack-lite is more lenient in four ways, which the oracle adds back
// as rules around msgpack-lite's own parse, so that every other byte is judged by msgpack-lite alone:
//   1. trailing bytes: `decode` returns the first value and ignores the rest; the oracle asks that the value
//      end where the buffer does;
//   2. invalid UTF-8 in a str: msgpack-lite decodes it to U+FFFD; the oracle checks each str's payload;
//   3. nesting: msgpack-lite recurses until the stack overflows (past 5,000 levels on Node 24); the oracle
//      refuses more than MAX_DEPTH arrays and maps inside one another;
//   4. the timestamp extension (type -1): msgpack-lite takes any payload; the oracle asks for 4, 8 or 12 bytes
//      with nanoseconds below 10^9.
// The oracle's codec has no preset extensions, so every ext payload is opaque, as in the spec: the preset
// codec decodes some ext types (0x01-0x1d) into JavaScript objects and can refuse what the check passes (see
// "differs from msgpack-lite" below).

interface LiteDecodeBuffer { buffer: Buffer, offset: number, write: (b: Buffer) => void, fetch: () => unknown }
interface LiteCodec { decode: (d: LiteDecodeBuffer) => unknown }
interface LiteExt { buffer: Buffer, type: number }

const opaque = msgpack.createCodec()
const parse = (opaque as unknown as LiteCodec).decode
// The four rules run inside msgpack-lite's recursion, since arrays and maps decode their items through
// `decoder.codec.decode`; `rules` switches them off to see what msgpack-lite alone makes of some bytes.
let rules = true
let level = 0
;(opaque as unknown as LiteCodec).decode = (decoder) => {
  const at = decoder.offset
  const type = decoder.buffer[at]
  const container = type !== undefined && ((type >= 0x80 && type <= 0x9f) || (type >= 0xdc && type <= 0xdf))
  if (container && ++level > MAX_DEPTH && rules) {
    level--
    throw new Error('oracle: nesting too deep')
  }
  let value: unknown
  try {
    value = parse(decoder)
  } finally {
    if (container) level--
  }
  if (!rules || type === undefined) return value
  const strHead = type >= 0xa0 && type <= 0xbf ? 1 : type === 0xd9 ? 2 : type === 0xda ? 3 : type === 0xdb ? 5 : 0
  if (strHead > 0 && !isUtf8(decoder.buffer.subarray(at + strHead, decoder.offset))) throw new Error('oracle: str not UTF-8')
  const ext = ((type >= 0xd4 && type <= 0xd8) || (type >= 0xc7 && type <= 0xc9)) ? value as LiteExt : undefined
  if (ext !== undefined && ext.type === 0xff) {
    const n = ext.buffer.length
    const nanos = n === 8 ? ext.buffer.readUInt32BE(0) >>> 2 : n === 12 ? ext.buffer.readUInt32BE(0) : 0
    if ((n !== 4 && n !== 8 && n !== 12) || nanos > 999_999_999) throw new Error('oracle: bad timestamp')
  }
  return value
}

/** undefined when msgpack-lite (plus the rules, unless switched off) reads one value filling `bytes`, else why not. */
function oracle (bytes: Buffer, withRules = true): string | undefined {
  rules = withRules
  level = 0
  try {
    const decoder = msgpack.Decoder({ codec: opaque }) as unknown as LiteDecodeBuffer
    decoder.write(bytes)
    decoder.fetch()
    return decoder.offset === bytes.length ? undefined : `oracle: ${bytes.length - decoder.offset} trailing bytes`
  } catch (err) {
    return (err as Error).message
  } finally {
    rules = true
  }
}

// ---- Values msgpack-lite encodes ------------------------------------------------------------------------

const int64 = msgpack.createCodec({ int64: true })

/** msgpack-lite's encoding of `v`, or undefined for what it refuses (bigints, symbols). */
function encodable (v: unknown): Buffer | undefined {
  try {
    return msgpack.encode(v)
  } catch {
    return undefined
  }
}

// JSON-like documents as concord's topics carry them, with Buffers (bin), long strings and long collections
// (the 8- and 16-bit length forms) and every kind of number.
const { doc } = fc.letrec(tie => ({
  doc: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.double(),
    fc.float(),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ minLength: 200, maxLength: 400 }),
    fc.uint8Array({ maxLength: 300 }).map(a => Buffer.from(a)),
    fc.date({ noInvalidDate: false }),
    fc.array(tie('doc'), { maxLength: 20 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 10 }), tie('doc'), { maxKeys: 20 })
  )
}))

// fast-check's own "anything", with JavaScript's odd corners: boxed values, Map, Set, typed arrays (which the
// preset codec writes as ext), sparse arrays, null-prototype objects.
const anything = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withObjectString: true
})

const encoded = fc.oneof(doc, anything).map(encodable).filter((b): b is Buffer => b !== undefined)

// ---- Byte strings that are mostly not msgpack -----------------------------------------------------------

// Random bytes rarely get past the first byte or two; these favour type bytes with lengths and small lengths,
// so headers, payloads and items line up often enough to test what lies behind them.
const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0xc0, max: 0xdf }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x80, 0x81, 0x82, 0x90, 0x91, 0x92, 0xa0, 0xa1, 0xa3, 0xff, 0xfe, 0xed, 0xf0, 0xc3) }
)
const noise = fc.array(interestingByte, { minLength: 1, maxLength: 40 }).map(a => Buffer.from(a))

type Mutation = { op: 'set' | 'insert', at: number, byte: number } | { op: 'delete' | 'cut', at: number }
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('set' as const, 'insert' as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ op: fc.constantFrom('delete' as const, 'cut' as const), at: fc.nat() })
)
function mutate (bytes: Buffer, ms: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes)
  for (const m of ms) {
    const at = m.at % (out.length + 1)
    if (m.op === 'set' && at < out.length) out[at] = m.byte
    else if (m.op === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from([m.byte]), out.subarray(at)])
    else if (m.op === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)])
    else if (m.op === 'cut') out = out.subarray(0, at)
  }
  return out
}
const mutated = fc.tuple(encoded, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, ms]) => mutate(b, ms))

const nested = (depth: number, innermost = 'c0'): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), hex(innermost)])

// ---- Tests ----------------------------------------------------------------------------------------------

describe('checkMsgpack', () => {
  it('passes every value msgpack-lite encodes', () => {
    fc.assert(fc.property(encoded, bytes => {
      assert.equal(checkMsgpack(bytes), undefined, show(bytes))
    }), { numRuns: 2000 })
  })

  it('passes 64-bit integers at their edges, from concord\'s encoder and from msgpack-lite\'s int64 codec', () => {
    const signed = [0n, 1n, -1n, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 31n) - 1n]
    for (const n of signed) {
      const bytes = encodeMsgpack({ sum: n, list: [n] })
      assert.equal(checkMsgpack(bytes), undefined, `${n}: ${show(bytes)}`)
      assert.equal(checkMsgpack(msgpack.encode(new Int64BE(n.toString()), { codec: int64 })), undefined, `${n}`)
    }
    for (const n of ['0', '4294967296', '9007199254740993', '18446744073709551615']) {
      const bytes = msgpack.encode(new Uint64BE(n), { codec: int64 })
      assert.equal(bytes[0], 0xcf)
      assert.equal(checkMsgpack(bytes), undefined, n)
    }
    for (const n of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 64, -(2 ** 63), 2 ** 32, -(2 ** 31) - 1, -0, NaN, Infinity]) {
      assert.equal(checkMsgpack(msgpack.encode(n)), undefined, `${n}`)
    }
  })

  it('passes the 32-bit length forms (str 32, bin 32, array 32, map 32)', () => {
    const big = 70_000
    const values: unknown[] = [
      'x'.repeat(big), 'é'.repeat(big), Buffer.alloc(big, 0xc1), new Array(big).fill(0),
      Object.fromEntries(Array.from({ length: big }, (_, i) => [`k${i}`, i]))
    ]
    for (const v of values) {
      const bytes = msgpack.encode(v)
      assert.ok([0xdb, 0xc6, 0xdd, 0xdf].includes(bytes[0]!), show(bytes.subarray(0, 5)))
      assert.equal(checkMsgpack(bytes), undefined)
      assert.match(checkMsgpack(bytes.subarray(0, -1)) ?? '', /^truncated/)
    }
  })

  it('accepts random and mutated bytes exactly when msgpack-lite, with the stricter rules, reads one value filling them', () => {
    fc.assert(fc.property(fc.oneof(noise, mutated, fc.uint8Array({ maxLength: 24 }).map(a => Buffer.from(a))), bytes => {
      const expected = oracle(bytes)
      const reason = checkMsgpack(bytes)
      assert.equal(reason === undefined, expected === undefined, `${show(bytes)}: check says ${reason ?? 'valid'}, oracle says ${expected ?? 'valid'}`)
    }), { numRuns: 20_000 })
  })

  it('refuses only for the documented reasons what msgpack-lite alone reads in full', () => {
    fc.assert(fc.property(fc.oneof(noise, mutated), bytes => {
      const reason = checkMsgpack(bytes)
      if (reason === undefined || oracle(bytes, false) !== undefined) return
      assert.match(reason, /not valid UTF-8|nested deeper|timestamp/, show(bytes))
    }), { numRuns: 5000 })
  })

  it('names a byte offset in every reason', () => {
    fc.assert(fc.property(fc.oneof(noise, mutated), bytes => {
      const reason = checkMsgpack(bytes)
      if (reason !== undefined) assert.match(reason, bytes.length === 0 ? /^empty/ : /byte \d+/)
    }), { numRuns: 5000 })
  })

  it('refuses every truncation of a valid encoding as truncated', () => {
    fc.assert(fc.property(encoded, bytes => {
      for (let k = 0; k < bytes.length; k++) {
        const reason = checkMsgpack(bytes.subarray(0, k))
        assert.match(reason ?? 'valid', k === 0 ? /^empty/ : /^truncated at byte \d+/, `${show(bytes)} cut at ${k}`)
      }
    }), { numRuns: 300 })
  })

  it('refuses 0xc1, the type the spec never uses, wherever it stands', () => {
    assert.equal(checkMsgpack(hex('c1c1')), 'byte 0: 0xc1 is not a msgpack type')
    assert.equal(checkMsgpack(hex('c1')), 'byte 0: 0xc1 is not a msgpack type')
    assert.equal(checkMsgpack(hex('92 01 c1')), 'byte 2: 0xc1 is not a msgpack type')
    assert.equal(checkMsgpack(hex('81 a1 61 c1')), 'byte 3: 0xc1 is not a msgpack type')
    // Inside a str, bin or ext payload it is only a byte.
    assert.equal(checkMsgpack(hex('c4 02 c1 c1')), undefined)
    assert.equal(checkMsgpack(hex('d5 07 c1 c1')), undefined)
  })

  it('refuses a str, bin or ext declaring more bytes than are there', () => {
    assert.equal(checkMsgpack(hex('aa 61 62 63 64')), 'truncated at byte 5: str of 10 bytes at byte 0')
    assert.equal(checkMsgpack(hex('92 a5 61 62')), 'truncated at byte 4: str of 5 bytes at byte 1')
    assert.equal(checkMsgpack(hex('c4 03 00 00')), 'truncated at byte 4: bin of 3 bytes at byte 0')
    assert.equal(checkMsgpack(hex('da 00')), 'truncated at byte 2: str 16 header at byte 0 takes 3 bytes')
    assert.equal(checkMsgpack(hex('c9 00 00 00 01')), 'truncated at byte 5: ext 32 header at byte 0 takes 6 bytes')
    assert.equal(checkMsgpack(hex('d8 01 00')), 'truncated at byte 3: ext of 16 bytes at byte 0')
    assert.equal(checkMsgpack(hex('cb 3f f0')), 'truncated at byte 3: float 64 at byte 0 takes 9 bytes')
    // A count the remaining bytes cannot hold fails at once, before any item is read.
    assert.equal(checkMsgpack(hex('dd ff ff ff ff 00')), 'truncated at byte 6: array of 4294967295 items at byte 0 with 1 byte left')
    assert.equal(checkMsgpack(hex('83 01 02 03 04')), 'truncated at byte 5: map of 3 entries at byte 0 with 4 bytes left')
    assert.equal(checkMsgpack(hex('92 01')), 'truncated at byte 2: array of 2 items at byte 0 with 1 byte left')
    assert.equal(checkMsgpack(hex('82 01 02 03')), 'truncated at byte 4: map of 2 entries at byte 0 with 3 bytes left')
    assert.equal(checkMsgpack(hex('93 a1 61 a1 62')), 'truncated at byte 5: array at byte 0 lacks 1 of its items')
  })

  it('refuses an empty buffer', () => {
    assert.equal(checkMsgpack(Buffer.alloc(0)), 'empty: a msgpack value takes at least 1 byte')
  })

  it('refuses trailing bytes after the value', () => {
    assert.equal(checkMsgpack(hex('01 02')), '1 trailing byte after the value at byte 1')
    assert.equal(checkMsgpack(hex('93 01 02 03 c0 c0 c0')), '3 trailing bytes after the value at byte 4')
    assert.equal(checkMsgpack(Buffer.concat([msgpack.encode({ a: 1 }), msgpack.encode({ a: 2 })])), '4 trailing bytes after the value at byte 4')
  })

  it(`takes ${MAX_DEPTH} nested arrays and maps and refuses one more`, () => {
    assert.equal(checkMsgpack(nested(MAX_DEPTH)), undefined)
    assert.equal(checkMsgpack(nested(MAX_DEPTH - 1, '90')), undefined)
    assert.equal(checkMsgpack(nested(MAX_DEPTH + 1)), `byte ${MAX_DEPTH}: array nested deeper than ${MAX_DEPTH} levels`)
    // The innermost container counts even when empty.
    assert.equal(checkMsgpack(nested(MAX_DEPTH, '80')), `byte ${MAX_DEPTH}: map nested deeper than ${MAX_DEPTH} levels`)
    assert.match(checkMsgpack(nested(100_000)) ?? '', /nested deeper/)
    // Depth is nesting, not count: many siblings at one level are fine, and so are sequences of deep values.
    assert.equal(checkMsgpack(Buffer.concat([hex('dc 0bb8'), ...Array.from({ length: 3000 }, () => hex('91 90'))])), undefined)
    assert.equal(checkMsgpack(Buffer.concat([hex('92'), nested(MAX_DEPTH - 1), nested(MAX_DEPTH - 1)])), undefined)
    // A refusal deep down leaves nothing behind for the next call.
    assert.match(checkMsgpack(nested(500, 'c1')) ?? '', /^byte 500: 0xc1/)
    assert.equal(checkMsgpack(hex('91 01')), undefined)
  })

  it('checks the header and length of every ext form and treats the payload as opaque', () => {
    const ok = ['d4 01 00', 'd5 7f 0000', 'd6 80 00000000', 'd7 05 0000000000000000', 'd8 e0 ' + '00'.repeat(16),
      'c7 00 01', 'c7 03 12 c1c1c1', 'c8 0001 fe 00', 'c9 00000002 00 0000',
      // Timestamps (type -1): 32-bit seconds, 64-bit with 999999999 ns, 96-bit.
      'd6 ff 00000000', 'd7 ff ee6b27fc 00000000', 'c7 0c ff 3b9ac9ff 0000000000000000']
    for (const h of ok) assert.equal(checkMsgpack(hex(h)), undefined, h)
    assert.equal(checkMsgpack(hex('d4 ff 00')), 'byte 0: timestamp (ext type -1) of 1 byte, not 4, 8 or 12')
    assert.equal(checkMsgpack(hex('c7 00 ff')), 'byte 0: timestamp (ext type -1) of 0 bytes, not 4, 8 or 12')
    assert.equal(checkMsgpack(hex('d7 ff ee6b2800 00000000')), 'byte 0: timestamp nanoseconds 1000000000 exceed 999999999')
    assert.equal(checkMsgpack(hex('c7 0c ff 3b9aca00 0000000000000000')), 'byte 0: timestamp nanoseconds 1000000000 exceed 999999999')
    assert.equal(checkMsgpack(hex('d4 01')), 'truncated at byte 2: ext of 1 byte at byte 0')
    assert.equal(checkMsgpack(hex('d4')), 'truncated at byte 1: fixext 1 header at byte 0 takes 2 bytes')
    assert.equal(checkMsgpack(hex('c7 01')), 'truncated at byte 2: ext 8 header at byte 0 takes 3 bytes')
    // What msgpack-lite's preset codec writes as ext: Date, typed arrays, boxed values.
    for (const v of [new Date(0), new Float64Array([1.5]), new Uint8Array([1]), Object(3), Object('s'), /x/g]) {
      const bytes = msgpack.encode(v)
      assert.equal(checkMsgpack(bytes), undefined, show(bytes))
    }
  })

  it('judges every type byte on its own, and each defined type in its shortest complete form', () => {
    // A lone byte is a whole value for fixint, nil, false, true and the empty fixmap, fixarray and fixstr.
    for (let b = 0; b < 256; b++) {
      const whole = b <= 0x80 || b === 0x90 || b === 0xa0 || b === 0xc0 || b === 0xc2 || b === 0xc3 || b >= 0xe0
      const reason = checkMsgpack(Buffer.from([b]))
      assert.equal(reason === undefined, whole, `0x${b.toString(16)}: ${reason ?? 'valid'}`)
      assert.equal(reason === undefined, oracle(Buffer.from([b])) === undefined, `0x${b.toString(16)}`)
      if (!whole) assert.match(reason ?? '', b === 0xc1 ? /not a msgpack type/ : /^truncated at byte 1/)
    }
    // One per type byte 0xc4-0xdf (those with a length or a fixed size), and the largest fixmap, fixarray, fixstr.
    const shortest = [
      'c4 00', 'c5 0000', 'c6 00000000', 'c7 00 01', 'c8 0000 01', 'c9 00000000 01', 'ca 3fc00000',
      'cb 3ff8000000000000', 'cc ff', 'cd ffff', 'ce ffffffff', 'cf ffffffffffffffff', 'd0 80', 'd1 8000',
      'd2 80000000', 'd3 8000000000000000', 'd4 01 00', 'd5 01 0000', 'd6 01 00000000', 'd7 01 0000000000000000',
      'd8 01 ' + '00'.repeat(16), 'd9 00', 'da 0000', 'db 00000000', 'dc 0000', 'dd 00000000', 'de 0000',
      'df 00000000', '81 c0 c0', '9f' + '00'.repeat(15), 'bf' + '61'.repeat(31)
    ]
    assert.deepEqual(shortest.map(h => hex(h)[0]).filter(t => t! >= 0xc4), Array.from({ length: 28 }, (_, i) => 0xc4 + i))
    for (const h of shortest) {
      const bytes = hex(h)
      assert.equal(checkMsgpack(bytes), undefined, h)
      assert.equal(oracle(bytes), undefined, h)
      for (let k = 1; k < bytes.length; k++) assert.match(checkMsgpack(bytes.subarray(0, k)) ?? '', /^truncated/, `${h} cut at ${k}`)
      assert.match(checkMsgpack(Buffer.concat([bytes, hex('00')])) ?? '', /^1 trailing byte/, h)
    }
  })

  it('refuses a str that is not valid UTF-8, in a key or a value, short or long', () => {
    assert.equal(checkMsgpack(hex('a2 fffe')), 'byte 0: str of 2 bytes is not valid UTF-8')
    assert.equal(checkMsgpack(hex('81 a2 c328 01')), 'byte 1: str of 2 bytes is not valid UTF-8') // truncated sequence
    assert.equal(checkMsgpack(hex('a3 eda080')), 'byte 0: str of 3 bytes is not valid UTF-8') // a surrogate
    assert.equal(checkMsgpack(hex('a2 c0af')), 'byte 0: str of 2 bytes is not valid UTF-8') // overlong "/"
    assert.equal(checkMsgpack(hex('a4 f4908080')), 'byte 0: str of 4 bytes is not valid UTF-8') // past U+10FFFF
    const long = Buffer.concat([hex('d9 40'), Buffer.alloc(63, 0x61), hex('ff')])
    assert.equal(checkMsgpack(long), 'byte 0: str of 64 bytes is not valid UTF-8')
    // A character cut by the end of one str is not completed by the next.
    assert.equal(checkMsgpack(hex('92 a1 c3 a1 a9')), 'byte 1: str of 1 byte is not valid UTF-8')
    for (const s of ['é', 'naïve café', '日本語', '😀'.repeat(20), 'a'.repeat(31) + 'é', '\u{10ffff}', '\ufffd']) {
      assert.equal(checkMsgpack(msgpack.encode(s)), undefined, s)
    }
    // The same bytes as bin are fine.
    assert.equal(checkMsgpack(hex('c4 02 fffe')), undefined)
  })

  describe('differs from msgpack-lite, on purpose', () => {
    it('refuses invalid UTF-8, which msgpack-lite decodes to U+FFFD', () => {
      assert.equal(decodeMsgpack(hex('a2 fffe')), '\ufffd\ufffd')
      assert.match(checkMsgpack(hex('a2 fffe')) ?? '', /not valid UTF-8/)
    })

    it('refuses trailing bytes, which msgpack-lite ignores', () => {
      assert.equal(decodeMsgpack(hex('01 c1 c1')), 1)
      assert.match(checkMsgpack(hex('01 c1 c1')) ?? '', /trailing/)
    })

    it(`refuses nesting past ${MAX_DEPTH} levels, which msgpack-lite reads until its stack overflows`, () => {
      assert.doesNotThrow(() => decodeMsgpack(nested(MAX_DEPTH + 1)))
      assert.match(checkMsgpack(nested(MAX_DEPTH + 1)) ?? '', /nested deeper/)
      assert.throws(() => decodeMsgpack(nested(100_000)), RangeError)
    })

    it('refuses a malformed timestamp extension, which msgpack-lite keeps as an opaque extension', () => {
      assert.doesNotThrow(() => decodeMsgpack(hex('d5 ff 0000')))
      assert.match(checkMsgpack(hex('d5 ff 0000')) ?? '', /timestamp/)
    })

    it('passes ext payloads the preset codec cannot turn into JavaScript objects (the spec leaves them opaque)', () => {
      // fixext 1 of type 0x0d is msgpack-lite's Date, whose payload it decodes as a nested value.
      assert.throws(() => decodeMsgpack(hex('d4 0d c1')), /Invalid type/)
      assert.equal(oracle(hex('d4 0d c1')), undefined)
      assert.equal(checkMsgpack(hex('d4 0d c1')), undefined)
    })
  })

  it('is the msgpack validator', () => {
    const validate = validators.msgpack!
    assert.equal(validate(hex('c1c1')), 'byte 0: 0xc1 is not a msgpack type')
    assert.equal(validate(encodeMsgpack({ id: 'o-1', qty: 3 })), undefined)
    assert.match(validate(hex('01 02')) ?? '', /trailing/)
  })
})
