/**
 * Every error concord raises, each with a stable code. The README's error table is checked against this file
 * (test/errors.test.ts), so a new class needs a row there too.
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

/** A record violates the wire contract; it goes to the dead-letter topic with this message as the reason. */
export class RecordError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_RECORD'
}

/** The state store cannot be opened, migrated or written. */
export class StoreError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_STORE'
}

/** A Kafka operation failed (connection, produce, admin); usually retriable. */
export class KafkaError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_KAFKA'
  static override readonly retriable = true
}

/** The two-datacenter lab could not be set up, started or stopped. */
export class LabError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_LAB'
}

/** The command line is invalid. */
export class UsageError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_USAGE'
}

export const errorClasses = [ConfigError, RecordError, StoreError, KafkaError, LabError, UsageError] as const
