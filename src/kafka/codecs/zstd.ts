import { zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { CompressionError } from '../../errors.ts'

/*
 * Kafka carries one zstd frame (RFC 8878): magic 0x28B52FFD, frame header, blocks, optional checksum. librdkafka
 * and Java (zstd-jni streams) write frames without the content size field; Node's decompressor streams, so it
 * needs no declared size. Compression level: zstd's default, 3, as Java's producer uses.
 */
export function compress (input: Buffer): Buffer {
  return zstdCompressSync(input)
}

export function decompress (input: Buffer): Buffer {
  try {
    return zstdDecompressSync(input)
  } catch (err) {
    throw new CompressionError('zstd: invalid zstd frame', { cause: err })
  }
}
