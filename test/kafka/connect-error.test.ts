import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectFailureMessage } from '../../src/kafka/connect-error.ts'

/** Errors shaped as kafkajs raised them against the lab's secure broker (test/integration/security.itest.ts). */
const named = (name: string, message: string, extra: object = {}): Error => Object.assign(new Error(message), { name }, extra)

test('a wrong password says SASL authentication failed and names the keys to check', () => {
  assert.equal(connectFailureMessage('cannot connect to Kafka at', ['b:1'], named('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: invalid credentials')), 'cannot connect to Kafka at b:1: SASL authentication failed: check kafka.sasl.username and the password (SASL SCRAM SHA512 authentication failed: invalid credentials)')
})

test('an untrusted certificate, found under the retries wrapper, names kafka.tls.caFile', () => {
  const socket = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })
  const connection = named('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' })
  const retries = named('KafkaJSNumberOfRetriesExceeded', 'Connection error', { cause: connection, originalError: socket })
  assert.equal(connectFailureMessage('cannot connect producer to', ['b:1', 'b:2'], retries),
    'cannot connect producer to b:1,b:2: the broker\'s TLS certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN): kafka.tls.caFile must name the CA that signed it')
})

test('a host name the certificate does not cover, and an expired certificate, are said so', () => {
  assert.match(connectFailureMessage('x', ['h:1'], { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Host: h. is not in the cert's altnames" }), /not for the host in kafka\.brokers/)
  assert.match(connectFailureMessage('x', ['h:1'], named('KafkaJSConnectionError', 'e', { cause: { code: 'CERT_HAS_EXPIRED' } })), /certificate has expired$/)
})

test('an unreachable cluster keeps the short message', () => {
  const cause = named('KafkaJSNumberOfRetriesExceeded', 'connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })
  assert.equal(connectFailureMessage('cannot connect to Kafka at', ['127.0.0.1:1'], cause), 'cannot connect to Kafka at 127.0.0.1:1')
})
