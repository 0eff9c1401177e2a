import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { sum, type ConcordProcess } from '../../lab/concord-process.ts'
import { lastByKey, readUntil, type ReadRecord } from '../../lab/read.ts'
import { createTopicPair, startDc } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { entityPartition } from '../../src/wire/partitioner.ts'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { connectProducer, LIMITED_RETRIES_WARNING } from '../../src/kafka/producer.ts'
import { headerString, partitionKey } from '../../src/model/record.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import { repeatedKeys } from '../log/keys.ts'

/**
 * SIGTERM under load (issue #10, "Stop and logs"): concord in dc1 consumes records that both DCs keep writing
 * (dc2's through MirrorMaker 2), gets SIGTERM, and must stop fetching, finish its batch, commit, flush and exit
 * 0 within 10 s. Then nothing it acknowledged may be lost: its merged output holds the effect of exactly the
 * records its store says it consumed (the oracle below, over those records), nothing is left unsent, and a
 * restart on the same state takes up the rest, ending on every write the producers had acknowledged.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const topic = `it-sigterm-${Date.now().toString(36)}`
const STOP_BUDGET_MS = 10_000
const ENTITIES = 3_000
const PER_SEND = 1_000
const PAUSE_MS = 50
/** Records each DC writes before concord starts. */
const BACKLOG = 50_000

/** One write as produced: the oracle's input. Timestamps are unique across both DCs, so no tie is possible. */
interface Write { readonly entity: string, readonly dc: string, readonly ts: number, readonly eventId: string, readonly value: Buffer | null }

let clock = Date.now() - 3_600_000
function makeWrites (dc: string, n: number): Write[] {
  const writes: Write[] = []
  for (let i = 0; i < n; i++) {
    const entity = `e${Math.floor(Math.random() * ENTITIES)}`
    const ts = clock++
    const value = Math.random() < 0.1 ? null : encodeMsgpack({ entity, dc, ts, pad: 'x'.repeat(120) })
    writes.push({ entity, dc, ts, eventId: randomUUID(), value })
  }
  return writes
}

/** Writes `dc`'s records into its own cluster until `stop()`; `acked` gets each write once Kafka acknowledged it. */
async function keepWriting (dc: { id: string, bootstrap: string }, stop: () => boolean, acked: Write[]): Promise<void> {
  const producer = await connectProducer({ brokers: [dc.bootstrap], clientId: `it-sigterm-${dc.id}` })
  try {
    while (!stop()) {
      const writes = makeWrites(dc.id, PER_SEND)
      await producer.send(writes.map(w => ({
        topic,
        partition: entityPartition(w.entity, settings.partitions),
        key: `${w.entity}-${w.dc}`,
        value: w.value,
        headers: { 'x-origin-dc': w.dc, 'x-origin-ts': String(w.ts), 'x-event-id': w.eventId }
      })))
      acked.push(...writes)
      await sleep(PAUSE_MS)
    }
  } finally {
    await producer.close()
  }
}

/** The oracle: per entity, the write with the greatest timestamp (unique by construction), value or delete. */
function winners (writes: Iterable<Pick<Write, 'entity' | 'ts' | 'eventId' | 'value'>>): Map<string, { ts: number, eventId: string, value: Buffer | null }> {
  const best = new Map<string, { ts: number, eventId: string, value: Buffer | null }>()
  for (const w of writes) {
    const cur = best.get(w.entity)
    if (cur === undefined || w.ts > cur.ts) best.set(w.entity, { ts: w.ts, eventId: w.eventId, value: w.value })
  }
  return best
}

/** A record of an input topic as the oracle's write. */
const asWrite = (r: ReadRecord): Write => {
  const key = r.key!.toString('utf8')
  const at = key.lastIndexOf('-')
  return { entity: key.slice(0, at), dc: key.slice(at + 1), ts: Number(headerString(r.headers, 'x-origin-ts')), eventId: headerString(r.headers, 'x-event-id')!, value: r.value }
}

