import type { Version } from '../model/version.ts'
import type { TSchema } from '../schema/schema.ts'

/**
 * A merge policy turns the siblings of one entity (the latest version from each writer datacenter) into the
 * merged version. It must be a pure function of the sibling set: the result may not depend on the order of the
 * array, on the merging datacenter, or on any clock. Siblings themselves converge because each datacenter keeps
 * the greatest stamp per writer (see siblings.ts), so a pure `merge` makes every datacenter's output converge.
 */
export interface MergePolicy {
  readonly name: string
  /** The options `policy: { type: <name>, ... }` may carry, validated with the rest of the configuration. */
  readonly options: TSchema
  /** True when `merge` reads decoded values; false lets the pipeline skip decoding entirely. */
  readonly decodesValues: boolean
  /** The merged version of a non-empty sibling set. */
  merge (siblings: readonly Version[]): Version
}
