import type { StateStore, Watermark } from '../store/state-store.ts'

/**
 * Per topic, the greatest write time seen from each writer DC on each input partition. The records of one
 * DC reach every DC in the same order per partition (MM2 keeps it), so at a given record every DC holds the
 * same watermark for that DC and partition: decisions taken against it agree everywhere.
 *
 * Two decisions use it (README, "Deletes and garbage collection"):
 *   - a write more than `gcGraceMs` behind its own DC's watermark on its partition is too late: dead-lettered,
 *     in every DC alike, as it might refer to an entity purged already;
 *   - a deleted entity is purged once its delete is `gcGraceMs` behind the lowest watermark of all DCs on all
 *     partitions: from then on every write accepted is newer than the delete, so purging changes no result.
 */
export class Watermarks {
  readonly #held = new Map<string, number>()
  readonly #moved = new Map<string, Watermark>()

  constructor (initial: readonly Watermark[]) {
    for (const w of initial) this.#held.set(key(w.dc, w.partition), w.ts)
  }

  get (dc: string, partition: number): number | undefined {
    const k = key(dc, partition)
    return this.#moved.get(k)?.ts ?? this.#held.get(k)
  }

  /** Raises a watermark (in the batch in progress until `keep`). */
  see (dc: string, partition: number, ts: number): void {
    const held = this.get(dc, partition)
    if (held === undefined || ts > held) this.#moved.set(key(dc, partition), { dc, partition, ts })
  }

  /** The watermarks the batch in progress moved. */
  moved (): Watermark[] {
    return [...this.#moved.values()]
  }

  /** The batch committed: its watermarks hold. */
  keep (): void {
    for (const [k, w] of this.#moved) this.#held.set(k, w.ts)
    this.#moved.clear()
  }

  /** The batch rolled back: forget what it moved. */
  drop (): void {
    this.#moved.clear()
  }

  /** The lowest watermark over every DC and partition, or undefined while one of them has none. */
  lowest (dcs: Iterable<string>, partitions: number): number | undefined {
    if (partitions <= 0) return undefined
    let low = Infinity
    for (const dc of dcs) {
      for (let p = 0; p < partitions; p++) {
        const w = this.get(dc, p)
        if (w === undefined) return undefined
        if (w < low) low = w
      }
    }
    return low
  }
}

const key = (dc: string, partition: number): string => `${partition}:${dc}`

/** Loads a topic's watermarks once. */
export const loadWatermarks = (store: StateStore, topicId: number): Watermarks => new Watermarks(store.watermarks(topicId))
