import { resolve } from 'node:path'
import { Type, type Static, type TSchema } from '../schema/schema.ts'
import { isObject, join } from '../schema/text.ts'
import type { ProblemSink } from '../schema/schema.ts'
import { DC_ID_PATTERN } from '../wire/contract.ts'

/**
 * Every configuration key, declared once: its type, rule, default, meaning and environment variable. The
 * static types, the validation (read.ts), the environment overrides (env.ts) and the README's tables
 * (checked by test/docs.test.ts) all come from this declaration. Units are in the descriptions.
 */

/** The merge policies a configuration may name, each with the schema of its options (`policy: { type, ... }`). */
export type PolicyCatalog = ReadonlyMap<string, { readonly options: TSchema }>

const dcIdExpected = 'a DC id (1 to 64 letters, digits, _)'
const topicNameExpected = 'a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -)'

/** `host:port` where host is a name, an IPv4 address or a bracketed IPv6 address, and port is 1..65535. */
export function isHostPort (s: string): boolean {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$/.exec(s)
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535
}

export function isTopicName (s: string): boolean {
  return /^[A-Za-z0-9._-]{1,249}$/.test(s) && s !== '.' && s !== '..'
}

export const MAX_PEERS = 4
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const dcId = (options: object = {}) => Type.String({ pattern: DC_ID_PATTERN.source, expected: dcIdExpected, ...options })
const text = (options: object) => Type.String(options)
const topicName = (options: object) => Type.String({ expected: topicNameExpected, test: isTopicName, ...options })
/** An optional file path: empty for none, else resolved against the working directory. */
const path = (options: object) => Type.String({
  minLength: 0,
  default: '',
  finish: (p: string) => p === '' ? p : resolve(p),
  docType: 'path',
  docDefault: 'none',
  ...options
})
const oneOf = <const T extends string>(names: readonly T[], options: object) =>
  Type.Union(names.map(n => Type.Literal(n)), options)
/** A default computed from the DC id: undefined while the id is invalid (that problem is reported already). */
const fromDc = (make: (dc: string) => string) =>
  ({ root }: { root: Readonly<Record<string, unknown>> }) => typeof root.dc === 'string' ? make(root.dc) : undefined
const fromTopic = (suffix: string) =>
  ({ parent }: { parent: Readonly<Record<string, unknown>> }) => typeof parent.name === 'string' ? parent.name + suffix : ''

/**
 * `policy: lww`, or `policy: { type: lww, ...options }` with the options that policy declares. Resolved to the
 * mapping form, so the rest of the code reads `policy.type` and the options in one place.
 */
function policySchema (policies: PolicyCatalog) {
  const names = [...policies.keys()]
  const read = (value: unknown, path: string, sink: ProblemSink): unknown => {
    const expected = `one of ${names.join(', ')}`
    const given = typeof value === 'string' ? { type: value } : value
    if (!isObject(given)) return sink.fail(path, `${expected}, or a mapping with "type" and the policy's options`, value)
    const type = given.type
    const policy = typeof type === 'string' ? policies.get(type) : undefined
    if (policy === undefined) return sink.fail(typeof value === 'string' ? path : join(path, 'type'), expected, type)
    const { type: _, ...options } = given
    const resolved = sink.read(policy.options, options, path)
    return resolved === undefined ? undefined : { type, ...(resolved as object) }
  }
  return Type.Object({ type: Type.String() }, {
    additionalProperties: true,
    read,
    docType: 'name or mapping',
    docDefault: 'required',
    description: `merge policy: ${names.map(n => `\`${n}\``).join(', ')} (a name, or \`{ type: <name>, ...options }\`)`
  })
}

