import { ConfigError } from '../errors.ts'
import { Reader } from '../schema/read.ts'
import { deepFreeze, show } from '../schema/text.ts'
import { configSchema, isTopicName, type Config, type PolicyCatalog } from './schema.ts'
import { remoteTopic } from '../wire/contract.ts'

export interface ValidateOptions {
  /** The merge policies a topic may name, with their options (src/merge/index.ts); injected, not imported. */
  readonly policies: PolicyCatalog
  /** A file name that prefixes each problem. */
  readonly source?: string
}

type Loose = Readonly<Record<string, unknown>>
const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined

/** Rules that relate the TLS and SASL keys: a file or a credential given needs the feature it belongs to, and the reverse. */
function checkSecurity (r: Reader, kafka: Loose): void {
  const tls = (kafka.tls ?? {}) as Loose
  const sasl = (kafka.sasl ?? {}) as Loose
  const given = (v: unknown): boolean => typeof v === 'string' && v !== ''
  if (tls.enabled === false) {
    for (const key of ['caFile', 'certFile', 'keyFile']) {
      if (given(tls[key])) r.problems.push(`"kafka.tls.${key}" is set but "kafka.tls.enabled" is false: set it to true, or leave the file out`)
    }
  }
  if (given(tls.certFile) !== given(tls.keyFile)) {
    r.problems.push('"kafka.tls.certFile" and "kafka.tls.keyFile" go together: give both (a client certificate and its key) or neither')
  }
  const mechanism = str(sasl.mechanism)
  if (mechanism === undefined) return
  if (mechanism === 'none') {
    for (const key of ['username', 'password', 'passwordFile']) {
      if (given(sasl[key])) r.problems.push(`"kafka.sasl.${key}" is set but "kafka.sasl.mechanism" is none: choose plain, scram-sha-256 or scram-sha-512`)
    }
    return
  }
  if (!given(sasl.username)) r.problems.push(`"kafka.sasl.username" must be a non-empty string when "kafka.sasl.mechanism" is ${mechanism}`)
  if (given(sasl.password) === given(sasl.passwordFile)) {
    r.problems.push(`"kafka.sasl.password" or "kafka.sasl.passwordFile" (exactly one of them) must be given when "kafka.sasl.mechanism" is ${mechanism}` +
      (given(sasl.password) ? ', got both' : ''))
  }
}

/** Rules that relate DC ids, separators, codecs and topic names across the whole configuration. */
function checkRelations (r: Reader, c: Loose): void {
  checkSecurity(r, (c.kafka ?? {}) as Loose)
  const dc = str(c.dc)
  const peers = (Array.isArray(c.peers) ? c.peers : []).map(str)
  const sep = str((c.kafka as Loose).replicationSeparator)
  const topics = (Array.isArray(c.topics) ? c.topics : []) as ReadonlyArray<Loose | undefined>
  peers.forEach((p, i) => { if (p !== undefined && p === dc) r.fail(`peers[${i}]`, 'another DC than "dc"', p) })
  topics.forEach((t, i) => {
    if (t?.timestampSource === 'value' && t.codec === 'raw') {
      r.fail(`topics[${i}].timestampSource`, `header or kafka when "topics[${i}].codec" is raw (raw values cannot be read)`, 'value')
    }
  })

  const ids = [['dc', dc], ...peers.map((p, i) => [`peers[${i}]`, p])].filter(
    (e): e is [string, string] => e[1] !== undefined)
  const separators: Array<[string, string | undefined]> = [['kafka.replicationSeparator', sep],
    ...topics.map((t, i): [string, string | undefined] => [`topics[${i}].keySeparator`, str(t?.keySeparator)])]
  for (const [path, id] of ids) {
    for (const [key, s] of separators) {
      if (s !== undefined && id.includes(s)) r.problems.push(`"${path}" must not contain "${key}" (${show(s)}), got ${show(id)}`)
    }
  }
  const inputs = new Map<string, string>()
  const locals = new Set<string>()
  topics.forEach((t, i) => {
    const name = str(t?.name)
    if (name === undefined) return
    const path = `topics[${i}].name`
    if (locals.has(name)) r.fail(path, 'unique', name)
    locals.add(name)
    inputs.set(name, `"${path}"`)
    if (sep === undefined) return
    for (const [idPath, id] of ids) {
      if (name.startsWith(id + sep)) r.fail(path, `a local topic, not ${id}'s remote copy "${id}${sep}..."`, name)
      if (idPath === 'dc') continue
      const remote = remoteTopic(id, sep, name)
      if (!isTopicName(remote)) r.fail(path, `at most ${249 - (id + sep).length} characters, for ${id}'s copy to fit Kafka's 249`, name)
      if (!inputs.has(remote)) inputs.set(remote, `${id}'s copy of "${path}"`)
    }
  })
  const outputs = new Map<string, string>()
  topics.forEach((t, i) => {
    for (const key of ['outputTopic', 'dlqTopic', 'conflictTopic'] as const) {
      const name = str(t?.[key])
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

/**
 * Checks a parsed configuration against the schema (src/config/schema.ts) and the rules relating its keys,
 * applies the defaults and returns it deeply frozen. Throws one ConfigError listing every problem, each naming
 * its key path, the expected value and what it got.
 */
export function validateConfig (raw: unknown, options: ValidateOptions): Config {
  const r = new Reader()
  const resolved = r.readRoot(configSchema(options.policies), raw)
  if (resolved !== undefined) checkRelations(r, resolved)
  if (r.problems.length > 0) {
    const { source } = options
    throw new ConfigError(source === undefined ? r.problems : r.problems.map(p => `${source}: ${p}`))
  }
  return deepFreeze(resolved as unknown as Config)
}
