import { isUtf8 } from 'node:buffer'

/**
 * A structural check of a MessagePack value (https://github.com/msgpack/msgpack/blob/master/spec.md) that
 * builds nothing: it walks the bytes once and returns undefined when they hold a valid value, else a short
 * reason naming a byte offset (the one allocation: a subarray view for `isUtf8` when a str is not ASCII). It
 * is how `validateValues` checks msgpack values that nothing else decodes, so it must stay cheap (a fraction
 * of a µs for a 160-byte map: bench/validate.ts); decoding them would build every object.
 *
 * Checked:
 * - exactly one complete value fills the buffer: an empty buffer, a truncated value or trailing bytes are
 *   invalid (msgpack-lite's `decode` reads the first value and ignores the rest);
 * - every type byte is one the spec defines (0xc1 is "never used");
 * - every length (str, bin, ext, array, map) fits in what is left of the buffer, headers included; a
 *   container may not declare more items than bytes remain, since each item takes at least one byte;
 * - nesting: at most MAX_DEPTH arrays and maps inside one another (a recursive decoder, as msgpack-lite's is,
 *   overflows its stack somewhere past a few thousand levels; the scan itself is iterative and would not);
 * - str payloads are valid UTF-8 (Node's `isUtf8`: no overlong forms, surrogates or code points past
 *   U+10FFFF). msgpack-lite accepts invalid UTF-8 and decodes it to U+FFFD, so a consumer would see a string
 *   other than the one written: rejecting it is the safer choice;
 * - the spec's timestamp extension (type -1): a payload of 4, 8 or 12 bytes with nanoseconds below 10^9, as
 *   spec-following decoders require (msgpack-lite takes any payload as an opaque extension).
 *
 * Not checked:
 * - the payload of any other extension type, which the spec leaves to the application. msgpack-lite's preset
 *   codec, which `decodeMsgpack` uses, gives types 0x01-0x1d a JavaScript meaning (Error, RegExp, Date, typed
 *   arrays: several decode the payload as a nested value), so it can refuse a value this check passes, such
 *   as a Date (fixext 1, type 0x0d) whose payload byte is 0xc1; wherever concord decodes, that refusal
 *   dead-letters the record as well;
 * - what the bytes mean: map keys of any type, duplicate keys, non-minimal encodings (a 5 written as uint 32)
 *   and NaN floats are all valid MessagePack.
 */

/** Arrays and maps nested deeper than this are refused. */
export const MAX_DEPTH = 1000

// The walk's stack, made once: for each open container, the items its parent still had to read and the
// parent's offset. Nothing the walk calls can re-enter it, so one stack serves every call.
const stackPending = new Float64Array(MAX_DEPTH)
const stackOpen = new Float64Array(MAX_DEPTH)

// What each type byte introduces, decided once in three tables indexed by the byte:
// KIND: the kind of value; LENGTH_BYTES: the size of the big-endian length that follows (0 for the fix forms);
// FIX: for a scalar its total bytes, for a fix form its payload bytes or items.
const INVALID = 0
const SCALAR = 1
const STR = 2
const BIN = 3
const EXT = 4
const ARRAY = 5
const MAP = 6
const KIND_NAMES = ['', '', 'str', 'bin', 'ext', 'array', 'map']
const KIND = new Uint8Array(256)
const LENGTH_BYTES = new Uint8Array(256)
const FIX = new Uint8Array(256)
const TYPE_NAMES: Record<number, string> = {}

function define (first: number, last: number, kind: number, lengthBytes: number, fix: (type: number) => number, name?: string): void {
  for (let type = first; type <= last; type++) {
    KIND[type] = kind
    LENGTH_BYTES[type] = lengthBytes
    FIX[type] = fix(type)
    if (name !== undefined) TYPE_NAMES[type] = name
  }
}
define(0x00, 0x7f, SCALAR, 0, () => 1) // positive fixint
define(0x80, 0x8f, MAP, 0, t => t & 0x0f)
define(0x90, 0x9f, ARRAY, 0, t => t & 0x0f)
define(0xa0, 0xbf, STR, 0, t => t & 0x1f)
define(0xc0, 0xc0, SCALAR, 0, () => 1) // nil
// 0xc1 stays INVALID: the spec's "(never used)".
define(0xc2, 0xc3, SCALAR, 0, () => 1) // false, true
for (const [type, kind, lengthBytes, name] of [
  [0xc4, BIN, 1, 'bin 8'], [0xc5, BIN, 2, 'bin 16'], [0xc6, BIN, 4, 'bin 32'],
  [0xc7, EXT, 1, 'ext 8'], [0xc8, EXT, 2, 'ext 16'], [0xc9, EXT, 4, 'ext 32'],
  [0xd9, STR, 1, 'str 8'], [0xda, STR, 2, 'str 16'], [0xdb, STR, 4, 'str 32'],
  [0xdc, ARRAY, 2, 'array 16'], [0xdd, ARRAY, 4, 'array 32'], [0xde, MAP, 2, 'map 16'], [0xdf, MAP, 4, 'map 32']
] as const) define(type, type, kind, lengthBytes, () => 0, name)
for (const [type, bytes, name] of [
  [0xca, 5, 'float 32'], [0xcb, 9, 'float 64'],
  [0xcc, 2, 'uint 8'], [0xcd, 3, 'uint 16'], [0xce, 5, 'uint 32'], [0xcf, 9, 'uint 64'],
  [0xd0, 2, 'int 8'], [0xd1, 3, 'int 16'], [0xd2, 5, 'int 32'], [0xd3, 9, 'int 64']
] as const) define(type, type, SCALAR, 0, () => bytes, name)
for (let i = 0; i < 5; i++) define(0xd4 + i, 0xd4 + i, EXT, 0, () => 1 << i, `fixext ${1 << i}`)
define(0xe0, 0xff, SCALAR, 0, () => 1) // negative fixint

