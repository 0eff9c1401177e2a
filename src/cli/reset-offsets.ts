import type { Config } from '../config/schema.ts'
import { UsageError } from '../errors.ts'
import { connectAdmin, type KafkaAdmin } from '../kafka/admin.ts'
import { openDatabase } from '../store/open.ts'
import { SqliteStateStore } from '../store/sqlite-state-store.ts'
import type { OffsetWrite } from '../store/state-store.ts'
import { remoteTopic } from '../wire/contract.ts'
import { commandClient } from './kafka-client.ts'

/** Where `reset-offsets --to` moves every input partition. */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp', readonly ts: number }

/** `earliest`, `latest`, or a time: ms since the epoch or an ISO 8601 date-time with its zone (`2026-12-01T10:00:00Z`). */
export function parseResetTarget (text: string): ResetTarget {
  if (text === 'earliest' || text === 'latest') return { kind: text }
  const ts = /^[0-9]+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN
  if (!Number.isSafeInteger(ts)) {
    throw new UsageError(`--to must be earliest, latest, ms since the epoch or an ISO 8601 date-time with its zone (2026-12-01T10:00:00Z), got "${text}"`)
  }
  return { kind: 'timestamp', ts }
}

/** One input partition's move: the position the store holds (undefined: none yet) and the new one. */
export interface OffsetChange {
  readonly topic: string
  readonly partition: number
  readonly from: number | undefined
  readonly to: number
}

/**
 * The position of every partition of the input topics after the reset, beside the one the store holds.
 * A topic missing from the cluster is skipped (reported by the caller). Nothing is written.
 */
export async function planReset (
  inputs: readonly string[],
  held: ReadonlyMap<string, number>,
  admin: Pick<KafkaAdmin, 'partitionCounts' | 'logOffsets' | 'offsetsAt'>,
  target: ResetTarget
): Promise<{ changes: OffsetChange[], missing: string[] }> {
  const changes: OffsetChange[] = []
  const existing = await admin.partitionCounts(inputs)
  const missing = inputs.filter(t => !existing.has(t))
  for (const topic of inputs.filter(t => existing.has(t))) {
    const range = await admin.logOffsets(topic)
    const at = target.kind === 'timestamp' ? await admin.offsetsAt(topic, target.ts) : undefined
    for (const [partition, { low, high }] of [...range].sort((a, b) => a[0] - b[0])) {
      const to = target.kind === 'earliest' ? low : target.kind === 'latest' ? high : (at?.get(partition) ?? high)
      changes.push({ topic, partition, from: held.get(`${topic}:${partition}`), to: Number(to) })
    }
  }
  return { changes, missing }
}

/** The changes as the store's offset writes. */
export const offsetWrites = (changes: readonly OffsetChange[]): OffsetWrite[] =>
  changes.map(c => ({ topic: c.topic, partition: c.partition, nextOffset: c.to }))

/** Human output: one line per partition, `topic:partition  from -> to`, and what was (or would be) done. */
export function describeReset (changes: readonly OffsetChange[], missing: readonly string[], executed: boolean): string {
  const width = Math.max(0, ...changes.map(c => `${c.topic}:${c.partition}`.length))
  const lines = changes.map(c => `${`${c.topic}:${c.partition}`.padEnd(width)}  ${c.from === undefined ? '(none)' : c.from} -> ${c.to}${c.from === c.to ? ' (unchanged)' : ''}`)
  for (const t of missing) lines.push(`${t}: not in the cluster, skipped`)
  const moved = changes.filter(c => c.from !== c.to).length
  lines.push(executed
    ? `reset ${moved} of ${changes.length} partitions in the state store; concord resumes from there at its next start`
    : `dry run: ${moved} of ${changes.length} partitions would move; run again with --execute to write them to the state store`)
  return lines.join('\n')
}

/** Every input topic of the configuration: each local topic and each peer's copy of it. */
export const inputTopicsOf = (config: Config): string[] =>
  config.topics.flatMap(t => [t.name, ...config.peers.map(peer => remoteTopic(peer, config.kafka.replicationSeparator, t.name))])

/**
 * `concord reset-offsets`: moves the positions concord resumes from (the state store's, which it trusts over
 * Kafka's committed offsets) for every input partition, to the earliest or latest offset or the first at a
 * time. Opens the state folder with its owner lock, so it is refused while a processor runs on it. A dry run
 * unless `execute`; state and outbox are left as they are (records consumed again are absorbed as duplicates).
 */
export async function resetOffsets (config: Config, target: ResetTarget, execute: boolean): Promise<{ changes: OffsetChange[], missing: string[] }> {
  const store = new SqliteStateStore(openDatabase(config.store))
  try {
    const admin = await connectAdmin(commandClient(config))
    try {
      const plan = await planReset(inputTopicsOf(config), store.offsets(), admin, target)
      if (execute) store.commit({ entities: [], outbox: [], offsets: offsetWrites(plan.changes), watermarks: [] })
      return plan
    } finally {
      await admin.close()
    }
  } finally {
    store.close()
  }
}
