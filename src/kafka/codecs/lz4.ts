import lz4js from 'lz4js'
import xxh32 from 'lz4js/xxh32.js'
import { CompressionError } from '../../errors.ts'

/*
 * A Kafka LZ4 batch (attributes codec 3) is one LZ4 frame, all integers little-endian:
 *   uint32 magic 0x184D2204
 *   FLG    bits 7-6 version = 01, 5 block independence, 4 block checksum, 3 content size,
 *          2 content checksum, 1 reserved, 0 dictionary id
 *   BD     bits 6-4 block maximum size id: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB (1 << (2 * id + 8))
 *   uint64 content size                              if FLG bit 3
 *   uint32 dictionary id                             if FLG bit 0 (never used by Kafka; rejected)
 *   HC     (xxh32(FLG .. last descriptor byte, seed 0) >> 8) & 0xFF
 *   blocks, each:
 *     uint32 size; bit 31 set = data stored uncompressed, else an LZ4 block; size <= block maximum size
 *     size bytes of data
 *     uint32 xxh32 of the data                       if FLG bit 4
 *   uint32 0, the end mark
 *   uint32 xxh32 of the content                      if FLG bit 2
 *
 * Reading: Java and librdkafka write independent 64 KiB blocks with no checksums and no content size, but any
 * combination of flags is accepted. Linked blocks decode too, since every block lands in one output buffer. HC and
 * the checksums are not verified: magic 0 message sets carry an HC computed over the wrong bytes (KAFKA-3160,
 * fixed from magic 1 by KIP-57), and the batch's CRC already covers the compressed bytes.
 *
 * Writing: FLG = 0x60 (version 01, independent blocks), BD = 0x40 (64 KiB), like Java's Lz4BlockOutputStream.
 * lz4js' own frame writer cannot be used: it leaves the independence bit clear, which Java's reader, and so the
 * broker, rejects ("Dependent block stream is unsupported"), and it writes 4 MiB blocks.
 *
 * Blocks hold at most 64 KiB - 2 bytes. LZ4 requires the last match of a block to start at least 12 bytes before
 * the end of the decoder's output window, which is the block maximum size; lz4js' compressBlock only keeps 10 bytes
 * clear, so a full 64 KiB block can end in a match that liblz4 and lz4-java refuse. Two bytes short never can.
 */
const MAGIC = 0x184d2204
const FLG_VERSION_MASK = 0xc0
const FLG_VERSION_01 = 0x40
const FLG_BLOCK_INDEPENDENCE = 0x20
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_DICTIONARY_ID = 0x01
const BLOCK_STORED = 0x80000000

const WRITE_FLG = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENCE
const WRITE_BD = 4 << 4
const WRITE_BLOCK_MAX = 1 << 16
const WRITE_BLOCK_DATA = WRITE_BLOCK_MAX - 2
const HEADER_BYTES = 7

// Reused by every call: compress is synchronous, so no two calls share them at once.
const hashTable = new Uint32Array(1 << 16)
const scratch = new Uint8Array(lz4js.compressBound(WRITE_BLOCK_DATA))

export function compress (input: Buffer): Buffer {
  const blockCount = Math.ceil(input.length / WRITE_BLOCK_DATA)
  // A block is stored uncompressed whenever compression does not shrink it, so this bound always holds.
  const out = Buffer.allocUnsafe(HEADER_BYTES + input.length + 4 * blockCount + 4)
  out.writeUInt32LE(MAGIC, 0)
  out[4] = WRITE_FLG
  out[5] = WRITE_BD
  out[6] = (xxh32.hash(0, out, 4, 2) >> 8) & 0xff
  let at = HEADER_BYTES
  for (let start = 0; start < input.length; start += WRITE_BLOCK_DATA) {
    const block = input.subarray(start, start + WRITE_BLOCK_DATA)
    // A cleared table keeps matches inside this block: that is what makes the blocks independent.
    hashTable.fill(0)
    const size = lz4js.compressBlock(block, scratch, 0, block.length, hashTable)
    if (size > 0 && size < block.length) {
      out.writeUInt32LE(size, at)
      out.set(scratch.subarray(0, size), at + 4)
      at += 4 + size
    } else {
      out.writeUInt32LE(BLOCK_STORED + block.length, at)
      out.set(block, at + 4)
      at += 4 + block.length
    }
  }
  out.writeUInt32LE(0, at)
  return out.subarray(0, at + 4)
}

