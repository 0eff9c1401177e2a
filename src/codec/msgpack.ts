import msgpack from 'msgpack-lite'
import { Int64BE } from 'int64-buffer'

/** The only importer of msgpack-lite (and of int64-buffer, which it uses for 64-bit integers). */
export function decodeMsgpack (bytes: Buffer): unknown {
  return msgpack.decode(bytes)
}

const int64 = msgpack.createCodec({ int64: true })

/** Encodes a value; a bigint (a sum beyond 2^53) becomes a msgpack int64. */
export function encodeMsgpack (value: unknown): Buffer {
  return hasBigint(value) ? msgpack.encode(withInt64(value), { codec: int64 }) : msgpack.encode(value)
}

function hasBigint (v: unknown): boolean {
  if (typeof v === 'bigint') return true
  if (Array.isArray(v)) return v.some(hasBigint)
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.values(v).some(hasBigint)
  return false
}

function withInt64 (v: unknown): unknown {
  if (typeof v === 'bigint') return new Int64BE(v.toString())
  if (Array.isArray(v)) return v.map(withInt64)
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withInt64(x)]))
  }
  return v
}
