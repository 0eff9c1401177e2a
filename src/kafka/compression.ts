import kafkajs from './kafkajs.ts'
import * as lz4 from './codecs/lz4.ts'
import * as snappy from './codecs/snappy.ts'
import * as zstd from './codecs/zstd.ts'

const { CompressionCodecs, CompressionTypes } = kafkajs

/** A synchronous, pure codec from ./codecs. */
interface BufferCodec {
  compress (input: Buffer): Buffer
  decompress (input: Buffer): Buffer
}

/** The shape kafkajs calls: compress gets its Encoder (bytes in `.buffer`), decompress the raw records bytes. */
interface KafkajsCodec {
  compress (encoder: { readonly buffer: Buffer }): Promise<Buffer>
  decompress (buffer: Buffer): Promise<Buffer>
}

// kafkajs looks a codec up through a factory on every batch; one instance per codec serves them all.
function toKafkajs (codec: BufferCodec): () => KafkajsCodec {
  const instance: KafkajsCodec = {
    async compress (encoder) { return codec.compress(encoder.buffer) },
    async decompress (buffer) { return codec.decompress(buffer) }
  }
  return () => instance
}

const factories = {
  snappy: toKafkajs(snappy),
  lz4: toKafkajs(lz4),
  zstd: toKafkajs(zstd)
}

/**
 * Teaches kafkajs, which ships only gzip, to read and write snappy, lz4 and zstd record batches, as Java producers
 * and librdkafka write them. kafkajs keeps codecs in a process-wide table; calling this again changes nothing.
 */
export function registerCodecs (): void {
  CompressionCodecs[CompressionTypes.Snappy] = factories.snappy
  CompressionCodecs[CompressionTypes.LZ4] = factories.lz4
  CompressionCodecs[CompressionTypes.ZSTD] = factories.zstd
}
