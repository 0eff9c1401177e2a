import type { Config, TopicConfig } from './types.ts'

/**
 * Every default in one place. A default that depends on another key (the DC id, the topic name) is a function of
 * it. `validateConfig` applies these, so the rest of the code never sees a missing key.
 */
export const defaults = Object.freeze({
  kafka: Object.freeze({
    clientId: (dc: string): string => `concord-${dc}`,
    groupId: (dc: string): string => `concord-${dc}`,
    /** MirrorMaker 2 DefaultReplicationPolicy: the copy of `orders` from dc2 is `dc2.orders`. */
    replicationSeparator: '.'
  }),
  topic: Object.freeze({
    keyFormat: 'suffixed',
    keySeparator: '-',
    /** 'header' reads the x-origin-ts header (milliseconds since the Unix epoch). */
    timestampSource: 'header',
    /** Field of the decoded value holding the timestamp (ms since the epoch); read only when timestampSource is 'value'. */
    timestampField: 'timestamp',
    codec: 'msgpack',
    outputTopic: (name: string): string => `${name}.merged`,
    dlqTopic: (name: string): string => `${name}.dlq`,
    /** bytes; larger values go to the dead-letter topic. 1,000,000 leaves room for the key and headers
     *  under Kafka's default 1 MiB record-batch limit, so merged and dead-letter records still fit. */
    maxValueBytes: 1_000_000
  }),
  store: Object.freeze({
    /** Relative to the working directory; resolved to an absolute path. */
    dir: (dc: string): string => `./data/${dc}`,
    /** SQLite `PRAGMA synchronous` in WAL mode: 'normal' may lose the last commits on power loss, never corrupts. */
    synchronous: 'normal',
    /** mebibytes of SQLite page cache. */
    cacheMb: 64
  }),
  http: Object.freeze({
    host: '127.0.0.1',
    /** TCP port; 0 picks any free port. */
    port: 8080
  }),
  log: Object.freeze({
    level: 'info'
  })
} as const satisfies {
  kafka: { [K in keyof Config['kafka']]?: Config['kafka'][K] | ((dc: string) => string) }
  topic: { [K in keyof TopicConfig]?: TopicConfig[K] | ((name: string) => string) }
  store: { [K in keyof Config['store']]?: Config['store'][K] | ((dc: string) => string) }
  http: Config['http']
  log: Config['log']
})
