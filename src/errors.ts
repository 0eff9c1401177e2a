/**
 * Every error concord raises, each with a stable code and whether retrying can help. The README's error table
 * is checked against this file (test/docs.test.ts), so a new class needs a row there too; a test also checks
 * that src/ throws nothing but these.
 */
export class ConcordError extends Error {
  static readonly code: string = 'CONCORD_ERR'
  /** Whether retrying the same operation may succeed (a broker outage) or never will (a bad config). */
  static readonly retriable: boolean = false
  get code (): string { return (this.constructor as typeof ConcordError).code }
  get retriable (): boolean { return (this.constructor as typeof ConcordError).retriable }
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The configuration is invalid; `problems` lists every problem found, each naming its key. */
export class ConfigError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_CONFIG'
  readonly problems: readonly string[]
  constructor (problems: readonly string[], options?: ErrorOptions) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, options)
    this.problems = problems
  }
}

/**
 * A record violates the wire contract. Never thrown: it travels with the record to the dead-letter topic,
 * whose headers carry its class name and message (the reason).
 */
export class RecordError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_RECORD'
}

/** The state store cannot be opened, migrated or written. */
export class StoreError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_STORE'
}

/** A Kafka operation failed (connection, produce, admin); retrying may succeed once the cluster is back. */
export class KafkaError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_KAFKA'
  static override readonly retriable = true
}

/** A compressed record batch cannot be decoded: fetching the same bytes again cannot help. */
export class CompressionError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_COMPRESSION'
}

/** The HTTP server cannot listen on its address (a port in use, an address not on this host). */
export class HttpError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_HTTP'
}

/** concord broke one of its own invariants: a bug, to be reported with the message. */
export class InternalError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_INTERNAL'
}

/**
 * A custom merge policy's module broke its contract at commit: resolve failed on a stored state that resolved
 * when it was stored (the module changed, or is impure). Retrying the batch fails the same way.
 */
export class PolicyError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_POLICY'
}

/**
 * A state query has no answer: an unknown topic or entity (`concord inspect`), or a processor's HTTP endpoint
 * that cannot be reached or answers an error (`concord inspect --url`, `concord verify`). Retrying may help:
 * the entity may arrive, the endpoint come back.
 */
export class QueryError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_QUERY'
  static override readonly retriable = true
}

/**
 * A writer's hybrid logical clock would have to run further ahead of the physical clock than its maximum
 * offset (the clock stepped backwards, or a time observed is too far ahead): the writer refuses to stamp a
 * write rather than misorder it. Retrying may succeed once the physical clock has caught up.
 */
export class ClockError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_CLOCK'
  static override readonly retriable = true
}

/**
 * A writer refuses a call: an unknown topic, an entity id or value it cannot write, a value over the size
 * limit, a writer that is closed, a counter that another writer of the same DC took over.
 */
export class WriterError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_WRITER'
}

/** The command line is invalid. */
export class UsageError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_USAGE'
}

export const errorClasses = [ConfigError, RecordError, StoreError, KafkaError, CompressionError, HttpError, PolicyError, QueryError, ClockError, WriterError, UsageError, InternalError] as const
