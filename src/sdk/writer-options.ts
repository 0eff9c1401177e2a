import { ConfigError } from '../errors.ts'
import type { ClientOptions } from '../kafka/client.ts'
import { DEFAULT_MAX_OFFSET_MS } from '../model/hlc.ts'
import { DC_ID_PATTERN, KEY_SEPARATOR } from '../wire/contract.ts'

/** How the writer writes one topic; it must match the topic's entry in concord's configuration. */
export interface WriterTopic {
  /** The value encoding: `msgpack` (default), `json`, or `raw` (values are Buffers, written as given). */
  readonly codec?: 'msgpack' | 'json' | 'raw'
  /**
   * For a topic whose policy is `counter` with `writerField` set: the two fields, as in concord's configuration.
   * `increment` needs it; `put` of such a topic is refused (a hand-made total would break the count).
   */
  readonly counter?: { readonly field: string, readonly writerField: string }
  /**
   * For a topic whose policy is `union` with `writerField` set: the two fields. `add` and `remove` need it;
   * `put` and `delete` of such a topic are refused.
   */
  readonly set?: { readonly field: string, readonly writerField: string }
}

export interface WriterOptions {
  /** The DC this writer runs in (the key suffix and `x-origin-dc`), one of concord's `dcs`. */
  readonly dc: string
  /** This DC's brokers, `host:port`. */
  readonly brokers: readonly string[]
  /** The topics it writes, each with its codec: the DC's own topics (`orders`), never a remote copy. */
  readonly topics: Readonly<Record<string, WriterTopic>>
  /** Default `concord-writer-<dc>`. */
  readonly clientId?: string
  /** The key's separator before the DC suffix, as concord's `keys.keySeparator` (default `-`). */
  readonly keySeparator?: string
  /** How far the hybrid clock may run ahead of the physical clock, in ms (default 500). */
  readonly maxOffsetMs?: number
  /**
   * Where the clock keeps its high-water mark across restarts. Without it, a writer waits out the maximum
   * offset when it starts, so that it cannot stamp at or before a time an earlier run gave (unless the
   * physical clock itself went back across the restart: only the file catches that).
   */
  readonly clockFile?: string
  /** The largest record (key, value, headers) the writer sends, in bytes (default 1,000,000: under Kafka's 1 MiB default). */
  readonly maxRecordBytes?: number
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  readonly tls?: ClientOptions['tls']
  readonly sasl?: ClientOptions['sasl']
  /** Retries of a failed produce request before the write is refused (default 8). */
  readonly retries?: number
  /** The physical clock, in ms since the epoch (default Date.now; tests inject a fake). */
  readonly physicalClock?: () => number
}

export const DEFAULT_MAX_RECORD_BYTES = 1_000_000

/** The options with their defaults, checked. */
export interface WriterSettings extends WriterOptions {
  readonly clientId: string
  readonly keySeparator: string
  readonly maxOffsetMs: number
  readonly maxRecordBytes: number
  readonly physicalClock: () => number
}

const CODECS = ['msgpack', 'json', 'raw']
const show = (v: unknown): string => v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v)
const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min

