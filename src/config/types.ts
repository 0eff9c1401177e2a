/**
 * The validated configuration: what `validateConfig` returns, with every default applied, deeply frozen.
 * The rules each key must satisfy live in validate.ts; the default values in defaults.ts.
 */
export type KeyFormat = 'suffixed' | 'plain'
export type TimestampSource = 'header' | 'value' | 'kafka'
export type ValueCodec = 'msgpack' | 'json' | 'raw'

export interface TopicConfig {
  readonly name: string            // source topic, e.g. 'orders'
  readonly policy: string          // merge policy name; must be a key of `policies` from src/merge/index.ts
  readonly keyFormat: KeyFormat    // default 'suffixed' (`<entityId><sep><dc>`, split at the LAST separator)
  readonly keySeparator: string    // default '-'; non-empty
  readonly timestampSource: TimestampSource  // default 'header' (x-origin-ts)
  readonly timestampField: string  // default 'timestamp'; used when timestampSource is 'value'
  readonly codec: ValueCodec       // default 'msgpack'
  readonly outputTopic: string     // default `${name}.merged`
  readonly dlqTopic: string        // default `${name}.dlq`
  readonly maxValueBytes: number   // default 1000000; integer >= 1
}

export interface Config {
  readonly dc: string              // this datacenter's id
  readonly peers: readonly string[]   // the other DCs (1 to 4 of them: 2–5 DCs in all)
  readonly kafka: {
    readonly brokers: readonly string[]   // host:port, non-empty
    readonly clientId: string             // default `concord-${dc}`
    readonly groupId: string              // default `concord-${dc}`
    readonly replicationSeparator: string // default '.', MM2 DefaultReplicationPolicy separator
  }
  readonly topics: readonly TopicConfig[] // non-empty
  readonly store: {
    readonly dir: string            // default './data/${dc}'  (resolved to an absolute path)
    readonly synchronous: 'normal' | 'full'  // SQLite synchronous pragma in WAL mode, default 'normal'
    readonly cacheMb: number        // SQLite page cache, default 64, integer >= 1
  }
  readonly http: { readonly host: string; readonly port: number }  // default '127.0.0.1', 8080; port 0..65535 (0 = any free port)
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }  // default 'info'
}
