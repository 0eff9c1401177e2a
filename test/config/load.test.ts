import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { envOverrides, loadConfig } from '../../src/config/load.ts'
import { ConfigError } from '../../src/errors.ts'
import { policies } from '../../src/merge/index.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dc1File = join(root, 'config/dc1.yaml')
const dc2File = join(root, 'config/dc2.yaml')
const dir = mkdtempSync(join(tmpdir(), 'concord-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function file (name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function problemsOf (load: () => unknown): readonly string[] {
  try {
    load()
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

const minimal = file('minimal.yaml', `
dc: dc1
peers: [dc2]
kafka:
  brokers: [127.0.0.1:19092]
topics:
  - name: orders
    policy: lww
`)

test('the dc1 example config loads with the lab values', () => {
  const config = loadConfig({ policies, file: dc1File, env: {} })
  assert.equal(config.dc, 'dc1')
  assert.deepEqual(config.peers, ['dc2'])
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:19092'])
  assert.equal(config.store.dir, resolve('data/dc1'))
  assert.equal(config.http.port, 8081)
  assert.equal(config.topics.length, 1)
  assert.deepEqual(config.topics[0]?.policy, { type: 'lww' })
})

test('the dc2 example config mirrors dc1', () => {
  const config = loadConfig({ policies, file: dc2File, env: {} })
  assert.equal(config.dc, 'dc2')
  assert.deepEqual(config.peers, ['dc1'])
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:29092'])
  assert.equal(config.kafka.groupId, 'concord-dc2')
  assert.equal(config.store.dir, resolve('data/dc2'))
  assert.equal(config.http.port, 8082)
})

test('the example configs spell out exactly the defaults', () => {
  const spelled = loadConfig({ policies, file: dc1File, env: {} })
  const defaulted = loadConfig({ policies, file: minimal, env: {} })
  assert.deepEqual(spelled, { ...defaulted, http: { ...defaulted.http, port: 8081 } })
})

test('the loaded config is deeply frozen', () => {
  const config = loadConfig({ policies, file: dc1File, env: {} })
  assert.ok(Object.isFrozen(config))
  assert.ok(Object.isFrozen(config.topics[0]))
  assert.ok(Object.isFrozen(config.kafka.brokers))
  assert.throws(() => { (config.http as { port: number }).port = 1 }, TypeError)
})

test('environment variables override the file', () => {
  const config = loadConfig({
    policies,
    file: dc1File,
    env: {
      CONCORD_DC: 'east',
      CONCORD_PEERS: 'west, north',
      CONCORD_KAFKA_BROKERS: 'k1:9092,k2:9092',
      CONCORD_KAFKA_GROUP_ID: 'concord-east',
      CONCORD_STORE_DIR: './state/east',
      CONCORD_HTTP_PORT: '0',
      CONCORD_HTTP_HOST: '0.0.0.0',
      CONCORD_LOG_LEVEL: 'debug'
    }
  })
  assert.equal(config.dc, 'east')
  assert.deepEqual(config.peers, ['west', 'north'])
  assert.deepEqual(config.kafka.brokers, ['k1:9092', 'k2:9092'])
  assert.equal(config.kafka.groupId, 'concord-east')
  assert.equal(config.kafka.clientId, 'concord-dc1')
  assert.equal(config.store.dir, resolve('state/east'))
  assert.equal(config.http.port, 0)
  assert.equal(config.http.host, '0.0.0.0')
  assert.equal(config.log.level, 'debug')
})

test('an override fills a section the file leaves out, and an empty variable counts as unset', () => {
  const config = loadConfig({ policies, file: minimal, env: { CONCORD_HTTP_PORT: '9000', CONCORD_DC: '' } })
  assert.deepEqual(config.http, { host: '127.0.0.1', port: 9000 })
  assert.equal(config.dc, 'dc1')
})

const badEnv: Array<[string, string, string]> = [
  ['CONCORD_DC', 'dc-1', '"CONCORD_DC" must be a DC id (1 to 64 letters, digits, _), got "dc-1"'],
  ['CONCORD_PEERS', 'dc2,,dc3', '"CONCORD_PEERS" must be a comma-separated list of DC ids (1 to 64 letters, digits, _), got "dc2,,dc3"'],
  ['CONCORD_KAFKA_BROKERS', 'localhost', '"CONCORD_KAFKA_BROKERS" must be a comma-separated list of host:port, got "localhost"'],
  ['CONCORD_HTTP_PORT', 'abc', '"CONCORD_HTTP_PORT" must be an integer 0..65535, got "abc"'],
  ['CONCORD_HTTP_PORT', '70000', '"CONCORD_HTTP_PORT" must be an integer 0..65535, got "70000"'],
  ['CONCORD_LOG_LEVEL', 'loud', '"CONCORD_LOG_LEVEL" must be one of fatal, error, warn, info, debug, trace, silent, got "loud"']
]

for (const [name, value, expected] of badEnv) {
  test(`a bad ${name} (${JSON.stringify(value)}) is reported by its variable name`, () => {
    assert.deepEqual(problemsOf(() => loadConfig({ policies, file: dc1File, env: { [name]: value } })), [expected])
  })
}

test('bad environment values and bad file values are reported together', () => {
  const bad = file('bad-values.yaml', 'dc: dc1\npeers: [dc2]\nkafka: { brokers: [a:1] }\ntopics: [{ name: orders, policy: lww, codec: avro }]\n')
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: bad, env: { CONCORD_HTTP_PORT: 'abc' } })), [
    '"CONCORD_HTTP_PORT" must be an integer 0..65535, got "abc"',
    `${bad}: "topics[0].codec" must be one of msgpack, json, raw, got "avro"`
  ])
})