export function configSchema (policies: PolicyCatalog) {
  return Type.Object({
    dc: dcId({ description: "this DC's id (1 to 64 letters, digits, `_`)", env: 'CONCORD_DC' }),
    peers: Type.Array(dcId(), {
      minItems: 1,
      maxItems: MAX_PEERS,
      uniqueItems: true,
      expected: `a list of 1 to ${MAX_PEERS} DC ids (2 to 5 DCs in all)`,
      description: `the other DCs (1 to ${MAX_PEERS}); their copies are consumed as \`<peer>.<topic>\``,
      env: 'CONCORD_PEERS',
      envExpected: 'a comma-separated list of DC ids (1 to 64 letters, digits, _)'
    }),
    kafka: Type.Object({
      brokers: Type.Array(text({ expected: 'host:port', test: isHostPort }), {
        minItems: 1,
        expected: 'a non-empty list of host:port',
        docType: 'list of host:port',
        description: 'the local cluster',
        env: 'CONCORD_KAFKA_BROKERS',
        envExpected: 'a comma-separated list of host:port'
      }),
      clientId: text({ derive: fromDc(dc => `concord-${dc}`), docDefault: '`concord-<dc>`', description: 'Kafka client id' }),
      groupId: text({
        derive: fromDc(dc => `concord-${dc}`),
        docDefault: '`concord-<dc>`',
        description: 'consumer group; unique per deployment (deployments sharing a group split the partitions between them)',
        env: 'CONCORD_KAFKA_GROUP_ID'
      }),
      tls: Type.Object({
        enabled: Type.Boolean({ default: false, description: 'connect to the brokers over TLS' }),
        caFile: path({ description: 'PEM file of the CA(s) to trust for the brokers\' certificates; empty: the system\'s CAs' }),
        certFile: path({ description: 'PEM file of this client\'s certificate, for brokers that require one (with `keyFile`)' }),
        keyFile: path({ description: 'PEM file of the private key of `certFile`' })
      }),
      sasl: Type.Object({
        mechanism: oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512'], {
          default: 'none',
          description: 'SASL authentication to the brokers (use with `tls.enabled`: PLAIN sends the password as is)'
        }),
        username: text({ minLength: 0, default: '', docDefault: 'none', description: 'SASL user name', env: 'CONCORD_KAFKA_SASL_USERNAME' }),
        password: text({
          minLength: 0,
          default: '',
          docDefault: 'none',
          secret: true,
          description: 'SASL password (never logged or printed); prefer `passwordFile` or the environment variable',
          env: 'CONCORD_KAFKA_SASL_PASSWORD'
        }),
        passwordFile: path({ description: 'file holding the SASL password (one line; a trailing newline is ignored)' })
      }),
      replicationSeparator: text({
        default: '.',
        pattern: '^[A-Za-z0-9._-]+$',
        expected: 'a non-empty string of A-Z a-z 0-9 . _ -',
        description: 'MM2 `DefaultReplicationPolicy` separator: the copy of `orders` from dc2 is `dc2.orders`'
      })
    }),
    topics: Type.Array(Type.Object({
      name: topicName({ description: 'local source topic' }),
      policy: policySchema(policies),
      keyFormat: oneOf(['suffixed', 'plain'], {
        default: 'suffixed',
        description: 'key layout: `<entityId><keySeparator><dc>` split at the last separator, or the entity id alone'
      }),
      keySeparator: text({ default: '-', description: 'separator before the DC suffix' }),
      timestampSource: oneOf(['header', 'value', 'kafka'], {
        default: 'header',
        description: 'where the write time comes from: the `x-origin-ts` header, a value field, or the Kafka record timestamp'
      }),
      timestampField: text({ default: 'timestamp', description: 'value field (ms since the epoch) when `timestampSource: value`' }),
      codec: oneOf(['msgpack', 'json', 'raw'], { default: 'msgpack', description: 'value encoding (decoded only when needed)' }),
      outputTopic: topicName({ derive: fromTopic('.merged'), docDefault: '`<name>.merged`', description: 'merged changelog topic' }),
      dlqTopic: topicName({ derive: fromTopic('.dlq'), docDefault: '`<name>.dlq`', description: 'dead-letter topic' }),
      conflictTopic: topicName({
        derive: fromTopic('.conflicts'),
        docDefault: '`<name>.conflicts`',
        description: 'conflict feed, local to this DC (never replicate it)'
      }),
      validateValues: Type.Boolean({
        default: true,
        description: 'dead-letter values that are not valid under `codec` (msgpack: a structural scan; json: a parse; raw: nothing), so that no poison value is merged'
      }),
      deleteRule: oneOf(['lww', 'delete-wins'], {
        default: 'lww',
        description: '`lww`: a delete is a write like any other; `delete-wins`: a delete also beats the writes made less than `conflictWindowMs` after it'
      }),
      conflictWindowMs: Type.Integer({
        minimum: 0,
        default: 10_000,
        description: 'ms; live writes of different DCs closer in time than this were most likely made without seeing each other: a conflict'
      }),
      conflictValues: oneOf(['hash', 'value'], {
        default: 'hash',
        description: 'what a conflict record holds of each value: its SHA-256 (`hash`) or its bytes in base64 (`value`)'
      }),
      gcGraceMs: Type.Integer({
        minimum: 1,
        default: 604_800_000,
        description: 'ms (default 7 days); a deleted entity is purged once every DC\'s writes on every partition are this far past its delete, and a write this far behind an earlier one of its DC is dead-lettered'
      }),
      maxValueBytes: Type.Integer({
        minimum: 1,
        default: 1_000_000,
        description: 'bytes; larger values are dead-lettered (the default keeps merged and dead-letter records under Kafka\'s default 1 MiB batch limit)'
      })
    }), { minItems: 1, expected: 'a non-empty list of topics' }),
    store: Type.Object({
      dir: text({
        derive: fromDc(dc => `./data/${dc}`),
        finish: (dir: string) => dir === ':memory:' ? dir : resolve(dir),
        docType: 'path',
        docDefault: '`./data/<dc>`',
        description: 'state folder (`concord.db`, WAL mode), relative to the working directory',
        env: 'CONCORD_STORE_DIR'
      }),
      synchronous: oneOf(['normal', 'full'], {
        default: 'normal',
        description: 'SQLite durability in WAL mode: `normal` survives process crashes, `full` also power loss'
      }),
      cacheMb: Type.Integer({ minimum: 1, default: 64, description: 'SQLite page cache, MiB' }),
      commitIntervalMs: Type.Integer({
        minimum: 1,
        default: 500,
        description: 'ms; while input is behind, batches are absorbed into one commit window for up to this long (a batch that reaches the end of its partition commits at once)'
      }),
      windowRecords: Type.Integer({
        minimum: 1,
        default: 50_000,
        description: 'records; a commit window this large commits at once (bounds the memory of the window)'
      })
    }),
    http: Type.Object({
      host: text({ default: '127.0.0.1', description: 'HTTP listen address', env: 'CONCORD_HTTP_HOST' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port (0 = any free port)', env: 'CONCORD_HTTP_PORT' })
    }),
    metrics: Type.Object({
      lagIntervalMs: Type.Integer({
        minimum: 100,
        default: 5_000,
        description: 'ms; how often the lag of the assigned input partitions (`concord_consumer_lag_records`, readiness) is read from Kafka',
        env: 'CONCORD_METRICS_LAG_INTERVAL_MS'
      })
    }),
    skew: Type.Object({
      warnAheadMs: Type.Integer({
        minimum: 0,
        default: 1_000,
        description: 'ms; a record whose origin timestamp is more than this ahead of the local clock is logged (at most once per source DC per `skew.intervalMs`); observed only, never acted on'
      }),
      intervalMs: Type.Integer({
        minimum: 1_000,
        default: 60_000,
        description: 'ms; the interval of `concord_origin_ahead_max_seconds`, and the shortest time between two skew warnings about one source DC'
      })
    }),
    readiness: Type.Object({
      maxLagRecords: Type.Integer({
        minimum: 0,
        default: 10_000,
        description: 'records; `/readyz` answers 200 only while the lag of the assigned input partitions, summed, is at most this (caught up)',
        env: 'CONCORD_READINESS_MAX_LAG_RECORDS'
      })
    }),
    log: Type.Object({
      level: oneOf(logLevels, { default: 'info', description: 'log level', env: 'CONCORD_LOG_LEVEL' })
    })
  })
}

