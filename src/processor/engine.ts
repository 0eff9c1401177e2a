import type { Resolved, Write } from '../merge/policy.ts'
import { partitionKey, type InBatch } from '../model/record.ts'
import { compareStamps } from '../model/stamp.ts'
import type { EntityWrite, OffsetWrite, OutboxRecord, StateStore } from '../store/state-store.ts'
import { InternalError, RecordError } from '../errors.ts'
import { SKEW_BUCKETS, Tally } from '../metrics/tally.ts'
import { conflictRecord, deadLetter, mergedRecord } from './output-records.ts'
import { parseRecord } from './parse-record.ts'
import type { InputPlan, Plans, TopicPlan } from './plan.ts'
import { loadWatermarks, type Watermarks } from './watermarks.ts'

export type RecordOutcome = 'applied' | 'stale' | 'duplicate' | 'loop' | 'dead_lettered' | 'too_late'

/** What absorbing one batch into the window decided, known before the window commits. */
export interface BatchCounts {
  readonly topic: string
  readonly counts: Readonly<Record<RecordOutcome, number>>
  /** Dead letters this batch adds to the window's outbox (invalid, rejected by the policy, or too late). */
  readonly deadLetters: number
  /** Conflict records this batch adds to the window's outbox. */
  readonly conflicts: number
  /** Versions that arrived in a partition other than their entity's home partition. */
  readonly partitionMismatches: number
  /**
   * Replication latency of the applied records, in seconds: the batch's processing time minus each one's
   * origin timestamp. An observation only: nothing is decided by it.
   */
  readonly latency: Tally
  /**
   * Every valid record's origin timestamp minus the batch's processing time, in seconds (signed), and the
   * greatest of them in ms (-Infinity for none): a writer clock's skew, observed only, never acted on.
   */
  readonly ahead: Tally
  readonly maxAheadMs: number
}

export interface EngineOptions {
  /** The wall clock whose reading is a batch's processing time, in ms since the epoch (default Date.now). */
  readonly clock?: () => number
}

/** What committing a window wrote. */
export interface WindowResult {
  /** Merged records written to the outbox: one per entity whose output changed over the window. */
  readonly emitted: number
  /** Every record written to the outbox (merged, dead letters, conflicts). */
  readonly outbox: number
  /** Deleted entities purged by garbage collection, per configured topic name. */
  readonly purged: ReadonlyMap<string, number>
}

/** A batch absorbed and committed alone (`Engine.process`). */
export interface BatchResult extends BatchCounts {
  readonly emitted: number
  readonly purged: number
}

interface Working {
  /** The entity's state as committed before the window, undefined for a new entity. */
  readonly loaded: unknown
  readonly partition: number
  state: unknown
}

/** One configured topic's share of the open window. */
interface TopicWindow {
  readonly plan: TopicPlan
  readonly watermarks: Watermarks
  readonly working: Map<string, Working>
}

/** Deleted entities purged per commit at most, so that one commit never holds a long purge. */
const PURGE_LIMIT = 1000

/**
 * The processing core without Kafka. Batches are absorbed into an open commit window held in memory (the
 * record cache: each entity's state loaded once per window, repeated updates absorbed there); `commit()`
 * writes the window in one store transaction: the changed states (sorted), the outbox records (dead letters
 * and conflicts in arrival order, then a merged record per entity whose resolved output changed over the
 * window), the watermarks and the next offset of every partition; then it purges the deleted entities that
 * garbage collection may drop, in the same transaction. Nothing of a window is visible before its commit,
 * so a crash or a `discard()` loses only what was never acknowledged: its records are consumed again.
 */
export class Engine {
  readonly #store: StateStore
  readonly #plans: Plans
  readonly #watermarks = new Map<number, Watermarks>()
  /** Per topic, the purge bound last swept to the end. */
  readonly #swept = new Map<number, number>()
  readonly #topics = new Map<number, TopicWindow>()
  #outbox: OutboxRecord[] = []
  readonly #offsets = new Map<string, OffsetWrite>()
  #records = 0
  #openedAt: number | undefined
  readonly #clock: () => number

  constructor (store: StateStore, plans: Plans, options: EngineOptions = {}) {
    this.#store = store
    this.#plans = plans
    this.#clock = options.clock ?? Date.now
  }

