import type { Merger, Resolved, ValueCodec } from '../merge/policy.ts'
import { stampView, valueView, type StampView, type StateDescription, type ValueView } from '../merge/state-description.ts'
import type { EntityRow } from '../store/state-store.ts'
import { entityDigest } from './digest.ts'

/**
 * One entity as the state query shows it (`GET /v1/state/<topic>/<entityId>`, `concord inspect`): the merged
 * value and its provenance, as every DC with the same state resolves them, and the policy's state per
 * writer DC.
 */
export interface EntityView {
  readonly topic: string
  readonly entity: string
  /** The topic's merge policy and value codec, as configured. */
  readonly policy: string
  readonly codec: string
  /** The entity's home partition in this DC: where its first version arrived (it can differ between DCs). */
  readonly partition: number
  /** True when the entity resolves to no value (deleted by a delete, or a custom policy resolved null). */
  readonly deleted: boolean
  /** The merged value: JSON when the codec decodes it to data JSON holds exactly, else base64; null when deleted. */
  readonly value: ValueView | null
  /** The write whose bytes the value is, unchanged (lww, max, min, dc-priority); null for a built value. */
  readonly origin: StampView | null
  /** Every write the value is made of, in stamp order. */
  readonly sources: readonly StampView[]
  /** The delete the entity is deleted by, or null. */
  readonly tombstone: StampView | null
  /** The entity's digest, as `concord verify` compares it between DCs; null when deleted (deleted counts as absent). */
  readonly digest: string | null
  /** The policy's state: each writer DC's part, with its stamps and event ids, deleted or not. */
  readonly state: StateDescription
  /** Set when the policy could not resolve the stored state (a custom module that changed): why. */
  readonly error?: string
}

export interface ViewedTopic {
  readonly name: string
  readonly merger: Merger
  readonly codec: ValueCodec
}

/** The view of one stored entity. Pure: a function of the stored row and the topic's bound policy. */
export function entityView (topic: ViewedTopic, entity: string, row: EntityRow): EntityView {
  const { merger, codec } = topic
  const state = merger.decodeState(row.state)
  const base = { topic: topic.name, entity, policy: merger.policy, codec: codec.name, partition: row.partition }
  let resolved: Resolved
  try {
    resolved = merger.resolve(state)
  } catch (err) {
    return {
      ...base,
      deleted: false,
      value: null,
      origin: null,
      sources: [],
      tombstone: null,
      digest: null,
      state: merger.describeState(state),
      error: (err as Error).message
    }
  }
  return {
    ...base,
    deleted: resolved.value === null,
    value: resolved.value === null ? null : valueView(resolved.value, codec),
    origin: resolved.origin === undefined ? null : stampView(resolved.origin),
    sources: resolved.sources.map(stampView),
    tombstone: resolved.tombstone === undefined ? null : stampView(resolved.tombstone),
    digest: entityDigest(entity, resolved),
    state: merger.describeState(state)
  }
}
