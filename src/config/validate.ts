import { resolve } from 'node:path'
import { ConfigError } from '../errors.ts'
import { policies } from '../merge/index.ts'
import { defaults } from './defaults.ts'
import type { Config, KeyFormat, TimestampSource, TopicConfig, ValueCodec } from './types.ts'

/** DC ids appear in topic prefixes (`dc2.orders`) and key suffixes (`42-dc2`), so they stay plain. */
export const dcIdPattern = /^[A-Za-z0-9_]{1,64}$/
export const dcIdExpected = 'a DC id (1 to 64 letters, digits, _)'
const topicNameExpected = 'a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -)'
export const hostPortExpected = 'host:port'
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const maxPeers = 4

const keys = {
  root: ['dc', 'peers', 'kafka', 'topics', 'store', 'http', 'log'],
  kafka: ['brokers', 'clientId', 'groupId', 'replicationSeparator'],
  topic: ['name', 'policy', ...Object.keys(defaults.topic)],
  store: ['dir', 'synchronous', 'cacheMb'],
  http: ['host', 'port'],
  log: ['level']
}

/** `host:port` where host is a name, an IPv4 address or a bracketed IPv6 address, and port is 1..65535. */
export function isHostPort (s: string): boolean {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$/.exec(s)
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535
}

function isTopicName (s: string): boolean {
  return /^[A-Za-z0-9._-]{1,249}$/.test(s) && s !== '.' && s !== '..'
}

/** How a bad value is quoted in a message: JSON, cut short, and `nothing` when the key is missing. */
export function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  const json = JSON.stringify(v) ?? String(v)
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}

/** The known key closest to a misspelt one by edit distance (case ignored), if close enough to be a typo. */
export function suggest (key: string, known: readonly string[]): string | undefined {
  const a = key.toLowerCase()
  let best: string | undefined
  let bestDistance = (a.length <= 3 ? 1 : Math.max(2, Math.floor(a.length / 3))) + 1
  for (const k of known) {
    const b = k.toLowerCase()
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const row = [i]
      for (let j = 1; j <= b.length; j++) {
        row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
      }
      prev = row
    }
    const d = prev[b.length] ?? 0
    if (d < bestDistance) { best = k; bestDistance = d }
  }
  return best
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`

/**
 * Each reader checks one value, records a problem naming its key path, and returns the value, its default when
 * missing or null, or undefined when invalid (so rules relating several keys skip it rather than pile up noise).
 */
class Reader {
  readonly problems: string[] = []

  fail (path: string, expected: string, got: unknown): undefined {
    this.problems.push(`"${path}" must be ${expected}, got ${show(got)}`)
    return undefined
  }

  object (path: string, v: unknown, known: readonly string[], required = false): Record<string, unknown> | undefined {
    if ((v === undefined || v === null) && !required) return {}
    const what = path === '' ? 'the configuration' : `"${path}"`
    if (!isObject(v)) {
      this.problems.push(`${what} must be a mapping with keys ${known.join(', ')}, got ${show(v)}`)
      return undefined
    }
    for (const key of Object.keys(v)) {
      if (known.includes(key)) continue
      const hint = suggest(key, known)
      const near = hint === undefined ? '' : ` (did you mean "${join(path, hint)}"?)`
      this.problems.push(`unknown key "${join(path, key)}"${near}`)
    }
    return v
  }

  string (path: string, v: unknown, fallback: string | undefined, expected = 'a non-empty string',
    test: (s: string) => boolean = () => true): string | undefined {
    if ((v === undefined || v === null) && fallback !== undefined) return fallback
    if (typeof v !== 'string' || v === '' || !test(v)) return this.fail(path, expected, v)
    return v
  }

  oneOf<T extends string> (path: string, v: unknown, allowed: readonly T[], fallback?: T): T | undefined {
    if ((v === undefined || v === null) && fallback !== undefined) return fallback
    if (allowed.includes(v as T)) return v as T
    return this.fail(path, `one of ${allowed.join(', ')}`, v)
  }

  integer (path: string, v: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (v === undefined || v === null) return fallback
    if (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max) return v as number
    return this.fail(path, `an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`}`, v)
  }

  /** A list of distinct strings, index for index; an invalid or repeated item is a problem and undefined. */
  strings (path: string, v: unknown, max: number, expected: string, itemExpected: string,
    test: (s: string) => boolean): Array<string | undefined> {
    if (!Array.isArray(v) || v.length < 1 || v.length > max) return this.fail(path, expected, v) ?? []
    const seen = new Set<string>()
    return v.map((item: unknown, i) => {
      const s = this.string(join(path, i), item, undefined, itemExpected, test)
      if (s === undefined) return undefined
      if (seen.has(s)) return this.fail(join(path, i), 'unique', s)
      seen.add(s)
      return s
    })
  }
}

