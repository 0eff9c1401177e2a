import type { Resolved, Write } from '../merge/policy.ts'
import type { InBatch } from '../model/record.ts'
import { compareStamps } from '../model/stamp.ts'
import type { EntityWrite, OutboxRecord, StateStore } from '../store/state-store.ts'
import { InternalError, RecordError } from '../errors.ts'
import { conflictRecord, deadLetter, mergedRecord } from './output-records.ts'
import { parseRecord } from './parse-record.ts'
import type { InputPlan, Plans, TopicPlan } from './plan.ts'
import { loadWatermarks, type Watermarks } from './watermarks.ts'

export type RecordOutcome = 'applied' | 'stale' | 'duplicate' | 'loop' | 'dead_lettered' | 'too_late'

export interface BatchResult {
  readonly topic: string
  readonly counts: Readonly<Record<RecordOutcome, number>>
  /** Merged records written to the outbox by this batch. */
  readonly emitted: number
  /** Dead letters written to the outbox (invalid, rejected by the policy, or too late). */
  readonly deadLetters: number
  /** Conflict records written to the outbox. */
  readonly conflicts: number
  /** Deleted entities purged from the store by garbage collection. */
  readonly purged: number
  /** Versions that arrived in a partition other than their entity's home partition. */
  readonly partitionMismatches: number
}

interface Working {
  readonly loaded: unknown
  readonly partition: number
  state: unknown
}

/** Deleted entities purged per batch at most, so that one batch never holds a long purge. */
const PURGE_LIMIT = 1000

/**
 * The processing core without Kafka: one consumed batch in, one store transaction out. Per batch it parses
 * each record, absorbs it into its entity's state with the topic's policy (the state loaded once per entity
 * per batch), resolves each changed entity, and commits the changed states, the outbox records (a merged
 * record where the resolved value changed, dead letters, conflicts), the watermarks and the next offset
 * together; then it purges deleted entities that garbage collection may drop, in the same transaction.
 */
export class Engine {
  readonly #store: StateStore
  readonly #plans: Plans
  readonly #watermarks = new Map<number, Watermarks>()
  /** Per topic, the purge bound last swept to the end. */
  readonly #swept = new Map<number, number>()

  constructor (store: StateStore, plans: Plans) {
    this.#store = store
    this.#plans = plans
  }

