import { createHash } from 'node:crypto'
import type { Resolved } from '../merge/policy.ts'
import type { Stamp } from '../model/stamp.ts'

/**
 * The digests `concord verify` compares between two DCs (format `concord-digest-1`). They are computed from
 * what each DC resolves, never from the stored state's bytes: two DCs that absorbed the same writes in
 * different orders hold states that encode differently (siblings sit in arrival order) but resolve alike.
 *
 *   entity digest   SHA-256 (hex) of the JSON text
 *                     [entityId, value (base64), origin, sources, tombstone]
 *                   each stamp as [dc, ts, counter, eventId], origin and tombstone null when absent:
 *                   the merged value's bytes and its provenance, which converged DCs agree on.
 *                   An entity that resolves to no value (deleted) has none: it counts as absent, because
 *                   garbage collection purges deleted entities at different moments in each DC.
 *   bucket          the first byte of SHA-256 of the entity id's UTF-8 bytes (0 to 255). Buckets, not the
 *                   entities' Kafka partitions: an entity's home partition is where its first version
 *                   arrived, which can differ between DCs (keys carry the writer DC's suffix).
 *   bucket digest   SHA-256 (hex) of `<JSON of the entity id> <entity digest>\n` for each entity of the
 *                   bucket, in UTF-8 byte order of the ids.
 *   topic digest    SHA-256 (hex) of the 256 bucket digests, each followed by `\n`.
 */
export const DIGEST_FORMAT = 'concord-digest-1'
export const BUCKETS = 256

const stampArray = (s: Stamp): [string, number, number, string] => [s.dc, s.ts, s.counter, s.eventId]

/** The digest of an entity's resolution; null when it resolves to no value. */
export function entityDigest (entity: string, resolved: Resolved): string | null {
  if (resolved.value === null) return null
  const text = JSON.stringify([
    entity,
    resolved.value.toString('base64'),
    resolved.origin === undefined ? null : stampArray(resolved.origin),
    resolved.sources.map(stampArray),
    resolved.tombstone === undefined ? null : stampArray(resolved.tombstone)
  ])
  return createHash('sha256').update(text).digest('hex')
}

export const bucketOf = (entity: string): number => createHash('sha256').update(entity, 'utf8').digest()[0]!

/** Folds entity digests, fed in UTF-8 byte order of the ids, into bucket digests and the topic digest. */
export class DigestBuilder {
  readonly #buckets = Array.from({ length: BUCKETS }, () => createHash('sha256'))
  #entities = 0

  add (entity: string, digest: string): void {
    this.#buckets[bucketOf(entity)]!.update(`${JSON.stringify(entity)} ${digest}\n`)
    this.#entities++
  }

  finish (): { readonly entities: number, readonly digest: string, readonly buckets: readonly string[] } {
    const buckets = this.#buckets.map(h => h.digest('hex'))
    const digest = createHash('sha256').update(buckets.map(b => `${b}\n`).join('')).digest('hex')
    return { entities: this.#entities, digest, buckets }
  }
}
