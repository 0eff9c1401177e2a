import { absorb, type Outcome } from '../merge/siblings.ts'
import type { InBatch } from '../model/record.ts'
import { compareStamps } from '../model/stamp.ts'
import type { Version } from '../model/version.ts'
import type { EntityState, EntityWrite, OutboxRecord, StateStore } from '../store/state-store.ts'
import { DLQ, H, originHeaders } from '../wire/contract.ts'
import { InternalError, type RecordError } from '../errors.ts'
import { parseRecord } from './parse-record.ts'
import type { Plans, TopicPlan } from './plan.ts'

export type RecordOutcome = Outcome | 'loop' | 'dead_lettered'

export interface BatchResult {
  readonly topic: string
  readonly counts: Readonly<Record<RecordOutcome, number>>
  /** Merged records and dead letters written to the outbox by this batch. */
  readonly emitted: number
  readonly deadLetters: number
  /** Versions that arrived in a partition other than their entity's home partition. */
  readonly partitionMismatches: number
}

interface Working {
  readonly loaded: EntityState | undefined
  readonly partition: number
  siblings: readonly Version[]
}

/**
 * The processing core without Kafka: one consumed batch in, one store transaction out. Per batch it parses
 * each record, absorbs it into its entity's siblings (loaded once per entity per batch), merges each touched
 * entity with the topic's policy, and commits the changed entities, the outbox records (an emission only
 * where the merged version changed; dead letters for invalid records) and the next offset together.
 */
export class Engine {
  readonly #store: StateStore
  readonly #plans: Plans

  constructor (store: StateStore, plans: Plans) {
    this.#store = store
    this.#plans = plans
  }

  /** Processes one batch in one store transaction (reads included). */
  process (batch: InBatch): BatchResult {
    return this.#store.atomically(() => this.#process(batch))
  }

  #process (batch: InBatch): BatchResult {
    const input = this.#plans.inputs.get(batch.topic)
    if (input === undefined) throw new InternalError(`no plan for input topic ${batch.topic}`)
    const plan = input.plan
    const counts: Record<RecordOutcome, number> = { applied: 0, stale: 0, duplicate: 0, loop: 0, dead_lettered: 0 }
    const outbox: OutboxRecord[] = []
    const working = new Map<string, Working>()
    let mismatches = 0

    for (const record of batch.records) {
      const parsed = parseRecord(record, input, this.#plans.localDc, this.#plans.dcs)
      if (parsed.kind === 'loop') {
        counts.loop++
        continue
      }
      if (parsed.kind === 'invalid') {
        counts.dead_lettered++
        outbox.push(deadLetter(plan, batch, record, parsed.error, this.#plans.localDc))
        continue
      }
      let w = working.get(parsed.entity)
      if (w === undefined) {
        const loaded = this.#store.getEntity(plan.id, parsed.entity)
        w = { loaded, partition: loaded?.partition ?? batch.partition, siblings: loaded?.siblings ?? [] }
        working.set(parsed.entity, w)
      }
      if (w.partition !== batch.partition) mismatches++
      const absorbed = absorb(w.siblings, parsed.version)
      counts[absorbed.outcome]++
      w.siblings = absorbed.siblings
    }

    const entities: EntityWrite[] = []
    let emitted = 0
    for (const [entity, w] of working) {
      if (w.siblings === w.loaded?.siblings || w.siblings.length === 0) continue
      const merged = plan.policy.merge(w.siblings)
      entities.push({ topicId: plan.id, entity, partition: w.partition, siblings: w.siblings, merged })
      // The stored merged stamp stands for the merged version before this batch: a stamp names one version
      // (a repeated stamp is absorbed as a duplicate, never replacing the value it names).
      if (w.loaded !== undefined && compareStamps(w.loaded.merged, merged.stamp) === 0) continue
      outbox.push(mergedRecord(plan, entity, w.partition, merged, this.#plans.localDc))
      emitted++
    }

    const last = batch.records[batch.records.length - 1]
    this.#store.commit({
      entities,
      outbox,
      offsets: last === undefined ? [] : [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }]
    })
    return { topic: batch.topic, counts, emitted, deadLetters: counts.dead_lettered, partitionMismatches: mismatches }
  }
}

/** The merged output: key = entity id, value = the winner's bytes unchanged (null for a delete). */
function mergedRecord (plan: TopicPlan, entity: string, partition: number, merged: Version, localDc: string): OutboxRecord {
  const headers = { ...originHeaders(merged.stamp), [H.mergedBy]: localDc }
  return { topic: plan.config.outputTopic, partition: partition % plan.outputPartitions, key: Buffer.from(entity, 'utf8'), value: merged.value, headers }
}

function deadLetter (plan: TopicPlan, batch: InBatch, record: InBatch['records'][number], error: RecordError, localDc: string): OutboxRecord {
  return {
    topic: plan.config.dlqTopic,
    partition: batch.partition % plan.dlqPartitions,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ.topic]: batch.topic,
      [DLQ.partition]: String(batch.partition),
      [DLQ.offset]: record.offset,
      [DLQ.exceptionClass]: error.name,
      [DLQ.message]: error.message,
      [DLQ.stage]: 'parse',
      [DLQ.dc]: localDc
    }
  }
}
