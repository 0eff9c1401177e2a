import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readKafkaSecurity } from '../../src/config/kafka-security.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { policies } from '../../src/merge/index.ts'

const kafkaOf = (kafka: Record<string, unknown>) =>
  validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:1'], ...kafka }, topics: [{ name: 'orders', policy: 'lww' }] }, { policies }).kafka

const files = (contents: Record<string, string>) => (file: string): string => {
  const name = file.split('/').pop()!
  if (!(name in contents)) throw new Error(`ENOENT: no such file or directory, open '${file}'`)
  return contents[name]!
}

test('plaintext without SASL needs nothing and reads no file', () => {
  assert.deepEqual(readKafkaSecurity(kafkaOf({}), () => assert.fail('no file is read')), {})
})

test('TLS carries the PEM texts of the files named, and SASL the password from its file without the trailing newline', () => {
  const kafka = kafkaOf({
    tls: { enabled: true, caFile: 'ca.pem', certFile: 'me.pem', keyFile: 'me.key' },
    sasl: { mechanism: 'scram-sha-512', username: 'concord', passwordFile: 'pw.txt' }
  })
  assert.deepEqual(readKafkaSecurity(kafka, files({ 'ca.pem': 'CA', 'me.pem': 'CERT', 'me.key': 'KEY', 'pw.txt': 's3cret\n' })), {
    tls: { ca: 'CA', cert: 'CERT', key: 'KEY' },
    sasl: { mechanism: 'scram-sha-512', username: 'concord', password: 's3cret' }
  })
})

test('TLS without a CA file trusts the system CAs; a password given inline is used as is', () => {
  const kafka = kafkaOf({ tls: { enabled: true }, sasl: { mechanism: 'plain', username: 'u', password: 'p w\n' } })
  assert.deepEqual(readKafkaSecurity(kafka, () => assert.fail('no file is read')), { tls: {}, sasl: { mechanism: 'plain', username: 'u', password: 'p w\n' } })
})

test('every file that cannot be read is one problem naming its key', () => {
  const kafka = kafkaOf({ tls: { enabled: true, caFile: 'missing-ca.pem' }, sasl: { mechanism: 'plain', username: 'u', passwordFile: 'missing-pw' } })
  assert.throws(() => readKafkaSecurity(kafka, files({})), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.problems.length, 2)
    assert.match(err.problems[0]!, /^"kafka\.tls\.caFile" must be a readable file, got ".*\/missing-ca\.pem" \(ENOENT/)
    assert.match(err.problems[1]!, /^"kafka\.sasl\.passwordFile" must be a readable file, got ".*\/missing-pw" \(ENOENT/)
    return true
  })
})
