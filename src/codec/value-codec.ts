import type { ValueCodec } from '../config/types.ts'
import { decodeMsgpack } from './msgpack.ts'

/** Decodes a value to read fields from it; throws on undecodable bytes (the caller dead-letters the record). */
export type Decoder = (bytes: Buffer) => unknown

export const decoders: Readonly<Record<ValueCodec, Decoder>> = {
  msgpack: decodeMsgpack,
  json: bytes => JSON.parse(bytes.toString('utf8')) as unknown,
  raw: bytes => bytes
}