type Loose<T> = { -readonly [K in keyof T]: T[K] | undefined }

function readTopic (r: Reader, path: string, v: unknown): Loose<TopicConfig> | undefined {
  const t = r.object(path, v, keys.topic, true)
  if (t === undefined) return undefined
  const d = defaults.topic
  const name = r.string(join(path, 'name'), t.name, undefined, topicNameExpected, isTopicName)
  const codec = r.oneOf(join(path, 'codec'), t.codec, ['msgpack', 'json', 'raw'] satisfies ValueCodec[], d.codec)
  const timestampSource = r.oneOf(join(path, 'timestampSource'), t.timestampSource,
    ['header', 'value', 'kafka'] satisfies TimestampSource[], d.timestampSource)
  if (timestampSource === 'value' && codec === 'raw') {
    r.fail(join(path, 'timestampSource'), `header or kafka when "${join(path, 'codec')}" is raw (raw values cannot be read)`, 'value')
  }
  const derived = (key: 'outputTopic' | 'dlqTopic'): string | undefined =>
    r.string(join(path, key), t[key], name === undefined ? '' : d[key](name), topicNameExpected, isTopicName)
  return {
    name,
    policy: r.oneOf(join(path, 'policy'), t.policy, [...policies.keys()]),
    keyFormat: r.oneOf(join(path, 'keyFormat'), t.keyFormat, ['suffixed', 'plain'] satisfies KeyFormat[], d.keyFormat),
    keySeparator: r.string(join(path, 'keySeparator'), t.keySeparator, d.keySeparator),
    timestampSource,
    timestampField: r.string(join(path, 'timestampField'), t.timestampField, d.timestampField),
    codec,
    outputTopic: derived('outputTopic'),
    dlqTopic: derived('dlqTopic'),
    maxValueBytes: r.integer(join(path, 'maxValueBytes'), t.maxValueBytes, d.maxValueBytes, 1)
  }
}

/** Rules that relate DC ids, separators and topic names across the whole configuration. */
function checkNames (r: Reader, dc: string | undefined, peers: ReadonlyArray<string | undefined>,
  sep: string | undefined, topics: ReadonlyArray<Loose<TopicConfig> | undefined>): void {
  const ids = [['dc', dc], ...peers.map((p, i) => [`peers[${i}]`, p])].filter(
    (e): e is [string, string] => e[1] !== undefined)
  const separators: Array<[string, string | undefined]> = [['kafka.replicationSeparator', sep],
    ...topics.map((t, i): [string, string | undefined] => [`topics[${i}].keySeparator`, t?.keySeparator])]
  for (const [path, id] of ids) {
    for (const [key, s] of separators) {
      if (s !== undefined && id.includes(s)) r.problems.push(`"${path}" must not contain "${key}" (${show(s)}), got ${show(id)}`)
    }
  }
  const inputs = new Map<string, string>()
  const locals = new Set<string>()
  topics.forEach((t, i) => {
    if (t?.name === undefined) return
    const path = `topics[${i}].name`
    if (locals.has(t.name)) r.fail(path, 'unique', t.name)
    locals.add(t.name)
    inputs.set(t.name, `"${path}"`)
    if (sep === undefined) return
    for (const [idPath, id] of ids) {
      if (t.name.startsWith(id + sep)) r.fail(path, `a local topic, not ${id}'s remote copy "${id}${sep}..."`, t.name)
      if (idPath === 'dc') continue
      const remote = id + sep + t.name
      if (!isTopicName(remote)) r.fail(path, `at most ${249 - (id + sep).length} characters, for ${id}'s copy to fit Kafka's 249`, t.name)
      if (!inputs.has(remote)) inputs.set(remote, `${id}'s copy of "${path}"`)
    }
  })
  const outputs = new Map<string, string>()
  topics.forEach((t, i) => {
    for (const key of ['outputTopic', 'dlqTopic'] as const) {
      const name = t?.[key]
      if (name === undefined || name === '') continue
      const path = `topics[${i}].${key}`
      const input = inputs.get(name)
      const output = outputs.get(name)
      if (input !== undefined) r.problems.push(`"${path}" must differ from every input topic, got ${show(name)} (${input})`)
      else if (output !== undefined) r.problems.push(`"${path}" must differ from "${output}", got ${show(name)}`)
      outputs.set(name, path)
    }
  })
}

