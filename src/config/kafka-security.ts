import { readFileSync } from 'node:fs'
import { ConfigError } from '../errors.ts'
import type { Config } from './schema.ts'

/** What the Kafka client needs for TLS and SASL, the files read. Holds a secret: never log or print it. */
export interface KafkaSecurity {
  /** Absent: plaintext. `ca` absent: the system's CAs. */
  readonly tls?: { readonly ca?: string, readonly cert?: string, readonly key?: string }
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', readonly username: string, readonly password: string }
}

/**
 * Reads the files that `kafka.tls` and `kafka.sasl` name (the config itself holds paths, never their
 * contents). A file that cannot be read is a ConfigError naming its key; every such problem at once.
 */
export function readKafkaSecurity (kafka: Config['kafka'], read: (file: string) => string = file => readFileSync(file, 'utf8')): KafkaSecurity {
  const problems: string[] = []
  const file = (key: string, path: string): string | undefined => {
    if (path === '') return undefined
    try {
      return read(path)
    } catch (err) {
      problems.push(`"kafka.${key}" must be a readable file, got "${path}" (${(err as Error).message})`)
      return undefined
    }
  }
  const { tls, sasl } = kafka
  const ca = file('tls.caFile', tls.caFile)
  const cert = file('tls.certFile', tls.certFile)
  const key = file('tls.keyFile', tls.keyFile)
  const fromFile = file('sasl.passwordFile', sasl.passwordFile)
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    ...(tls.enabled ? { tls: { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) } } : {}),
    ...(sasl.mechanism === 'none'
      ? {}
      : { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: fromFile === undefined ? sasl.password : fromFile.replace(/\r?\n$/, '') } })
  }
}
