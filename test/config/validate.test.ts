import assert from 'node:assert/strict'
import { isAbsolute, resolve } from 'node:path'
import { test } from 'node:test'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { policies } from '../../src/merge/index.ts'

/** A minimal valid configuration: only the required keys. */
function base (): Record<string, any> {
  return {
    dc: 'dc1',
    peers: ['dc2'],
    kafka: { brokers: ['127.0.0.1:19092'] },
    topics: [{ name: 'orders', policy: 'lww' }]
  }
}

function with_ (change: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = base()
  change(raw)
  return raw
}

function problemsOf (raw: unknown, source?: string): readonly string[] {
  try {
    validateConfig(raw, source === undefined ? { policies } : { policies, source })
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.code, 'CONCORD_ERR_CONFIG')
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

function assertRejected (raw: unknown, expected: string): void {
  const problems = problemsOf(raw)
  assert.ok(problems.includes(expected), `expected ${JSON.stringify(expected)} among:\n${problems.join('\n')}`)
}

test('a minimal configuration gets every default', () => {
  const config = validateConfig(base(), { policies })
  assert.deepEqual(config, {
    dc: 'dc1',
    peers: ['dc2'],
    kafka: {
      brokers: ['127.0.0.1:19092'],
      clientId: 'concord-dc1',
      groupId: 'concord-dc1',
      tls: { enabled: false, caFile: '', certFile: '', keyFile: '' },
      sasl: { mechanism: 'none', username: '', password: '', passwordFile: '' },
      replicationSeparator: '.'
    },
    topics: [{
      name: 'orders',
      policy: { type: 'lww' },
      keyFormat: 'suffixed',
      keySeparator: '-',
      timestampSource: 'header',
      timestampField: 'timestamp',
      codec: 'msgpack',
      outputTopic: 'orders.merged',
      dlqTopic: 'orders.dlq',
      conflictTopic: 'orders.conflicts',
      validateValues: true,
      deleteRule: 'lww',
      conflictWindowMs: 10000,
      conflictValues: 'hash',
      gcGraceMs: 604800000,
      maxValueBytes: 1000000
    }],
    store: { dir: resolve('data/dc1'), synchronous: 'normal', cacheMb: 64, commitIntervalMs: 500, windowRecords: 50_000 },
    http: { host: '127.0.0.1', port: 8080 },
    metrics: { lagIntervalMs: 5000 },
    skew: { warnAheadMs: 1000, intervalMs: 60000 },
    readiness: { maxLagRecords: 10000 },
    log: { level: 'info' }
  })
})

test('a policy given as a mapping resolves like its name', () => {
  const config = validateConfig(with_(raw => { raw.topics[0].policy = { type: 'lww' } }), { policies })
  assert.deepEqual(config.topics[0]?.policy, { type: 'lww' })
  assert.ok(Object.isFrozen(config.topics[0]?.policy))
})

test('given values win over defaults and the store dir is made absolute', () => {
  const config = validateConfig(with_(raw => {
    raw.kafka.groupId = 'g'
    raw.topics[0].codec = 'json'
    raw.topics[0].timestampSource = 'value'
    raw.store = { dir: 'state/x', synchronous: 'full', cacheMb: 8 }
    raw.http = { port: 0 }
    raw.log = null
  }), { policies })
  assert.equal(config.kafka.groupId, 'g')
  assert.equal(config.kafka.clientId, 'concord-dc1')
  assert.equal(config.topics[0]?.codec, 'json')
  assert.equal(config.store.dir, resolve('state/x'))
  assert.ok(isAbsolute(config.store.dir))
  assert.equal(config.store.synchronous, 'full')
  assert.equal(config.http.port, 0)
  assert.equal(config.log.level, 'info')
})

test('the result is deeply frozen', () => {
  const config = validateConfig(base(), { policies })
  for (const part of [config, config.peers, config.kafka, config.kafka.brokers, config.topics, config.topics[0],
    config.store, config.http, config.log]) {
    assert.ok(Object.isFrozen(part))
  }
  assert.throws(() => { (config.kafka as { groupId: string }).groupId = 'x' }, TypeError)
})

test('a configuration that is not a mapping is rejected alone', () => {
  assert.deepEqual(problemsOf(null), [
    'the configuration must be a mapping with keys dc, peers, kafka, topics, store, http, metrics, skew, readiness, log, got null'
  ])
  assert.equal(problemsOf(['dc1']).length, 1)
})

test('missing required keys are each reported', () => {
  assert.deepEqual(problemsOf({}), [
    '"dc" must be a DC id (1 to 64 letters, digits, _), got nothing',
    '"peers" must be a list of 1 to 4 DC ids (2 to 5 DCs in all), got nothing',
    '"kafka.brokers" must be a non-empty list of host:port, got nothing',
    '"topics" must be a non-empty list of topics, got nothing'
  ])
})

const rejections: Array<[string, (raw: Record<string, any>) => void, string]> = [
  ['a DC id with a dash', raw => { raw.dc = 'dc-1' }, '"dc" must be a DC id (1 to 64 letters, digits, _), got "dc-1"'],
  ['a peer id with a dot', raw => { raw.peers = ['dc.2'] }, '"peers[0]" must be a DC id (1 to 64 letters, digits, _), got "dc.2"'],
  ['a DC id longer than 64 characters', raw => { raw.dc = 'd'.repeat(65) }, '"dc" must be a DC id (1 to 64 letters, digits, _), got "' + 'd'.repeat(56) + '...'],
  ['a repeated peer', raw => { raw.peers = ['dc2', 'dc2'] }, '"peers[1]" must be unique, got "dc2"'],
  ['the local DC among the peers', raw => { raw.peers = ['dc2', 'dc1'] }, '"peers[1]" must be another DC than "dc", got "dc1"'],
  ['no peers', raw => { raw.peers = [] }, '"peers" must be a list of 1 to 4 DC ids (2 to 5 DCs in all), got []'],
  ['five peers', raw => { raw.peers = ['a', 'b', 'c', 'd', 'e'] },
    '"peers" must be a list of 1 to 4 DC ids (2 to 5 DCs in all), got ["a","b","c","d","e"]'],
  ['a DC id containing a key separator', raw => { raw.dc = 'dc_1'; raw.topics[0].keySeparator = '_' },
    '"dc" must not contain "topics[0].keySeparator" ("_"), got "dc_1"'],
  ['a peer id containing the replication separator', raw => { raw.peers = ['dc_2']; raw.kafka.replicationSeparator = '_' },
    '"peers[0]" must not contain "kafka.replicationSeparator" ("_"), got "dc_2"'],
  ['a replication separator with a character Kafka refuses', raw => { raw.kafka.replicationSeparator = '/' },
    '"kafka.replicationSeparator" must be a non-empty string of A-Z a-z 0-9 . _ -, got "/"'],
  ['a broker without a port', raw => { raw.kafka.brokers = ['a:9092', 'localhost'] },
    '"kafka.brokers[1]" must be host:port, got "localhost"'],
  ['a broker with port 0', raw => { raw.kafka.brokers = ['localhost:0'] }, '"kafka.brokers[0]" must be host:port, got "localhost:0"'],
  ['brokers given as one string', raw => { raw.kafka.brokers = 'a:1' },
    '"kafka.brokers" must be a non-empty list of host:port, got "a:1"'],
  ['an empty group id', raw => { raw.kafka.groupId = '' }, '"kafka.groupId" must be a non-empty string, got ""'],
  ['a topic name Kafka refuses', raw => { raw.topics[0].name = 'or/ders' },
    '"topics[0].name" must be a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), got "or/ders"'],
  ['a topic named ".."', raw => { raw.topics[0].name = '..' },
    '"topics[0].name" must be a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), got ".."'],
  ['a topic whose remote copy is too long', raw => { raw.topics[0].name = 'o'.repeat(248) },
    `"topics[0].name" must be at most 245 characters, for dc2's copy to fit Kafka's 249, got "${'o'.repeat(56)}...`],
  ['a repeated topic', raw => { raw.topics.push({ name: 'orders', policy: 'lww', outputTopic: 'a', dlqTopic: 'b' }) },
    '"topics[1].name" must be unique, got "orders"'],
  ['a topic that is a peer\'s remote copy', raw => { raw.topics[0].name = 'dc2.orders' },
    '"topics[0].name" must be a local topic, not dc2\'s remote copy "dc2....", got "dc2.orders"'],
  ['a topic that is the local DC\'s remote copy', raw => { raw.topics[0].name = 'dc1.orders' },
    '"topics[0].name" must be a local topic, not dc1\'s remote copy "dc1....", got "dc1.orders"'],
  ['an output topic equal to a local input', raw => { raw.topics[0].outputTopic = 'orders' },
    '"topics[0].outputTopic" must differ from every input topic, got "orders" ("topics[0].name")'],
  ['a dead-letter topic equal to a remote input', raw => { raw.topics[0].dlqTopic = 'dc2.orders' },
    '"topics[0].dlqTopic" must differ from every input topic, got "dc2.orders" (dc2\'s copy of "topics[0].name")'],
  ['an output topic equal to another topic\'s input', raw => { raw.topics.push({ name: 'orders.merged', policy: 'lww' }) },
    '"topics[0].outputTopic" must differ from every input topic, got "orders.merged" ("topics[1].name")'],
  ['the same output and dead-letter topic', raw => { raw.topics[0].dlqTopic = 'orders.merged' },
    '"topics[0].dlqTopic" must differ from "topics[0].outputTopic", got "orders.merged"'],
  ['two topics sharing a dead-letter topic', raw => { raw.topics.push({ name: 'users', policy: 'lww', dlqTopic: 'orders.dlq' }) },
    '"topics[1].dlqTopic" must differ from "topics[0].dlqTopic", got "orders.dlq"'],
  ['an output topic name Kafka refuses', raw => { raw.topics[0].outputTopic = 'a b' },
    '"topics[0].outputTopic" must be a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), got "a b"'],
  ['timestamps read from raw values', raw => { raw.topics[0].codec = 'raw'; raw.topics[0].timestampSource = 'value' },
    '"topics[0].timestampSource" must be header or kafka when "topics[0].codec" is raw (raw values cannot be read), got "value"'],
  ['an unknown merge policy', raw => { raw.topics[0].policy = 'crdt' }, '"topics[0].policy" must be one of lww, lww-fields, counter, max, min, union, dc-priority, custom, got "crdt"'],
  ['a missing merge policy', raw => { delete raw.topics[0].policy },
    '"topics[0].policy" must be one of lww, lww-fields, counter, max, min, union, dc-priority, custom, or a mapping with "type" and the policy\'s options, got nothing'],
  ['an unknown merge policy in the mapping form', raw => { raw.topics[0].policy = { type: 'crdt' } },
    '"topics[0].policy.type" must be one of lww, lww-fields, counter, max, min, union, dc-priority, custom, got "crdt"'],
  ['an option the policy does not have', raw => { raw.topics[0].policy = { type: 'lww', field: 'qty' } },
    'unknown key "topics[0].policy.field"'],
  ['an unknown codec', raw => { raw.topics[0].codec = 'avro' }, '"topics[0].codec" must be one of msgpack, json, raw, got "avro"'],
  ['an unknown key format', raw => { raw.topics[0].keyFormat = 'prefixed' },
    '"topics[0].keyFormat" must be one of suffixed, plain, got "prefixed"'],
  ['an unknown timestamp source', raw => { raw.topics[0].timestampSource = 'clock' },
    '"topics[0].timestampSource" must be one of header, value, kafka, got "clock"'],
  ['an empty key separator', raw => { raw.topics[0].keySeparator = '' },
    '"topics[0].keySeparator" must be a non-empty string, got ""'],
  ['a zero value size limit', raw => { raw.topics[0].maxValueBytes = 0 }, '"topics[0].maxValueBytes" must be an integer >= 1, got 0'],
  ['a fractional value size limit', raw => { raw.topics[0].maxValueBytes = 1.5 },
    '"topics[0].maxValueBytes" must be an integer >= 1, got 1.5'],
  ['a topic that is not a mapping', raw => { raw.topics = ['orders'] },
    '"topics[0]" must be a mapping with keys name, policy, keyFormat, keySeparator, timestampSource, timestampField, codec, outputTopic, dlqTopic, conflictTopic, validateValues, deleteRule, conflictWindowMs, conflictValues, gcGraceMs, maxValueBytes, got "orders"'],
  ['no topics', raw => { raw.topics = [] }, '"topics" must be a non-empty list of topics, got []'],
  ['an unknown synchronous mode', raw => { raw.store = { synchronous: 'off' } },
    '"store.synchronous" must be one of normal, full, got "off"'],
  ['a zero page cache', raw => { raw.store = { cacheMb: 0 } }, '"store.cacheMb" must be an integer >= 1, got 0'],
  ['a port above 65535', raw => { raw.http = { port: 65536 } }, '"http.port" must be an integer 0..65535, got 65536'],
  ['a port given as text', raw => { raw.http = { port: '8080' } }, '"http.port" must be an integer 0..65535, got "8080"'],
  ['an unknown log level', raw => { raw.log = { level: 'verbose' } },
    '"log.level" must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
  ['an unknown delete rule', raw => { raw.topics[0].deleteRule = 'delete' }, '"topics[0].deleteRule" must be one of lww, delete-wins, got "delete"'],
  ['validateValues given as text', raw => { raw.topics[0].validateValues = 'yes' }, '"topics[0].validateValues" must be true or false, got "yes"'],
  ['a negative conflict window', raw => { raw.topics[0].conflictWindowMs = -1 }, '"topics[0].conflictWindowMs" must be an integer >= 0, got -1'],
  ['a conflict topic equal to the dead-letter topic', raw => { raw.topics[0].conflictTopic = 'orders.dlq' },
    '"topics[0].conflictTopic" must differ from "topics[0].dlqTopic", got "orders.dlq"'],
  ['a zero GC grace', raw => { raw.topics[0].gcGraceMs = 0 }, '"topics[0].gcGraceMs" must be an integer >= 1, got 0'],
  ['a counter without its field', raw => { raw.topics[0].policy = { type: 'counter' } }, '"topics[0].policy.field" must be a non-empty string, got nothing'],
  ['a section that is not a mapping', raw => { raw.http = 8080 },
    '"http" must be a mapping with keys host, port, got 8080']
]

for (const [what, change, expected] of rejections) {
  test(`${what} is rejected by name`, () => assertRejected(with_(change), expected))
}

test('an unknown key is flagged with the nearest known key', () => {
  const problems = problemsOf(with_(raw => {
    raw.topics[0].polcy = 'lww'
    raw.kafka.Brokers = []
    raw.store = { cachemb: 1 }
    raw.colour = 'blue'
  }))
  assert.ok(problems.includes('unknown key "topics[0].polcy" (did you mean "topics[0].policy"?)'))
  assert.ok(problems.includes('unknown key "kafka.Brokers" (did you mean "kafka.brokers"?)'))
  assert.ok(problems.includes('unknown key "store.cachemb" (did you mean "store.cacheMb"?)'))
  assert.ok(problems.includes('unknown key "colour"'))
})

test('every problem is reported at once, in one error', () => {
  const problems = problemsOf(with_(raw => {
    raw.dc = 'dc 1'
    raw.kafka.brokers = ['localhost']
    raw.topics[0].codec = 'avro'
    raw.topics[0].polcy = 'x'
    raw.http = { port: -1 }
  }))
  assert.deepEqual(problems, [
    '"dc" must be a DC id (1 to 64 letters, digits, _), got "dc 1"',
    '"kafka.brokers[0]" must be host:port, got "localhost"',
    'unknown key "topics[0].polcy" (did you mean "topics[0].policy"?)',
    '"topics[0].codec" must be one of msgpack, json, raw, got "avro"',
    '"http.port" must be an integer 0..65535, got -1'
  ])
})

test('the error message lists every problem and the source names where they come from', () => {
  const raw = with_(raw => { raw.dc = ''; raw.log = { level: 'loud' } })
  const problems = problemsOf(raw, 'config/dc1.yaml')
  assert.deepEqual(problems, [
    'config/dc1.yaml: "dc" must be a DC id (1 to 64 letters, digits, _), got ""',
    'config/dc1.yaml: "log.level" must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'
  ])
  assert.throws(() => validateConfig(raw, { policies }), {
    message: 'invalid configuration:\n  - "dc" must be a DC id (1 to 64 letters, digits, _), got ""\n' +
      '  - "log.level" must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'
  })
})

test('IPv6 and host-name brokers are accepted, up to five DCs in all', () => {
  const config = validateConfig(with_(raw => {
    raw.kafka.brokers = ['[::1]:9092', 'kafka-0.kafka.svc:9093', '10.0.0.1:65535']
    raw.peers = ['dc2', 'dc3', 'dc4', 'dc5']
  }), { policies })
  assert.equal(config.kafka.brokers.length, 3)
  assert.equal(config.peers.length, 4)
})

test('TLS files resolve against the working directory, and each needs kafka.tls.enabled', () => {
  const config = validateConfig(with_(raw => { raw.kafka.tls = { enabled: true, caFile: 'certs/ca.pem' } }), { policies })
  assert.deepEqual(config.kafka.tls, { enabled: true, caFile: resolve('certs/ca.pem'), certFile: '', keyFile: '' })
  assert.deepEqual(problemsOf(with_(raw => { raw.kafka.tls = { caFile: 'ca.pem', certFile: 'me.pem' } })), [
    '"kafka.tls.caFile" is set but "kafka.tls.enabled" is false: set it to true, or leave the file out',
    '"kafka.tls.certFile" is set but "kafka.tls.enabled" is false: set it to true, or leave the file out',
    '"kafka.tls.certFile" and "kafka.tls.keyFile" go together: give both (a client certificate and its key) or neither'
  ])
})

test('SASL needs a user name and exactly one of password and passwordFile, and credentials need a mechanism', () => {
  const ok = validateConfig(with_(raw => { raw.kafka.sasl = { mechanism: 'scram-sha-512', username: 'concord', passwordFile: 'pw' } }), { policies })
  assert.deepEqual(ok.kafka.sasl, { mechanism: 'scram-sha-512', username: 'concord', password: '', passwordFile: resolve('pw') })
  assert.deepEqual(problemsOf(with_(raw => { raw.kafka.sasl = { mechanism: 'plain' } })), [
    '"kafka.sasl.username" must be a non-empty string when "kafka.sasl.mechanism" is plain',
    '"kafka.sasl.password" or "kafka.sasl.passwordFile" (exactly one of them) must be given when "kafka.sasl.mechanism" is plain'
  ])
  assert.deepEqual(problemsOf(with_(raw => { raw.kafka.sasl = { mechanism: 'scram-sha-256', username: 'u', password: 'p', passwordFile: 'f' } })), [
    '"kafka.sasl.password" or "kafka.sasl.passwordFile" (exactly one of them) must be given when "kafka.sasl.mechanism" is scram-sha-256, got both'
  ])
  assert.deepEqual(problemsOf(with_(raw => { raw.kafka.sasl = { username: 'u', password: 'p' } })), [
    '"kafka.sasl.username" is set but "kafka.sasl.mechanism" is none: choose plain, scram-sha-256 or scram-sha-512',
    '"kafka.sasl.password" is set but "kafka.sasl.mechanism" is none: choose plain, scram-sha-256 or scram-sha-512'
  ])
  assert.deepEqual(problemsOf(with_(raw => { raw.kafka.sasl = { mechanism: 'kerberos' } })), [
    '"kafka.sasl.mechanism" must be one of none, plain, scram-sha-256, scram-sha-512, got "kerberos"'
  ])
})
