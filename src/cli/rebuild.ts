import type { Config } from '../config/schema.ts'
import { KafkaError, StoreError } from '../errors.ts'
import { loadPolicyModules } from '../plugin/load-modules.ts'
import { Engine } from '../processor/engine.ts'
import { planTopics } from '../processor/plan.ts'
import { StateQuery } from '../query/state-query.ts'
import { openDatabase } from '../store/open.ts'
import { SqliteStateStore } from '../store/sqlite-state-store.ts'
import { inputTopicsOf } from './reset-offsets.ts'
import { commandClient } from './kafka-client.ts'
import { endsOf, readToEnds } from './read-to-ends.ts'

export interface RebuildProgress {
  /** Input records read so far, and in all (up to the ends the inputs had when the rebuild started). */
  readonly records: number
  readonly total: number
  readonly seconds: number
}

export interface RebuildResult extends RebuildProgress {
  /** Entities with a value in the rebuilt state, over every configured topic (the digests' count: deleted ones are absent). */
  readonly entities: number
  /** Each configured topic's state digest (as `verify` computes it) and entities with a value. */
  readonly digests: ReadonlyArray<{ readonly topic: string, readonly entities: number, readonly digest: string }>
}

/**
 * `concord rebuild`: fills an empty state folder from the input topics, from their beginning up to the ends
 * they have when it starts, through the same engine as `run` (the same parse, merge and commit windows), so
 * that the rebuilt state is the one the processor would have: the same state digest as another DC's that
 * consumed the same records. It produces nothing: the merged, dead-letter and conflict records are on their
 * topics already, and the window's output is dropped at each commit. The positions it commits are where
 * `run` resumes. Refuses a state folder that holds positions already (move it away first); holds the
 * folder's owner lock meanwhile. Reads with a consumer group of its own, leaving the processor's group as is.
 */
export async function rebuild (config: Config, onProgress: (p: RebuildProgress) => void = () => {}, progressEveryMs = 1000): Promise<RebuildResult> {
  const modules = await loadPolicyModules(config)
  const store = new SqliteStateStore(openDatabase(config.store))
  try {
    const held = store.offsets()
    if (held.size > 0) {
      throw new StoreError(`the state folder ${config.store.dir} holds the positions of ${held.size} input partitions already: rebuild fills an empty folder (move this one away, or point store.dir at a new one)`)
    }
    const plans = planTopics(config, (name, format) => store.topicId(name, format), modules)
    const client = commandClient(config)
    const { ends, missing } = await endsOf(client, inputTopicsOf(config))
    if (missing.length > 0) throw new KafkaError(`the input topics ${missing.join(', ')} are not in the cluster at ${client.brokers.join(',')}: nothing to rebuild them from`)
    const total = [...ends.values()].reduce((a, b) => a + Number(b), 0)
    const engine = new Engine(store, plans)
    const started = performance.now()
    let records = 0
    const progress = (): RebuildProgress => ({ records, total, seconds: (performance.now() - started) / 1000 })
    const commit = (): void => {
      engine.commit()
      // The output is on its topics already: drop the window's copy.
      if (store.pendingCount() > 0) store.acknowledge(Number.MAX_SAFE_INTEGER)
    }
    let lastReport = 0
    await readToEnds(client, `${config.kafka.groupId}-rebuild`, ends, batch => {
      if (batch.records.length > 0) engine.absorb(batch)
      records += batch.records.length
      if (engine.windowRecords >= config.store.windowRecords) commit()
      if (performance.now() - lastReport >= progressEveryMs) {
        lastReport = performance.now()
        onProgress(progress())
      }
    })
    commit()
    const query = new StateQuery(plans.topics, store)
    const digests = []
    for (const t of plans.topics) {
      const d = await query.digest(t.config.name)
      if (d.found) digests.push({ topic: d.value.topic, entities: d.value.entities, digest: d.value.digest })
    }
    return { ...progress(), entities: digests.reduce((n, d) => n + d.entities, 0), digests }
  } finally {
    store.close()
  }
}

/** A progress line: records, rate, ETA; `\r`-terminated for a TTY (redrawn in place), a line of its own otherwise. */
export function describeProgress (p: RebuildProgress, tty: boolean): string {
  const rate = p.seconds > 0 ? p.records / p.seconds : 0
  const eta = rate > 0 ? Math.ceil((p.total - p.records) / rate) : undefined
  const pct = p.total === 0 ? 100 : Math.floor((100 * p.records) / p.total)
  const width = 30
  const bar = tty ? `[${'#'.repeat(Math.floor((pct * width) / 100)).padEnd(width, '.')}] ` : ''
  const text = `${bar}${pct}% ${p.records.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} records, ${Math.round(rate).toLocaleString('en-US')} records/s, ETA ${eta === undefined ? '?' : `${eta} s`}`
  return tty ? `\r${text}` : text
}
