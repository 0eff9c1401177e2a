import type { Stamp } from './stamp.ts'

/**
 * One write to one entity, as a datacenter made it. `value` holds the record's value bytes unchanged;
 * null is a delete (a Kafka tombstone), merged like any other write.
 */
export interface Version {
  readonly stamp: Stamp
  readonly value: Buffer | null
}
