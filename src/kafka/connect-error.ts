/** Node's codes for a certificate that the client's trusted CAs did not sign. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED'
])

interface Cause { readonly name?: string, readonly code?: string, readonly message?: string, readonly cause?: unknown, readonly originalError?: unknown }

/**
 * Why a connection failed, naming the configuration to look at when the reason is security: kafkajs wraps
 * the socket's or the broker's error (`cause`, `originalError`), so the chain is searched for a known one.
 * Undefined when nothing in the chain is one: the broker is unreachable, or the reason is kafkajs' own message.
 */
function securityReason (err: unknown): string | undefined {
  for (let e = err as Cause | undefined, depth = 0; e !== undefined && e !== null && depth < 5; e = (e.cause ?? e.originalError) as Cause | undefined, depth++) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      return `SASL authentication failed: check kafka.sasl.username and the password (${e.message ?? ''})`
    }
    if (e.code !== undefined && UNTRUSTED.has(e.code)) {
      return `the broker's TLS certificate is not trusted (${e.code}): kafka.tls.caFile must name the CA that signed it`
    }
    if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `the broker's TLS certificate is not for the host in kafka.brokers (${e.message ?? e.code})`
    }
    if (e.code === 'CERT_HAS_EXPIRED') return 'the broker\'s TLS certificate has expired'
  }
  return undefined
}

/**
 * The message of a failed connect's KafkaError: `<what> <brokers>`, and why when the reason is TLS or SASL (a
 * wrong password or an untrusted certificate fails at start-up, saying so); an unreachable cluster keeps the
 * short message (the cause is chained to the error).
 */
export function connectFailureMessage (what: string, brokers: readonly string[], err: unknown): string {
  const reason = securityReason(err)
  return `${what} ${brokers.join(',')}${reason === undefined ? '' : `: ${reason}`}`
}
