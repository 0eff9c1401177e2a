import type { Codec } from '../codec/value-codec.ts'
import { WriterError } from '../errors.ts'

/**
 * A writer's own running state per entity, for the topics whose policy combines the latest version of each
 * writer of each DC (`writerField`): a counter's total, a union's set. Each change publishes this writer's
 * whole new state, never a delta, so redelivery and reordering stay harmless; a change whose request is not
 * acknowledged is taken back (`undo`), so no later publication carries it.
 */
export interface OwnTopic {
  readonly name: string
  readonly codec: Codec
  /** The value's field holding the state, and the field naming the writer. */
  readonly fields: { readonly field: string, readonly writerField: string }
  readonly kind: 'counter' | 'set'
}

export type OwnOp =
  | { readonly kind: 'increment', readonly by: number }
  | { readonly kind: 'add' | 'remove', readonly elements: readonly unknown[] }

export interface OwnChange {
  /** The map to publish: the writer's new state in `field`, its id in `writerField`. */
  readonly doc: Record<string, unknown>
  readonly undo: () => void
}

export class OwnState {
  readonly #writerId: string
  readonly #totals = new Map<string, number>()
  /** Per entity, the set's elements by identity (their encoding under the topic's codec, as the union policy has it). */
  readonly #sets = new Map<string, Map<string, unknown>>()

  constructor (writerId: string) {
    this.#writerId = writerId
  }

  apply (topic: OwnTopic, entityId: string, op: OwnOp): OwnChange {
    const key = `${topic.name}\u0000${entityId}`
    const { field, writerField } = topic.fields
    if (op.kind === 'increment') {
      const before = this.#totals.get(key) ?? 0
      const total = before + op.by
      if (!Number.isSafeInteger(total)) throw new WriterError(`the total of "${entityId}" in "${topic.name}" would leave the safe integer range`)
      this.#totals.set(key, total)
      return { doc: { [field]: total, [writerField]: this.#writerId }, undo: () => { this.#totals.set(key, this.#totals.get(key)! - op.by) } }
    }
    let set = this.#sets.get(key)
    if (set === undefined) this.#sets.set(key, set = new Map())
    const changed: Array<[string, unknown]> = []
    for (const element of op.elements) {
      const id = topic.codec.encode(element).toString('latin1')
      if ((op.kind === 'add') === set.has(id)) continue
      changed.push([id, element])
      if (op.kind === 'add') set.set(id, element)
      else set.delete(id)
    }
    const held = set
    return {
      doc: { [field]: [...held.values()], [writerField]: this.#writerId },
      undo: () => {
        for (const [id, element] of changed.reverse()) {
          if (op.kind === 'add') held.delete(id)
          else held.set(id, element)
        }
      }
    }
  }
}
