/**
 * The partition of an entity: every DC writes its versions of an entity (`42-dc1`, `42-dc2`) to the same
 * partition number, so one partition of each input topic holds every version of its entities, which the
 * processor's per-partition state and any scale-out rely on. The key itself cannot pick it (it carries the
 * DC suffix), so the writer names the partition explicitly:
 *
 *   partition = (murmur2(UTF-8 bytes of the entity id) & 0x7fffffff) % partition count
 *
 * murmur2 is Kafka's (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c): the hash Java's default
 * partitioner, kafkajs' DefaultPartitioner and librdkafka's `murmur2` partitioners apply to a key. A producer
 * in another language gets the same partition by hashing the entity id, not the key, the same way:
 *   Java:        Utils.toPositive(Utils.murmur2(entityId.getBytes(StandardCharsets.UTF_8))) % partitions
 *   librdkafka:  rd_kafka_msg_partitioner_murmur2(...) on the entity id, or produce with key = entity id under
 *                `partitioner=murmur2_random` to read the partition, then write the suffixed key there.
 * Every DC's topic must have the same partition count, and it must not change (as for any keyed topic).
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 of `data`, as a signed 32-bit integer (Java's int). */
export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const whole = length - (length % 4)
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const rest = length % 4
  if (rest === 3) h ^= data[whole + 2]! << 16
  if (rest >= 2) h ^= data[whole + 1]! << 8
  if (rest >= 1) {
    h ^= data[whole]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition, of `partitions`, that every DC writes the versions of `entityId` to. */
export function entityPartition (entityId: string, partitions: number): number {
  return (murmur2(Buffer.from(entityId, 'utf8')) & 0x7fffffff) % partitions
}
