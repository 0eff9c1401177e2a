import kafkajs from './kafkajs.ts'
import type { Kafka, SASLOptions } from 'kafkajs'
import { registerCodecs } from './compression.ts'

const { Kafka: KafkaClient, logLevel } = kafkajs

export interface ClientOptions {
  readonly brokers: readonly string[]
  readonly clientId: string
  /** Receives kafkajs' own warnings and errors; silent when omitted. */
  readonly onLog?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void
  /** The longest wait between two retries of a request or connection, in ms (default 5,000). */
  readonly retryTimeMs?: number
  /** Retries of a request or connection before it fails (default 8: about 15 s against a refusing broker). */
  readonly retries?: number
  /** TLS to the brokers: PEM texts; `ca` absent trusts the system's CAs. Absent: plaintext. */
  readonly tls?: { readonly ca?: string, readonly cert?: string, readonly key?: string }
  /** SASL authentication; absent: none. */
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', readonly username: string, readonly password: string }
}

/** A kafkajs client with the snappy, lz4 and zstd codecs registered. Internal to src/kafka. */
export function createClient (options: ClientOptions): Kafka {
  registerCodecs()
  const onLog = options.onLog
  return new KafkaClient({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...(options.tls === undefined ? {} : { ssl: { ...options.tls, rejectUnauthorized: true } }),
    ...(options.sasl === undefined ? {} : { sasl: { ...options.sasl } as SASLOptions }),
    logLevel: onLog === undefined ? logLevel.NOTHING : logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      if (onLog === undefined) return
      const { message, ...extra } = log
      onLog(level === logLevel.ERROR ? 'error' : 'warn', String(message), extra)
    },
    retry: { initialRetryTime: 100, retries: options.retries ?? 8, maxRetryTime: options.retryTimeMs ?? 5_000 }
  })
}