// Up to this many bytes, a JavaScript loop over an ASCII str is faster than a subarray and a native call.
const ASCII_SCAN_LIMIT = 32

export function checkMsgpack (bytes: Buffer): string | undefined {
  const end = bytes.length
  if (end === 0) return 'empty: a msgpack value takes at least 1 byte'
  let off = 0
  // Items still to read in the innermost open container (the root holds the one value).
  let pending = 1
  // Offset of the innermost open container; -1 for the root.
  let open = -1
  // Containers open around the next item.
  let depth = 0

  for (;;) {
    while (pending === 0) {
      if (depth === 0) {
        const extra = end - off
        return extra === 0 ? undefined : `${count(extra, 'trailing byte')} after the value at byte ${off}`
      }
      depth--
      pending = stackPending[depth]!
      open = stackOpen[depth]!
    }
    if (off === end) return missing(bytes, end, open, pending)

    const at = off
    const type = bytes[at]!
    const kind = KIND[type]!
    pending--
    if (kind === SCALAR) {
      off = at + FIX[type]!
      if (off > end) return `truncated at byte ${end}: ${TYPE_NAMES[type]} at byte ${at} takes ${FIX[type]} bytes`
      continue
    }
    if (kind === INVALID) return `byte ${at}: 0x${type.toString(16)} is not a msgpack type`

    // A str, bin, ext, array or map: its header (type byte, length, ext type), then its payload or items.
    const lengthBytes = LENGTH_BYTES[type]!
    const head = 1 + lengthBytes + (kind === EXT ? 1 : 0)
    if (head > end - at) return `truncated at byte ${end}: ${TYPE_NAMES[type]} header at byte ${at} takes ${head} bytes`
    const size = lengthBytes === 0
      ? FIX[type]!
      : lengthBytes === 1 ? bytes[at + 1]! : lengthBytes === 2 ? bytes.readUInt16BE(at + 1) : bytes.readUInt32BE(at + 1)
    const left = end - at - head
    if (kind === ARRAY || kind === MAP) {
      if (depth === MAX_DEPTH) return `byte ${at}: ${KIND_NAMES[kind]} nested deeper than ${MAX_DEPTH} levels`
      // Each item takes at least a byte: refusing a count the bytes cannot hold also bounds `pending`.
      const items = kind === MAP ? 2 * size : size
      if (items > left) {
        return `truncated at byte ${end}: ${KIND_NAMES[kind]} of ${count(size, kind === MAP ? 'entry' : 'item')} at byte ${at} with ${count(left, 'byte')} left`
      }
      off = at + head
      if (items > 0) {
        stackPending[depth] = pending
        stackOpen[depth] = open
        depth++
        pending = items
        open = at
      }
      continue
    }
    if (size > left) return `truncated at byte ${end}: ${KIND_NAMES[kind]} of ${count(size, 'byte')} at byte ${at}`
    off = at + head + size
    if (kind === STR && !utf8(bytes, at + head, off)) return `byte ${at}: str of ${count(size, 'byte')} is not valid UTF-8`
    if (kind === EXT && bytes[at + head - 1] === 0xff) {
      const reason = timestamp(bytes, at + head, size)
      if (reason !== undefined) return `byte ${at}: ${reason}`
    }
  }
}

function utf8 (bytes: Buffer, from: number, to: number): boolean {
  if (to - from > ASCII_SCAN_LIMIT) return isUtf8(bytes.subarray(from, to))
  for (let i = from; i < to; i++) {
    // All before i is ASCII, so i starts a character and the rest can be checked alone.
    if (bytes[i]! >= 0x80) return isUtf8(bytes.subarray(i, to))
  }
  return true
}

/** The spec's timestamp 32 (seconds), 64 (30-bit nanoseconds, 34-bit seconds) and 96 (nanoseconds, int64 seconds). */
function timestamp (bytes: Buffer, from: number, size: number): string | undefined {
  if (size !== 4 && size !== 8 && size !== 12) return `timestamp (ext type -1) of ${count(size, 'byte')}, not 4, 8 or 12`
  const nanos = size === 8 ? bytes.readUInt32BE(from) >>> 2 : size === 12 ? bytes.readUInt32BE(from) : 0
  return nanos > 999_999_999 ? `timestamp nanoseconds ${nanos} exceed 999999999` : undefined
}

function missing (bytes: Buffer, end: number, open: number, pending: number): string {
  const isMap = KIND[bytes[open]!] === MAP
  return `truncated at byte ${end}: ${isMap ? 'map' : 'array'} at byte ${open} lacks ${pending} of its ${isMap ? 'keys and values' : 'items'}`
}

/** `1 byte`, `2 bytes`, `3 entries`: reasons are read by people. */
function count (n: number, unit: string): string {
  return n === 1 ? `1 ${unit}` : unit.endsWith('y') ? `${n} ${unit.slice(0, -1)}ies` : `${n} ${unit}s`
}
