// lz4js 0.2.0 ships no types. Only the block-level functions concord builds its frames from, on Uint8Arrays.
declare module 'lz4js' {
  /** Upper bound on the size of one compressed block of n bytes. */
  export function compressBound (n: number): number
  /**
   * Compresses src[sIndex, sIndex + sLength) into dst from index 0; returns the bytes written, or 0 when nothing
   * matched. hashTable has 65536 entries holding position + 1 (0 = empty) and is kept between calls by design.
   */
  export function compressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number
  /** Decodes sLength block bytes from src[sIndex] into dst from dIndex; returns the new dIndex. Does not bound-check. */
  export function decompressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of src[index, index + length). */
  export function hash (seed: number, src: Uint8Array, index: number, length: number): number
}
