import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { encodeMsgpack } from '../src/codec/msgpack.ts'
import { policies } from '../src/merge/index.ts'
import { validateConfig } from '../src/config/validate.ts'
import type { InBatch } from '../src/model/record.ts'
import { Engine } from '../src/processor/engine.ts'
import { parseRecord } from '../src/processor/parse-record.ts'
import { planTopics, type Plans } from '../src/processor/plan.ts'
import { openDatabase } from '../src/store/open.ts'
import { SqliteStateStore } from '../src/store/sqlite-state-store.ts'
import type { StateStore } from '../src/store/state-store.ts'
import { batches } from './engine-workload.ts'
import { median } from './machine.ts'
import { TimedStore } from './timed-store.ts'
import { H, suffixedKey } from '../src/wire/contract.ts'

/**
 * Engine benchmark: batches handed straight to the pipeline (parse -> absorb into the commit window ->
 * resolve -> one store transaction per window -> outbox), no Kafka. The store is on disk in WAL mode with the named
 * `synchronous` setting. The store is first filled with `entities` entities, then `records` updates to
 * random entities are timed, `runs` times.
 */
/**
 * The variants: one topic configuration each, over the same workload (values are maps with an integer
 * `amount` and an array `tags`, so every policy has a field to work on). `lww-unvalidated` is lww-header
 * without `validateValues`, which gives the cost of the msgpack check.
 */
export const VARIANTS = {
  'lww-header': { policy: 'lww' },
  'lww-unvalidated': { policy: 'lww', validateValues: false },
  'lww-value-ts': { policy: 'lww', timestampSource: 'value' },
  'lww-fields': { policy: 'lww-fields' },
  counter: { policy: { type: 'counter', field: 'amount' } },
  max: { policy: { type: 'max', field: 'amount' } },
  min: { policy: { type: 'min', field: 'amount' } },
  union: { policy: { type: 'union', field: 'tags' } },
  'dc-priority': { policy: { type: 'dc-priority', order: ['dc2', 'dc1'] } }
} as const satisfies Record<string, Record<string, unknown>>

export type EngineVariant = keyof typeof VARIANTS

export interface EngineCase {
  readonly entities: number
  readonly records: number
  readonly batchSize: number
  /** Records per commit window: batches are absorbed until the window holds this many, then it commits. */
  readonly windowRecords: number
  readonly runs: number
  readonly variant: EngineVariant
  readonly synchronous: 'normal' | 'full'
  readonly cacheMb: number
}

export interface EngineResult extends EngineCase {
  readonly fillSeconds: number
  readonly recordsPerSecond: number[]
  readonly medianRecordsPerSecond: number
  readonly usPerRecord: number
  readonly stageUsPerRecord: Record<string, number>
  /** Peak RSS of the process that ran the case: with runEngineCaseInChild, the case's own. */
  readonly maxRssMiB: number
  readonly dbMiB: number
}

function setup (c: EngineCase, dir: string): { store: TimedStore, engine: Engine, plans: Plans } {
  const config = validateConfig({
    dc: 'dc1',
    peers: ['dc2'],
    kafka: { brokers: ['127.0.0.1:19092'] },
    topics: [{ name: 'orders', ...VARIANTS[c.variant] }],
    store: { dir, synchronous: c.synchronous, cacheMb: c.cacheMb }
  }, { policies })
  const store = new TimedStore(new SqliteStateStore(openDatabase(config.store)))
  const plans = planTopics(config, (name, format) => store.topicId(name, format))
  for (const t of plans.topics) { t.outputPartitions = 1; t.dlqPartitions = 1; t.conflictPartitions = 1; t.inputPartitions = 1 }
  return { store, engine: new Engine(store, plans), plans }
}

/** The outbox would be drained by the producer; here it is dropped after each batch, outside the timing. */
function drain (store: StateStore): void {
  const pending = store.pending(0, 1)
  if (pending.length > 0) store.acknowledge(Number.MAX_SAFE_INTEGER)
}

/** What the processor does under load: absorb each batch, commit once the window holds `windowRecords`. */
function absorb (engine: Engine, store: StateStore, batch: InBatch, windowRecords: number): void {
  engine.absorb(batch)
  if (engine.windowRecords >= windowRecords) commit(engine, store)
}

function commit (engine: Engine, store: StateStore): void {
  engine.commit()
  drain(store)
}

