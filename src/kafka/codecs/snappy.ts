import snappyjs from 'snappyjs'
import { CompressionError } from '../../errors.ts'

/*
 * Kafka snappy payloads come in two shapes; decompress accepts both.
 *
 * Raw snappy block (librdkafka, kafkajs-snappy, this codec):
 *   varint32 uncompressed length, then literal/copy elements.
 *
 * Xerial framing (Java producers, snappy-java SnappyOutputStream), all integers big-endian:
 *   0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00    magic, 8 bytes
 *   int32 version                        1
 *   int32 minimum compatible version     1
 *   repeated until end of input:
 *     int32 compressed length n
 *     n bytes: one raw snappy block (its own varint length inside)
 *
 * The two cannot be confused: read as a raw block, the magic would be a varint followed by a copy element,
 * and a valid raw block starts with a literal because there is nothing yet to copy from.
 *
 * compress writes one raw block, as librdkafka does. Java consumers and the broker read it: snappy-java's
 * SnappyInputStream falls back to a raw Snappy.uncompress when the magic is absent (checked against
 * kafka-clients 3.9.2 with snappy-java 1.1.10.5), so Xerial framing is not needed on the way out.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16

export function compress (input: Buffer): Buffer {
  return snappyjs.compress(input)
}

export function decompress (input: Buffer): Buffer {
  if (isXerial(input)) return decompressXerial(input)
  return uncompressBlock(input)
}

function isXerial (input: Buffer): boolean {
  return input.length >= XERIAL_HEADER_BYTES && input.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

function decompressXerial (input: Buffer): Buffer {
  const blocks: Buffer[] = []
  let at = XERIAL_HEADER_BYTES
  while (at < input.length) {
    if (at + 4 > input.length) throw new CompressionError(`snappy: truncated Xerial block length at byte ${at}`)
    const length = input.readInt32BE(at)
    at += 4
    if (length < 0 || at + length > input.length) {
      throw new CompressionError(`snappy: Xerial block of ${length} bytes at byte ${at} overruns the ${input.length}-byte input`)
    }
    blocks.push(uncompressBlock(input.subarray(at, at + length)))
    at += length
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks)
}

function uncompressBlock (block: Buffer): Buffer {
  try {
    return snappyjs.uncompress(block)
  } catch (err) {
    throw new CompressionError('snappy: invalid snappy block', { cause: err })
  }
}