function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child)
    Object.freeze(v)
  }
  return v
}

/**
 * Checks a parsed configuration against every rule, applies the defaults and returns it deeply frozen. Throws one
 * ConfigError listing every problem, each naming its key path, the expected value and what it got; `source` (a
 * file name) prefixes each problem.
 */
export function validateConfig (raw: unknown, source?: string): Config {
  const r = new Reader()
  const error = (): ConfigError => new ConfigError(source === undefined ? r.problems : r.problems.map(p => `${source}: ${p}`))
  const root = r.object('', raw, keys.root, true)
  if (root === undefined) throw error()
  const dc = r.string('dc', root.dc, undefined, dcIdExpected, s => dcIdPattern.test(s))
  const peers = r.strings('peers', root.peers, maxPeers, `a list of 1 to ${maxPeers} DC ids (2 to 5 DCs in all)`,
    dcIdExpected, s => dcIdPattern.test(s))
  peers.forEach((p, i) => { if (p !== undefined && p === dc) r.fail(`peers[${i}]`, 'another DC than "dc"', p) })

  const k = r.object('kafka', root.kafka, keys.kafka) ?? {}
  const brokers = r.strings('kafka.brokers', k.brokers, Infinity, 'a non-empty list of host:port', hostPortExpected,
    isHostPort)
  const kd = defaults.kafka
  const replicationSeparator = r.string('kafka.replicationSeparator', k.replicationSeparator, kd.replicationSeparator,
    'a non-empty string of A-Z a-z 0-9 . _ -', s => /^[A-Za-z0-9._-]+$/.test(s))

  const topicList: unknown[] = Array.isArray(root.topics) && root.topics.length > 0 ? root.topics
    : r.fail('topics', 'a non-empty list of topics', root.topics) ?? []
  const topics = topicList.map((t, i) => readTopic(r, `topics[${i}]`, t))
  checkNames(r, dc, peers, replicationSeparator, topics)

  const s = r.object('store', root.store, keys.store) ?? {}
  const h = r.object('http', root.http, keys.http) ?? {}
  const l = r.object('log', root.log, keys.log) ?? {}
  const dir = r.string('store.dir', s.dir, defaults.store.dir(dc ?? ''))
  const config: Loose<Config> = {
    dc,
    peers: peers as string[],
    kafka: {
      brokers: brokers as string[],
      clientId: r.string('kafka.clientId', k.clientId, kd.clientId(dc ?? '')),
      groupId: r.string('kafka.groupId', k.groupId, kd.groupId(dc ?? '')),
      replicationSeparator
    } as Config['kafka'],
    topics: topics as TopicConfig[],
    store: {
      dir: dir === undefined ? '' : dir === ':memory:' ? dir : resolve(dir),
      synchronous: r.oneOf('store.synchronous', s.synchronous, ['normal', 'full'], defaults.store.synchronous),
      cacheMb: r.integer('store.cacheMb', s.cacheMb, defaults.store.cacheMb, 1)
    } as Config['store'],
    http: {
      host: r.string('http.host', h.host, defaults.http.host),
      port: r.integer('http.port', h.port, defaults.http.port, 0, 65535)
    } as Config['http'],
    log: { level: r.oneOf('log.level', l.level, logLevels, defaults.log.level) } as Config['log']
  }
  if (r.problems.length > 0) throw error()
  return deepFreeze(config as Config)
}