export function runEngineCase (c: EngineCase, log: (line: string) => void): EngineResult {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-'))
  try {
    const { store, engine, plans } = setup(c, dir)
    // Fill: every entity once, in key order batches (the first touch is an insert).
    const fillStart = performance.now()
    let ts = 1_700_000_000_000
    for (let first = 0; first < c.entities; first += c.batchSize) {
      const n = Math.min(c.batchSize, c.entities - first)
      const batch: InBatch = {
        topic: 'orders',
        partition: 0,
        records: Array.from({ length: n }, (_, i) => {
          ts++
          return {
            offset: String(first + i),
            timestamp: String(ts),
            key: Buffer.from(suffixedKey(`order-${first + i}`, 'dc1')),
            value: encodeMsgpack({ id: `order-${first + i}`, timestamp: ts, amount: 1, tags: ['new'] }),
            headers: { [H.originDc]: Buffer.from('dc1'), [H.originTs]: Buffer.from(String(ts)), [H.eventId]: Buffer.from(`fill-${first + i}`) }
          }
        })
      }
      absorb(engine, store, batch, c.windowRecords)
    }
    commit(engine, store)
    const fillSeconds = (performance.now() - fillStart) / 1000
    log(`  filled ${c.entities.toLocaleString('en-US')} entities in ${fillSeconds.toFixed(1)} s`)

    const rates: number[] = []
    for (let run = 0; run < c.runs; run++) {
      // Generated lazily (so memory is the engine's, not the workload's); only the engine is timed.
      let ms = 0
      for (const batch of batches({ entities: c.entities, records: c.records, batchSize: c.batchSize, seed: 100 + run, startTs: ts })) {
        const start = performance.now()
        absorb(engine, store, batch, c.windowRecords)
        ms += performance.now() - start
      }
      const start = performance.now()
      commit(engine, store)
      ms += performance.now() - start
      ts += c.records + 1
      const seconds = ms / 1000
      rates.push(c.records / seconds)
      log(`  run ${run + 1}: ${Math.round(c.records / seconds).toLocaleString('en-US')} records/s`)
    }

    // Where the time goes: the same kind of batches through cumulative prefixes of the pipeline. Generated
    // lazily (the same batches for each prefix, as the seed is the same) and timed batch by batch.
    const sampleRecords = Math.min(c.records, 200_000)
    const sample = () => batches({ entities: c.entities, records: sampleRecords, batchSize: c.batchSize, seed: 999, startTs: ts })
    const time = (fn: (b: InBatch) => void, end: () => void = () => {}): number => {
      let ms = 0
      for (const b of sample()) { const s = performance.now(); fn(b); ms += performance.now() - s }
      const s = performance.now()
      end()
      return (ms + performance.now() - s) * 1000 / sampleRecords
    }
    const parseUs = time(b => { const input = plans.inputs.get(b.topic)!; for (const r of b.records) parseRecord(r, input, 'dc1', plans.dcs) })
    const loadUs = time(b => { const input = plans.inputs.get(b.topic)!; for (const r of b.records) { const p = parseRecord(r, input, 'dc1', plans.dcs); if (p.kind === 'version') store.getEntity(input.plan.id, p.entity) } })
    // The whole pipeline again, with the store's calls timed: SQLite's share of it, by statement.
    store.timing = true
    const fullUs = time(b => absorb(engine, store, b, c.windowRecords), () => commit(engine, store))
    store.timing = false
    const perRecord = (ms: number): number => ms * 1000 / sampleRecords
    const sqlite = { 'SQLite read': perRecord(store.times.read), 'SQLite write': perRecord(store.times.write), 'SQLite COMMIT': perRecord(store.times.commit) }
    const stageUsPerRecord = {
      parse: parseUs,
      'load state': loadUs - parseUs,
      'merge + commit': fullUs - loadUs,
      total: fullUs,
      ...sqlite,
      'concord code': fullUs - Object.values(sqlite).reduce((a, b) => a + b, 0)
    }

    const dbMiB = (store.pageCount() * 4096) / 2 ** 20
    store.close()
    const med = median(rates)
    return {
      ...c,
      fillSeconds,
      recordsPerSecond: rates,
      medianRecordsPerSecond: med,
      usPerRecord: 1e6 / med,
      stageUsPerRecord,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      dbMiB
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const CASE_SCRIPT = fileURLToPath(new URL('./engine-case.ts', import.meta.url))

/**
 * Runs one case in a child process (bench/engine-case.ts), so that its peak RSS is its own: neither an
 * earlier case's nor the bench process's. The child's log lines are passed to `log`; its last stdout line is
 * the result. `CONCORD_CHILD_NODE_ARGS` adds Node flags to the child, as for the concord children of e2e.
 */
export async function runEngineCaseInChild (c: EngineCase, log: (line: string) => void): Promise<EngineResult> {
  const nodeArgs = (process.env.CONCORD_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(a => a !== '')
  const child = spawn(process.execPath, [...nodeArgs, CASE_SCRIPT, JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exit = once(child, 'exit')
  let last: string | undefined
  const lines = createInterface({ input: child.stdout })
  lines.on('line', line => {
    if (last !== undefined) log(last)
    last = line
  })
  await once(lines, 'close')
  const [code, signal] = await exit as [number | null, NodeJS.Signals | null]
  if (code !== 0 || last === undefined) {
    if (last !== undefined) log(last)
    throw new Error(`engine case ${c.variant}, ${c.entities} entities: the child process exited (code ${code}, signal ${signal}) without a result`)
  }
  return JSON.parse(last) as EngineResult
}