/** Checks every option at once; a ConfigError names each bad one and what it expects. */
export function writerSettings (options: WriterOptions): WriterSettings {
  const problems: string[] = []
  const o = options as unknown as Record<string, unknown>
  const known = new Set(['dc', 'brokers', 'topics', 'clientId', 'keySeparator', 'maxOffsetMs', 'clockFile', 'maxRecordBytes', 'compression', 'tls', 'sasl', 'retries', 'physicalClock'])
  for (const key of Object.keys(o)) if (!known.has(key)) problems.push(`"${key}" is not a writer option (options: ${[...known].join(', ')})`)
  if (typeof o.dc !== 'string' || !DC_ID_PATTERN.test(o.dc)) problems.push(`"dc" must be a DC id of 1 to 64 letters, digits and _, got ${show(o.dc)}`)
  if (!Array.isArray(o.brokers) || o.brokers.length === 0 || !o.brokers.every(b => typeof b === 'string' && /^[^\s:]+:\d{1,5}$/.test(b))) {
    problems.push(`"brokers" must be a non-empty list of host:port, got ${show(o.brokers)}`)
  }
  const topics = o.topics
  if (topics === null || typeof topics !== 'object' || Array.isArray(topics) || Object.keys(topics).length === 0) {
    problems.push(`"topics" must map each topic name to its options ({ orders: { codec: 'msgpack' } }), got ${show(topics)}`)
  } else {
    for (const [name, t] of Object.entries(topics as Record<string, unknown>)) problems.push(...topicProblems(name, t))
  }
  if (o.keySeparator !== undefined && (typeof o.keySeparator !== 'string' || o.keySeparator === '')) problems.push(`"keySeparator" must be a non-empty string, got ${show(o.keySeparator)}`)
  if (o.clientId !== undefined && (typeof o.clientId !== 'string' || o.clientId === '')) problems.push(`"clientId" must be a non-empty string, got ${show(o.clientId)}`)
  if (o.maxOffsetMs !== undefined && !isInt(o.maxOffsetMs, 1)) problems.push(`"maxOffsetMs" must be a positive integer of milliseconds, got ${show(o.maxOffsetMs)}`)
  if (o.maxRecordBytes !== undefined && !isInt(o.maxRecordBytes, 64)) problems.push(`"maxRecordBytes" must be an integer of at least 64 bytes, got ${show(o.maxRecordBytes)}`)
  if (o.retries !== undefined && !isInt(o.retries, 0)) problems.push(`"retries" must be a non-negative integer, got ${show(o.retries)}`)
  if (o.clockFile !== undefined && (typeof o.clockFile !== 'string' || o.clockFile === '')) problems.push(`"clockFile" must be a file path, got ${show(o.clockFile)}`)
  if (o.compression !== undefined && !['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(o.compression as string)) {
    problems.push(`"compression" must be one of none, gzip, snappy, lz4, zstd, got ${show(o.compression)}`)
  }
  if (o.physicalClock !== undefined && typeof o.physicalClock !== 'function') problems.push('"physicalClock" must be a function returning milliseconds since the epoch')
  if (problems.length > 0) throw new ConfigError(problems.map(p => `writer: ${p}`))
  return {
    ...options,
    clientId: options.clientId ?? `concord-writer-${options.dc}`,
    keySeparator: options.keySeparator ?? KEY_SEPARATOR,
    maxOffsetMs: options.maxOffsetMs ?? DEFAULT_MAX_OFFSET_MS,
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    physicalClock: options.physicalClock ?? Date.now
  }
}

function topicProblems (name: string, t: unknown): string[] {
  const at = `"topics.${name}"`
  const problems: string[] = []
  // A dot marks a remote copy (`dc2.orders`): a writer writes its own DC's topic, MM2 makes the copies.
  if (!/^[A-Za-z0-9_-]{1,249}$/.test(name)) problems.push(`${at}: a writer writes its DC's own topics, named with letters, digits, _ and - (no dots: a dotted name is a remote copy), got "${name}"`)
  if (t === null || typeof t !== 'object' || Array.isArray(t)) return [...problems, `${at} must be an object such as { codec: 'msgpack' }, got ${show(t)}`]
  const topic = t as Record<string, unknown>
  for (const key of Object.keys(topic)) if (!['codec', 'counter', 'set'].includes(key)) problems.push(`${at}.${key} is not a topic option (options: codec, counter, set)`)
  if (topic.codec !== undefined && !CODECS.includes(topic.codec as string)) problems.push(`${at}.codec must be one of ${CODECS.join(', ')}, got ${show(topic.codec)}`)
  for (const [kind, policy] of [['counter', 'counter'], ['set', 'union']] as const) {
    const c = topic[kind]
    if (c === undefined) continue
    const fields = c as Record<string, unknown> | null
    const named = (key: string): boolean => typeof fields?.[key] === 'string' && fields[key] !== ''
    if (fields === null || typeof fields !== 'object' || !named('field') || !named('writerField') || fields.field === fields.writerField) {
      problems.push(`${at}.${kind} must be { field, writerField }, two different non-empty field names as in the topic's ${policy} policy, got ${show(c)}`)
    }
    if (topic.codec === 'raw') problems.push(`${at}.${kind} needs codec msgpack or json: a ${policy} reads a field of a map value`)
  }
  if (topic.counter !== undefined && topic.set !== undefined) problems.push(`${at} has both counter and set: a topic has one policy`)
  return problems
}