test('a problem that an override causes names the variables applied', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: dc1File, env: { CONCORD_PEERS: 'dc1' } })), [
    `${dc1File} with CONCORD_PEERS: "peers[0]" must be another DC than "dc", got "dc1"`
  ])
})

test('a missing file is a ConfigError naming the file', () => {
  const missing = join(dir, 'nope.yaml')
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: missing, env: {} })), [`config file "${missing}" does not exist`])
})

test('a directory given as the file is a ConfigError naming it', () => {
  const sub = join(dir, 'sub.yaml')
  mkdirSync(sub)
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: sub, env: {} })), [`config file "${sub}" is a directory`])
})

test('invalid YAML is a ConfigError naming the file and the line', () => {
  const bad = file('bad.yaml', 'dc: dc1\npeers: [dc2]\ndc: dc3\n')
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: bad, env: {} })), [
    `config file "${bad}" is not valid YAML: line 3, column 1: Map keys must be unique`
  ])
  const tabs = file('tabs.yaml', 'kafka:\n\tbrokers: []\n')
  const [problem] = problemsOf(() => loadConfig({ policies, file: tabs, env: {} }))
  assert.match(problem ?? '', /^config file ".*tabs\.yaml" is not valid YAML: line 2, column 1: /)
})

test('an empty file reports each required key', () => {
  const empty = file('empty.yaml', '# nothing yet\n')
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: empty, env: {} })), [
    `${empty}: "dc" must be a DC id (1 to 64 letters, digits, _), got nothing`,
    `${empty}: "peers" must be a list of 1 to 4 DC ids (2 to 5 DCs in all), got nothing`,
    `${empty}: "kafka.brokers" must be a non-empty list of host:port, got nothing`,
    `${empty}: "topics" must be a non-empty list of topics, got nothing`
  ])
})

test('a file that is not a mapping is rejected', () => {
  const list = file('list.yaml', '- dc1\n- dc2\n')
  assert.deepEqual(problemsOf(() => loadConfig({ policies, file: list, env: { CONCORD_DC: 'dc1' } })), [
    `${list}: the configuration must be a mapping with keys dc, peers, kafka, topics, store, http, metrics, skew, readiness, log, got ["dc1","dc2"]`
  ])
})

test('a missing file option is rejected by name', () => {
  assert.deepEqual(problemsOf(() => loadConfig({ policies } as unknown as { file: string, policies: typeof policies })), [
    '"file" must be the path of a YAML config file, got nothing'
  ])
})

test('envOverrides lists every variable with the key it sets and a one-line meaning', () => {
  assert.deepEqual(envOverrides.map(o => o.name), [
    'CONCORD_DC', 'CONCORD_PEERS', 'CONCORD_KAFKA_BROKERS', 'CONCORD_KAFKA_GROUP_ID',
    'CONCORD_KAFKA_SASL_USERNAME', 'CONCORD_KAFKA_SASL_PASSWORD', 'CONCORD_STORE_DIR', 'CONCORD_HTTP_HOST', 'CONCORD_HTTP_PORT', 'CONCORD_METRICS_LAG_INTERVAL_MS',
    'CONCORD_READINESS_MAX_LAG_RECORDS', 'CONCORD_LOG_LEVEL'
  ])
  for (const o of envOverrides) {
    assert.match(o.meaning, /^[^\n]{5,160}$/) // the key's one-line README description
    assert.match(o.key, /^[a-z]+(\.[a-zA-Z]+)*$/)
  }
  assert.ok(Object.isFrozen(envOverrides))
})

test('an override sets a key three levels deep (the SASL credentials)', () => {
  const sasl = file('sasl.yaml', 'dc: dc1\npeers: [dc2]\nkafka: { brokers: [\'h:1\'], sasl: { mechanism: plain } }\ntopics: [{ name: orders, policy: lww }]\n')
  const config = loadConfig({ file: sasl, policies, env: { CONCORD_KAFKA_SASL_USERNAME: 'concord', CONCORD_KAFKA_SASL_PASSWORD: 'from-env' } })
  assert.deepEqual(config.kafka.sasl, { mechanism: 'plain', username: 'concord', password: 'from-env', passwordFile: '' })
})