  /** Processes one batch in one store transaction (reads included). */
  process (batch: InBatch): BatchResult {
    const input = this.#plans.inputs.get(batch.topic)
    if (input === undefined) throw new InternalError(`no plan for input topic ${batch.topic}`)
    let watermarks = this.#watermarks.get(input.plan.id)
    if (watermarks === undefined) {
      watermarks = loadWatermarks(this.#store, input.plan.id)
      this.#watermarks.set(input.plan.id, watermarks)
    }
    const wm = watermarks
    try {
      const { result, sweptTo } = this.#store.atomically(() => this.#process(batch, input, wm))
      // In-memory bookkeeping follows the transaction: only what was committed holds.
      wm.keep()
      if (sweptTo !== undefined) this.#swept.set(input.plan.id, sweptTo)
      return result
    } catch (err) {
      wm.drop()
      throw err
    }
  }

  #process (batch: InBatch, input: InputPlan, watermarks: Watermarks): { result: BatchResult, sweptTo: number | undefined } {
    const plan = input.plan
    const { merger, config } = plan
    const { localDc } = this.#plans
    const counts: Record<RecordOutcome, number> = { applied: 0, stale: 0, duplicate: 0, loop: 0, dead_lettered: 0, too_late: 0 }
    const outbox: OutboxRecord[] = []
    const conflicts: OutboxRecord[] = []
    const working = new Map<string, Working>()
    let mismatches = 0
    let deadLetters = 0
    const reject = (record: InBatch['records'][number], error: RecordError, stage: string): void => {
      deadLetters++
      outbox.push(deadLetter(plan, batch, record, error, stage, localDc))
    }

    for (const record of batch.records) {
      const parsed = parseRecord(record, input, localDc, this.#plans.dcs)
      if (parsed.kind === 'loop') {
        counts.loop++
        continue
      }
      if (parsed.kind === 'invalid') {
        counts.dead_lettered++
        reject(record, parsed.error, 'parse')
        continue
      }
      const write: Write = parsed.version
      const { dc, ts } = write.stamp
      const mark = watermarks.get(dc, batch.partition)
      if (mark !== undefined && ts < mark - config.gcGraceMs) {
        counts.too_late++
        reject(record, new RecordError(`write of ${dc} at ${ts} is more than gcGraceMs (${config.gcGraceMs} ms) behind an earlier write of ${dc} on partition ${batch.partition} (at ${mark}): it might revive an entity purged since`), 'merge')
        continue
      }
      watermarks.see(dc, batch.partition, ts)
      let w = working.get(parsed.entity)
      if (w === undefined) {
        const row = this.#store.getEntity(plan.id, parsed.entity)
        const loaded = row === undefined ? undefined : merger.decodeState(row.state)
        w = { loaded, partition: row?.partition ?? batch.partition, state: loaded }
        working.set(parsed.entity, w)
      }
      if (w.partition !== batch.partition) mismatches++
      const absorbed = merger.absorb(w.state, write)
      if (absorbed.outcome === 'rejected') {
        counts.dead_lettered++
        reject(record, new RecordError(absorbed.reason), 'merge')
        continue
      }
      counts[absorbed.outcome]++
      if (absorbed.outcome !== 'applied') continue
      w.state = absorbed.state
      for (const c of absorbed.conflicts) conflicts.push(conflictRecord(plan, parsed.entity, w.partition, c, localDc))
    }

    const entities: EntityWrite[] = []
    let emitted = 0
    for (const [entity, w] of working) {
      if (w.state === w.loaded || w.state === undefined) continue
      const resolved = merger.resolve(w.state)
      const deletedTs = resolved.value === null ? resolved.tombstone?.ts : undefined
      entities.push({ topicId: plan.id, entity, partition: w.partition, state: merger.encodeState(w.state), deletedTs })
      if (w.loaded !== undefined && sameOutput(merger.resolve(w.loaded), resolved)) continue
      outbox.push(mergedRecord(plan, entity, w.partition, resolved, localDc))
      emitted++
    }
    outbox.push(...conflicts)

    const last = batch.records[batch.records.length - 1]
    this.#store.commit({
      entities,
      outbox,
      offsets: last === undefined ? [] : [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }],
      watermarks: watermarks.moved().map(m => ({ topicId: plan.id, ...m }))
    })
    const { purged, sweptTo } = this.#collect(plan, watermarks)
    return { result: { topic: batch.topic, counts, emitted, deadLetters, conflicts: conflicts.length, purged, partitionMismatches: mismatches }, sweptTo }
  }

  /** Purges the deleted entities whose delete is gcGraceMs (and under delete-wins the conflict window) behind every watermark. */
  #collect (plan: TopicPlan, watermarks: Watermarks): { purged: number, sweptTo: number | undefined } {
    const none = { purged: 0, sweptTo: undefined }
    const low = watermarks.lowest(this.#plans.dcs, plan.inputPartitions)
    if (low === undefined) return none
    const { gcGraceMs, deleteRule, conflictWindowMs } = plan.config
    const before = low - gcGraceMs - (deleteRule === 'delete-wins' ? conflictWindowMs : 0)
    if ((this.#swept.get(plan.id) ?? -Infinity) >= before) return none
    const purged = this.#store.purgeDeleted(plan.id, before, PURGE_LIMIT)
    // A full sweep means more may be left: look again after the next batch.
    return { purged, sweptTo: purged < PURGE_LIMIT ? before : undefined }
  }
}

/**
 * Whether a resolution changed what the output says: the value bytes or its provenance (the one write whose
 * value passes through, or every source of a built value). Provenance counts so that every DC's changelog
 * ends on the same record, headers included: a write that leaves a sum unchanged still becomes one of its
 * sources.
 */
function sameOutput (a: Resolved, b: Resolved): boolean {
  if (a.origin !== undefined || b.origin !== undefined) {
    if (a.origin === undefined || b.origin === undefined || compareStamps(a.origin, b.origin) !== 0) return false
  } else if (a.sources.length !== b.sources.length || a.sources.some((s, i) => compareStamps(s, b.sources[i]!) !== 0)) {
    return false
  }
  if (a.value === null || b.value === null) return a.value === b.value
  return a.value.equals(b.value)
}