type DeepReadonly<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<DeepReadonly<U>>
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T

/** The validated configuration: every default applied, deeply frozen. */
export type Config = DeepReadonly<Static<ReturnType<typeof configSchema>>>
export type TopicConfig = Config['topics'][number]

/**
 * Secret keys (a password, a token): declared with `secret: true` among a key's options, e.g.
 * `text({ secret: true, description: 'SASL password' })`. Every printing of the resolved configuration
 * (`concord print-config`, `check-config`) goes through `redactSecrets`, which shows each secret that is
 * set as REDACTED; the value itself is used as is.
 */
export const REDACTED = '[redacted]'

const isSecret = (schema: TSchema): boolean => (schema as { secret?: unknown }).secret === true

/** A copy of `value`, read along `schema`, with every secret key that is set replaced by REDACTED. */
export function redactSecrets (value: unknown, schema: TSchema): unknown {
  if (isSecret(schema)) return value === undefined || value === null || value === '' ? value : REDACTED
  const { properties, items } = schema as { properties?: Readonly<Record<string, TSchema>>, items?: TSchema }
  if (Array.isArray(value)) return items === undefined ? value : value.map(v => redactSecrets(v, items))
  if (properties !== undefined && isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Object.hasOwn(properties, k) ? redactSecrets(v, properties[k]!) : v]))
  }
  return value
}