/** The number of records in `topics` on `bootstrap` now (topics created here, so their offsets start at 0). */
async function recordCount (bootstrap: string, topics: readonly string[]): Promise<bigint> {
  const admin = await connectAdmin({ brokers: [bootstrap], clientId: 'it-sigterm' })
  let total = 0n
  try {
    for (const t of topics) for (const hw of (await admin.highWatermarks(t)).values()) total += hw
  } finally {
    await admin.close()
  }
  return total
}

/** Every record of `topics` on `bootstrap` up to their high watermarks now. */
async function readAll (bootstrap: string, topics: readonly string[]): Promise<ReadRecord[]> {
  const total = await recordCount(bootstrap, topics)
  return readUntil(bootstrap, topics, rs => BigInt(rs.length) >= total, { timeoutMs: 60_000 })
}

/** The merged changelog's last record per entity, compared with the oracle: the entities that differ. */
function differences (merged: ReadonlyMap<string, ReadRecord>, expected: ReturnType<typeof winners>): string[] {
  const out: string[] = []
  for (const [entity, w] of expected) {
    const r = merged.get(entity)
    const same = r !== undefined && headerString(r.headers, 'x-event-id') === w.eventId &&
      (w.value === null ? r.value === null : r.value?.equals(w.value) === true)
    if (!same) out.push(`${entity}: expected ${w.eventId} (${w.value === null ? 'delete' : 'value'}), got ${r === undefined ? 'nothing' : headerString(r.headers, 'x-event-id')}`)
  }
  for (const entity of merged.keys()) if (!expected.has(entity)) out.push(`${entity}: merged but never consumed`)
  return out
}

