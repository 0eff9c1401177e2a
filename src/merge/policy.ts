import type { Stamp } from '../model/stamp.ts'
import type { TSchema } from '../schema/schema.ts'
import type { StateDescription } from './state-description.ts'

/**
 * A merge policy owns the state of one entity: it absorbs one valid write at a time into the state and
 * resolves the state into the merged value. For every policy:
 *   - absorb is a join on a semilattice: any delivery order, duplication or batch split of the same writes
 *     gives the same state (up to resolution) in every DC;
 *   - resolve is a pure function of the state: no clock, no local DC, no arrival order;
 *   - the resolved bytes are the same in every DC for the same state (synthesised values are encoded with
 *     the topic's codec from a canonical form).
 * The engine, the store and the output know nothing of any one policy: they hold the state as the bytes
 * `encodeState` gives, and emit what `resolve` returns.
 */

/** One valid write to one entity, as the engine hands it to a policy. */
export interface Write {
  readonly stamp: Stamp
  /** The value bytes as received; null for a delete (a Kafka tombstone). */
  readonly value: Buffer | null
  /** The decoded value when the policy decodes values and the write is no delete; else undefined. */
  readonly decoded?: unknown
}

/** Two live writes from different DCs, made within the conflict window of each other, and the one kept. */
export interface Conflict {
  readonly winner: Write
  readonly loser: Write
  /** For field-level policies: the field the two writes disagree on (the writes then carry that field's value). */
  readonly field?: string
}

export type Absorbed<S> =
  | { readonly outcome: 'applied', readonly state: S, readonly conflicts: readonly Conflict[] }
  | { readonly outcome: 'stale' | 'duplicate' }
  /** The write cannot take part in this policy (a count that is no integer): it is dead-lettered with the reason. */
  | { readonly outcome: 'rejected', readonly reason: string }

/** The merged value of an entity and where it comes from. */
export interface Resolved {
  /** The merged value, encoded with the topic's codec; null when the entity is deleted. */
  readonly value: Buffer | null
  /** Set when the value is one write's bytes unchanged (or a delete's null): that write's stamp. */
  readonly origin: Stamp | undefined
  /** Every write the value is made of (for a single origin, that one), in stamp order. */
  readonly sources: readonly Stamp[]
  /** Set when the entity is deleted by a delete: its stamp. Garbage collection purges by its time. */
  readonly tombstone: Stamp | undefined
}

/** A policy bound to one topic's options: what the engine calls per write and per changed entity. */
export interface Merger<S = unknown> {
  /** The policy's name, as configured. */
  readonly policy: string
  /** The layout of the encoded state; policies sharing a layout can replace each other on a store with state. */
  readonly stateFormat: string
  /** True when `absorb` reads `Write.decoded`; false lets the pipeline skip decoding. */
  readonly decodesValues: boolean
  /** The state after absorbing `write` into `state` (undefined: the entity has no state yet). */
  absorb (state: S | undefined, write: Write): Absorbed<S>
  resolve (state: S): Resolved
  encodeState (state: S): Buffer
  decodeState (bytes: Buffer): S
  /**
   * The state as plain JSON data for the state query (`GET /v1/state`, `concord inspect`): each writer
   * DC's part with its stamps and event ids, deleted or not. Pure, and alike in every DC for the same state.
   */
  describeState (state: S): StateDescription
}

/** How a topic deletes: `lww`, a delete is a write like any other; `delete-wins`, a delete also beats writes made within the conflict window after it. */
export type DeleteRule = 'lww' | 'delete-wins'

/** Encodes and decodes values of the topic's codec (msgpack, json), for policies that build values. */
export interface ValueCodec {
  readonly name: string
  encode (value: unknown): Buffer
  decode (bytes: Buffer): unknown
}

/** What a policy is bound with, besides its own options. */
export interface BindContext {
  /** Every DC (this one and its peers). */
  readonly dcs: readonly string[]
  readonly deleteRule: DeleteRule
  /** Live writes from different DCs closer in time than this (ms) are in conflict. */
  readonly conflictWindowMs: number
  readonly codec: ValueCodec
  /** The configuration path of the policy (`topics[0].policy`), for error messages. */
  readonly path: string
  /** User modules loaded at start-up, by the path given in the configuration (custom policies). */
  readonly modules: ReadonlyMap<string, unknown>
}

export interface MergePolicy {
  readonly name: string
  /** The options `policy: { type: <name>, ... }` may carry, validated with the rest of the configuration. */
  readonly options: TSchema
  /** Binds the policy to a topic's options; throws ConfigError naming the key for options that cannot work. */
  bind (options: Readonly<Record<string, unknown>>, context: BindContext): Merger
}
