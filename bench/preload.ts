import { prng } from '../lab/workload.ts'
import { entityPartition } from '../src/wire/partitioner.ts'
import { encodeMsgpack } from '../src/codec/msgpack.ts'
import type { OutRecord } from '../src/model/record.ts'
import type { Stamp } from '../src/model/stamp.ts'
import { originHeaders, suffixedKey } from '../src/wire/contract.ts'

/**
 * The e2e benchmark's pre-loaded writes, shared with the Kafka Streams check (bench/kstreams/try.ts), so that
 * both see the same records for a seed.
 */

/**
 * Records per send while pre-loading. kafkajs puts each topic-partition's share in one record batch, which
 * the broker caps at message.max.bytes (1 MiB by default): 10,000 records over 2 topics x 3 partitions
 * of ~300 bytes each stay well under it.
 */
export const PRELOAD_CHUNK = 10_000
const PAD = 'p'.repeat(96)
const STATUSES = ['open', 'paid', 'shipped'] as const

/** A ~200-byte msgpack value. */
export function valueOf (entity: string, dc: string, ts: number, seq: number): Buffer {
  return encodeMsgpack({ id: entity, dc, ts, seq, status: STATUSES[seq % 3], amount: seq % 100_000, currency: 'EUR', customer: `c-${seq % 9973}`, items: 1 + seq % 5, pad: PAD })
}

export interface PreloadOptions {
  readonly records: number
  readonly entities: number
  /** Default 7. */
  readonly seed?: number
}

/** One pre-loaded write: the record as sent, with the entity and stamp it carries (for oracles). */
export interface PreloadWrite {
  /** Its position in the pre-load, 0 first. */
  readonly seq: number
  readonly entity: string
  readonly stamp: Stamp
  readonly record: OutRecord
}

/**
 * The pre-loaded writes, in chunks of PRELOAD_CHUNK: entities drawn uniformly from `entities`, each write by
 * dc1 (on `topic`) or dc2 (on `dc2.<topic>`) at random, so versions of an entity conflict across DCs;
 * timestamps increasing from `baseTs`, partitioned by entity id. Deterministic for a seed.
 */
export function * preloadWrites (o: PreloadOptions, topic: string, partitions: number, baseTs: number): Generator<PreloadWrite[]> {
  const rand = prng(o.seed ?? 7)
  for (let first = 0; first < o.records; first += PRELOAD_CHUNK) {
    const chunk: PreloadWrite[] = []
    for (let seq = first; seq < Math.min(o.records, first + PRELOAD_CHUNK); seq++) {
      const entity = `order-${Math.floor(rand() * o.entities)}`
      const dc = rand() < 0.5 ? 'dc1' : 'dc2'
      const ts = baseTs + seq
      const stamp = { dc, ts, counter: 0, eventId: `${ts.toString(16)}-${dc}-${seq}` }
      chunk.push({
        seq,
        entity,
        stamp,
        record: {
          topic: dc === 'dc1' ? topic : `dc2.${topic}`,
          partition: entityPartition(entity, partitions),
          key: suffixedKey(entity, dc),
          value: valueOf(entity, dc, ts, seq),
          headers: originHeaders(stamp)
        }
      })
    }
    yield chunk
  }
}

/** The pre-loaded records alone, chunk by chunk. */
export function * preloadChunks (o: PreloadOptions, topic: string, partitions: number, baseTs: number): Generator<OutRecord[]> {
  for (const chunk of preloadWrites(o, topic, partitions, baseTs)) yield chunk.map(w => w.record)
}