interface Frame {
  readonly blockMax: number
  readonly contentSize: number | undefined
  readonly blocks: readonly { readonly at: number, readonly size: number, readonly stored: boolean }[]
  /** Most bytes the blocks can decode to: a stored block its size, an LZ4 block at most 255 bytes per byte. */
  readonly bound: number
}

export function decompress (input: Buffer): Buffer {
  const { blockMax, contentSize, blocks, bound } = readFrame(input)
  // Zeroed, not allocUnsafe: a malformed match offset must not copy stale memory into the output.
  const out = Buffer.alloc(contentSize ?? bound)
  let written = 0
  for (const block of blocks) {
    const before = written
    if (block.stored) {
      input.copy(out, written, block.at, block.at + block.size)
      written += block.size
    } else {
      written = lz4js.decompressBlock(input, out, block.at, block.size, written)
    }
    if (written - before > blockMax || written > out.length) {
      throw new CompressionError(`lz4: block at byte ${block.at} decodes past its ${blockMax}-byte maximum or the content size`)
    }
  }
  if (contentSize !== undefined && written !== contentSize) {
    throw new CompressionError(`lz4: decoded ${written} bytes, the frame declares ${contentSize}`)
  }
  return written === out.length ? out : out.subarray(0, written)
}

/** Checks the descriptor and finds the blocks, so decoding can write into one buffer. */
function readFrame (input: Buffer): Frame {
  if (input.length < HEADER_BYTES || input.readUInt32LE(0) !== MAGIC) throw new CompressionError('lz4: not an LZ4 frame (bad magic number)')
  const flg = input.readUInt8(4)
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) throw new CompressionError(`lz4: unsupported frame version in FLG 0x${flg.toString(16)}`)
  if ((flg & FLG_DICTIONARY_ID) !== 0) throw new CompressionError('lz4: frames that need a dictionary are not supported')
  const sizeId = (input.readUInt8(5) >> 4) & 0x7
  if (sizeId < 4) throw new CompressionError(`lz4: invalid block maximum size id ${sizeId}`)
  const blockMax = 1 << (2 * sizeId + 8)
  let at = 6
  let contentSize: number | undefined
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (input.length < at + 9) throw new CompressionError('lz4: truncated frame descriptor')
    contentSize = Number(input.readBigUInt64LE(at))
    at += 8
  }
  at += 1 // HC, see above

  const checksumBytes = (flg & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0
  const blocks = []
  let bound = 0
  for (;;) {
    if (at + 4 > input.length) throw new CompressionError(`lz4: frame ends at byte ${input.length} without an end mark`)
    const word = input.readUInt32LE(at)
    at += 4
    if (word === 0) break
    const stored = word >= BLOCK_STORED
    const size = stored ? word - BLOCK_STORED : word
    if (size > blockMax || at + size + checksumBytes > input.length) {
      throw new CompressionError(`lz4: block of ${size} bytes at byte ${at} exceeds the ${blockMax}-byte maximum or the input`)
    }
    blocks.push({ at, size, stored })
    bound += stored ? size : Math.min(blockMax, 255 * size)
    at += size + checksumBytes
  }
  if (contentSize !== undefined && contentSize > bound) {
    throw new CompressionError(`lz4: content size ${contentSize} exceeds what the blocks can hold (${bound})`)
  }
  return { blockMax, contentSize, blocks, bound }
}
