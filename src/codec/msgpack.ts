import msgpack from 'msgpack-lite'

/** The only importer of msgpack-lite. Decoding is needed only by policies and settings that read values. */
export function decodeMsgpack (bytes: Buffer): unknown {
  return msgpack.decode(bytes)
}

export function encodeMsgpack (value: unknown): Buffer {
  return msgpack.encode(value)
}