  /** Records absorbed into the open window (0 when none is open). */
  get windowRecords (): number { return this.#records }

  /** When the open window took its first batch (`performance.now()`), undefined when none is open. */
  get windowOpenedAt (): number | undefined { return this.#openedAt }

  /** Absorbs one batch and commits it alone: a window of one batch. */
  process (batch: InBatch): BatchResult {
    const counts = this.absorb(batch)
    const { emitted, purged } = this.commit()
    return { ...counts, emitted, purged: [...purged.values()].reduce((a, b) => a + b, 0) }
  }

  /**
   * Absorbs one batch into the open window (opening one), reading state the window does not hold yet.
   * Writes nothing: the window's effects reach the store at `commit()`. When it throws, the window is
   * discarded, as none of it can be trusted.
   */
  absorb (batch: InBatch): BatchCounts {
    const input = this.#plans.inputs.get(batch.topic)
    if (input === undefined) throw new InternalError(`no plan for input topic ${batch.topic}`)
    try {
      // One read transaction for the batch's point reads: under normal locking a read outside one takes the
      // store's shared locks each time (twice the cost of a point read, measured).
      return this.#store.atomically(() => this.#absorb(batch, input, this.#topicWindow(input.plan)))
    } catch (err) {
      this.discard()
      throw err
    }
  }

  /** Commits the open window in one transaction (nothing to do when none is open). On failure the window is discarded. */
  commit (): WindowResult {
    if (this.#openedAt === undefined) return { emitted: 0, outbox: 0, purged: new Map() }
    try {
      const { result, swept } = this.#store.atomically(() => this.#commit())
      // In-memory bookkeeping follows the transaction: only what was committed holds.
      for (const t of this.#topics.values()) t.watermarks.keep()
      for (const [id, to] of swept) this.#swept.set(id, to)
      this.#reset()
      return result
    } catch (err) {
      this.discard()
      throw err
    }
  }

  /** Forgets the open window: nothing of it was written, and its records must be consumed again. */
  discard (): void {
    for (const t of this.#topics.values()) t.watermarks.drop()
    this.#reset()
  }

  #reset (): void {
    this.#topics.clear()
    this.#outbox = []
    this.#offsets.clear()
    this.#records = 0
    this.#openedAt = undefined
  }

  #topicWindow (plan: TopicPlan): TopicWindow {
    let t = this.#topics.get(plan.id)
    if (t !== undefined) return t
    let watermarks = this.#watermarks.get(plan.id)
    if (watermarks === undefined) {
      watermarks = loadWatermarks(this.#store, plan.id)
      this.#watermarks.set(plan.id, watermarks)
    }
    t = { plan, watermarks, working: new Map() }
    this.#topics.set(plan.id, t)
    return t
  }

  #absorb (batch: InBatch, input: InputPlan, window: TopicWindow): BatchCounts {
    const { plan, watermarks, working } = window
    const { merger, config } = plan
    const { localDc } = this.#plans
    const counts: Record<RecordOutcome, number> = { applied: 0, stale: 0, duplicate: 0, loop: 0, dead_lettered: 0, too_late: 0 }
    const outbox = this.#outbox
    let mismatches = 0
    let deadLetters = 0
    let conflicts = 0
    const latency = new Tally()
    const ahead = new Tally(SKEW_BUCKETS, true)
    let maxAheadMs = -Infinity
    const now = this.#clock()
    const reject = (record: InBatch['records'][number], error: RecordError, stage: string): void => {
      deadLetters++
      outbox.push(deadLetter(plan, batch, record, error, stage, localDc))
    }
    this.#openedAt ??= performance.now()

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
      ahead.observe((ts - now) / 1000)
      if (ts - now > maxAheadMs) maxAheadMs = ts - now
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
      latency.observe((now - ts) / 1000)
      w.state = absorbed.state
      for (const c of absorbed.conflicts) {
        conflicts++
        outbox.push(conflictRecord(plan, parsed.entity, w.partition, c, localDc))
      }
    }

    const last = batch.records[batch.records.length - 1]
    if (last !== undefined) {
      this.#offsets.set(partitionKey(batch), { topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 })
    }
    this.#records += batch.records.length
    return { topic: batch.topic, counts, deadLetters, conflicts, partitionMismatches: mismatches, latency, ahead, maxAheadMs }
  }

  #commit (): { result: WindowResult, swept: Map<number, number> } {
    const { localDc } = this.#plans
    const entities: EntityWrite[] = []
    const outbox = this.#outbox
    let emitted = 0
    for (const { plan, working } of this.#topics.values()) {
      const { merger } = plan
      for (const [entity, w] of working) {
        if (w.state === w.loaded || w.state === undefined) continue
        const resolved = merger.resolve(w.state)
        const deletedTs = resolved.value === null ? resolved.tombstone?.ts : undefined
        entities.push({ topicId: plan.id, entity, partition: w.partition, state: merger.encodeState(w.state), deletedTs })
        if (w.loaded !== undefined && sameOutput(merger.resolve(w.loaded), resolved)) continue
        outbox.push(mergedRecord(plan, entity, w.partition, resolved, localDc))
        emitted++
      }
    }
    this.#store.commit({
      entities,
      outbox,
      offsets: [...this.#offsets.values()],
      watermarks: [...this.#topics.values()].flatMap(t => t.watermarks.moved().map(m => ({ topicId: t.plan.id, ...m })))
    })
    const purged = new Map<string, number>()
    const swept = new Map<number, number>()
    for (const { plan, watermarks } of this.#topics.values()) {
      const { n, sweptTo } = this.#collect(plan, watermarks)
      if (n > 0) purged.set(plan.config.name, n)
      if (sweptTo !== undefined) swept.set(plan.id, sweptTo)
    }
    return { result: { emitted, outbox: outbox.length, purged }, swept }
  }

  /** Purges the deleted entities whose delete is gcGraceMs (and under delete-wins the conflict window) behind every watermark. */
  #collect (plan: TopicPlan, watermarks: Watermarks): { n: number, sweptTo: number | undefined } {
    const none = { n: 0, sweptTo: undefined }
    const low = watermarks.lowest(this.#plans.dcs, plan.inputPartitions)
    if (low === undefined) return none
    const { gcGraceMs, deleteRule, conflictWindowMs } = plan.config
    const before = low - gcGraceMs - (deleteRule === 'delete-wins' ? conflictWindowMs : 0)
    if ((this.#swept.get(plan.id) ?? -Infinity) >= before) return none
    const n = this.#store.purgeDeleted(plan.id, before, PURGE_LIMIT)
    // A full sweep means more may be left: look again after the next commit.
    return { n, sweptTo: n < PURGE_LIMIT ? before : undefined }
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