describe('SIGTERM under load', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-'))
  const procs: ConcordProcess[] = []
  after(async () => { await Promise.all(procs.map(p => p.stop())) })

  it('stops fetching, finishes, commits, flushes and exits 0 within 10 s, losing nothing acknowledged', async (t) => {
    await createTopicPair(settings, topic)
    const acked = { dc1: [] as Write[], dc2: [] as Write[] }
    let stopWriting = false
    const started = performance.now()
    const writers = Promise.all([
      keepWriting(dc1, () => stopWriting, acked.dc1),
      keepWriting(dc2, () => stopWriting, acked.dc2)
    ])
    let stop: { code: number | null, ms: number }
    let proc: ConcordProcess | undefined
    let behind = 0
    try {
      // A backlog first, so that concord is behind when it gets SIGTERM: its batches do not reach the end of
      // their partitions, and the stop finds a commit window open (the path a caught-up processor never takes).
      while (acked.dc1.length < BACKLOG || acked.dc2.length < BACKLOG) await sleep(100)
      const running = proc = await startDc(settings, 0, topic, work)
      procs.push(running)
      // Under load: both inputs flowing (dc2's copy through MM2), and consumption still going up.
      const consumed = async (): Promise<{ local: number, remote: number }> => {
        const m = await running.metrics()
        return { local: sum(m, 'concord_records_total{', `topic="${topic}"`), remote: sum(m, 'concord_records_total{', `topic="dc2.${topic}"`) }
      }
      const deadline = Date.now() + 90_000
      let seen = await consumed()
      while (seen.local < 20_000 || seen.remote < 10_000) {
        assert.ok(Date.now() < deadline, `load did not reach concord within 90 s: ${JSON.stringify(seen)}`)
        await sleep(250)
        seen = await consumed()
      }
      // The counters move when a commit window commits (every store.commitIntervalMs while behind).
      let later = await consumed()
      for (let i = 0; i < 50 && later.local + later.remote <= seen.local + seen.remote; i++) {
        await sleep(100)
        later = await consumed()
      }
      assert.ok(later.local + later.remote > seen.local + seen.remote, 'still consuming when SIGTERM is sent')
      // Behind the input topics it reads (the counters count committed windows, so this is a bit more).
      behind = Number(await recordCount(dc1.bootstrap, [topic, `dc2.${topic}`])) - later.local - later.remote
      assert.ok(behind > 5_000, `behind by ${behind} records when SIGTERM is sent`)
      const t0 = performance.now()
      const code = await running.stop()
      stop = { code, ms: performance.now() - t0 }
      procs.pop()
    } finally {
      stopWriting = true
      await writers
    }
    assert.ok(proc !== undefined)
    const seconds = (performance.now() - started) / 1000
    t.diagnostic(`stopped in ${Math.round(stop.ms)} ms, ${behind} records behind; writers acknowledged ${acked.dc1.length} (dc1) and ${acked.dc2.length} (dc2) records in ${seconds.toFixed(1)} s: ${Math.round((acked.dc1.length + acked.dc2.length) / seconds)} records/s`)
    assert.equal(stop.code, 0, `exit code after SIGTERM; see ${proc.log}`)
    assert.ok(stop.ms < STOP_BUDGET_MS, `stopped in ${Math.round(stop.ms)} ms`)

    // The log: the stop said so, nothing failed, each line's keys once, and no limited-retries warning.
    const lines = readFileSync(proc.log, 'utf8').split('\n').filter(l => l !== '')
    const msgs = lines.map(l => JSON.parse(l) as { level: number, msg: string })
    assert.ok(msgs.some(m => m.msg === 'stopping') && msgs.at(-1)?.msg === 'concord stopped', `the stop is logged; see ${proc.log}`)
    assert.deepEqual(msgs.filter(m => m.level >= 50), [], 'no error logged')
    assert.ok(!msgs.some(m => m.msg === LIMITED_RETRIES_WARNING))
    for (const l of lines) assert.deepEqual(repeatedKeys(l), [], l)

    // The store: lock released, nothing committed left unsent, and the positions it committed.
    const state = join(work, 'dc1', 'state')
    assert.equal(existsSync(join(state, 'concord.lock')), false, 'the owner lock is released')
    const store = new SqliteStateStore(openDatabase({ dir: state, synchronous: 'normal', cacheMb: 8 }))
    const positions = store.offsets()
    const unsent = store.pendingCount()
    store.close()
    assert.equal(unsent, 0, 'every committed output record was produced before the exit')

    // What concord consumed, by its committed positions, against its merged output.
    const inputs = await readAll(dc1.bootstrap, [topic, `dc2.${topic}`])
    const taken = inputs.filter(r => BigInt(r.offset) < BigInt(positions.get(partitionKey(r)) ?? 0))
    const left = inputs.length - taken.length
    assert.ok(taken.some(r => r.topic === topic) && taken.some(r => r.topic === `dc2.${topic}`), 'both inputs were consumed')
    assert.ok(left > 0, 'records kept arriving after the stop (the load was on)')
    const merged = lastByKey(await readAll(dc1.bootstrap, [`${topic}.merged`]))
    t.diagnostic(`consumed before the stop: ${taken.length} records (${taken.filter(r => r.topic === topic).length} local); ${left} left for the restart; ${merged.size} entities merged`)
    const wrong = differences(merged, winners(taken.map(asWrite)))
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${merged.size} entities differ from the oracle over the ${taken.length} records consumed`)

    // A restart on the same state consumes the rest and ends on every write Kafka acknowledged to the writers.
    const all = [...acked.dc1, ...acked.dc2]
    const ids = new Set(acked.dc2.map(w => w.eventId))
    await readUntil(dc1.bootstrap, [`dc2.${topic}`], rs => { for (const r of rs) ids.delete(headerString(r.headers, 'x-event-id')!); return ids.size === 0 }, { timeoutMs: 60_000 })
    const again = await startDc(settings, 0, topic, work)
    procs.push(again)
    const expected = winners(all)
    const done = await readUntil(dc1.bootstrap, [`${topic}.merged`], rs => differences(lastByKey(rs), expected).length === 0, { timeoutMs: 120_000 })
      .then(() => [], async () => differences(lastByKey(await readAll(dc1.bootstrap, [`${topic}.merged`])), expected))
    assert.deepEqual(done.slice(0, 10), [], `${done.length} entities differ after the restart from the oracle over all ${all.length} acknowledged writes`)
    assert.equal(await again.stop(), 0)
    procs.pop()
  })
})
