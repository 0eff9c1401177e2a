// snappyjs 0.7.0 ships no types. Only the Buffer overloads concord uses: a Buffer in gives a Buffer out.
declare module 'snappyjs' {
  /** Compresses into one raw snappy block (varint length + elements). */
  export function compress (input: Buffer): Buffer
  /** Decompresses one raw snappy block; throws `Invalid Snappy bitstream` on malformed input. */
  export function uncompress (compressed: Buffer, maxLength?: number): Buffer
}
