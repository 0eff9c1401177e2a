import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { stringify } from 'yaml'
import { freePort, startConcord } from '../../lab/concord-process.ts'
import { lastByKey, readUntil } from '../../lab/read.ts'
import { produce } from '../../lab/scenario.ts'
import { startSecureBroker, type SecureBroker } from '../../lab/secure-broker.ts'
import { labSettings } from '../../lab/settings.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import type { OutRecord } from '../../src/model/record.ts'

/**
 * concord through a SASL_SSL listener for real: a broker beside the lab's (TLS with a CA made at start,
 * SCRAM-SHA-512 with a user created at start; lab/secure-broker.ts). The broker's PLAINTEXT listener serves
 * the test's own setup and reads, so that only concord goes through TLS and SASL.
 */
const settings = labSettings()
const CLI = new URL('../../src/cli/concord.ts', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'concord-secure-'))
let broker: SecureBroker

before(async () => {
  broker = await startSecureBroker(settings, { dir: join(work, 'broker'), port: await freePort(), plainPort: await freePort(), controllerPort: await freePort() }, line => { console.log(`secure: ${line}`) })
  const admin = await connectAdmin({ brokers: [broker.plainBootstrap], clientId: 'concord-test' })
  try {
    await admin.createTopics([{ topic: 'orders', partitions: 3 }, { topic: 'dc2.orders', partitions: 3 }])
  } finally {
    await admin.close()
  }
})

after(async () => {
  await broker?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** The kafka section of concord's config for the secure listener, the password in a file. */
function secureKafka (overrides: { caFile?: string, password?: string } = {}): Record<string, unknown> {
  const passwordFile = join(work, `pw-${Math.random().toString(36).slice(2)}`)
  writeFileSync(passwordFile, (overrides.password ?? broker.password) + '\n', { mode: 0o600 })
  return {
    tls: { enabled: true, caFile: overrides.caFile ?? broker.caFile },
    sasl: { mechanism: 'scram-sha-512', username: broker.username, passwordFile }
  }
}

/** `concord run` on the secure listener with a config file; returns its exit code and stderr. */
function runCli (name: string, kafka: Record<string, unknown>): { code: number | null, stderr: string } {
  const dir = join(work, name)
  const file = join(work, `${name}.yaml`)
  writeFileSync(file, stringify({
    dc: 'dc1',
    peers: ['dc2'],
    kafka: { brokers: [broker.bootstrap], ...kafka },
    topics: [{ name: 'orders', policy: 'lww' }],
    store: { dir },
    http: { port: 0 }
  }))
  const r = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stderr: r.stderr }
}

describe('TLS and SASL (SCRAM-SHA-512) to the brokers', () => {
  it('merges through a SASL_SSL listener, and the password appears in no log line', async () => {
    const kafka = secureKafka()
    const proc = await startConcord({ dc: 'dc1', peers: ['dc2'], brokers: broker.bootstrap, topics: [{ name: 'orders', policy: 'lww', codec: 'raw' }], dir: join(work, 'ok'), kafka })
    try {
      // The oracle: per entity, the write with the greater x-origin-ts (dc1's even, dc2's odd: never a tie).
      const records: OutRecord[] = []
      const oracle = new Map<string, string>()
      for (let i = 0; i < 30; i++) {
        const [a, b] = [100 + 2 * i, 101 + 2 * ((i * 7) % 30)]
        records.push({ topic: 'orders', key: `e${i}-dc1`, value: `dc1-${i}`, headers: { 'x-origin-dc': 'dc1', 'x-origin-ts': String(a), 'x-event-id': `a${i}` } })
        records.push({ topic: 'dc2.orders', key: `e${i}-dc2`, value: `dc2-${i}`, headers: { 'x-origin-dc': 'dc2', 'x-origin-ts': String(b), 'x-event-id': `b${i}` } })
        oracle.set(`e${i}`, b > a ? `dc2-${i}` : `dc1-${i}`)
      }
      await produce(broker.plainBootstrap, records)
      const merged = await readUntil(broker.plainBootstrap, ['orders.merged'], rs => {
        const last = lastByKey(rs)
        return [...oracle].every(([k, v]) => last.get(k)?.value?.toString() === v)
      }, { timeoutMs: 60_000 })
      const last = lastByKey(merged)
      assert.deepEqual(new Map([...oracle.keys()].map(k => [k, last.get(k)?.value?.toString()])), oracle)
    } finally {
      assert.equal(await proc.stop(), 0)
    }
    assert.ok(!readFileSync(proc.log, 'utf8').includes(broker.password), 'the password is never logged')
  })

  it('print-config and check-config never print the password, given inline or by the environment', () => {
    const file = join(work, 'inline.yaml')
    writeFileSync(file, stringify({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: [broker.bootstrap], sasl: { mechanism: 'scram-sha-512', username: broker.username, password: broker.password } }, topics: [{ name: 'orders', policy: 'lww' }] }))
    for (const args of [['print-config'], ['print-config', '--json'], ['check-config', '--json']]) {
      const r = spawnSync(process.execPath, [CLI, ...args, '--config', file], { encoding: 'utf8', env: { ...process.env, CONCORD_KAFKA_SASL_PASSWORD: broker.password } })
      assert.equal(r.status, 0, r.stderr)
      assert.ok(r.stdout.includes('[redacted]'), args.join(' '))
      assert.ok(!(r.stdout + r.stderr).includes(broker.password), `${args.join(' ')} prints no password`)
    }
  })

  it('a wrong password fails the start with one line that says SASL authentication failed', () => {
    const r = runCli('badpw', secureKafka({ password: 'not-the-password' }))
    assert.equal(r.code, 1)
    assert.match(r.stderr.trim(), /^concord: cannot connect to Kafka at 127\.0\.0\.1:\d+: SASL authentication failed: check kafka\.sasl\.username and the password \(.*\) \[CONCORD_ERR_KAFKA\]$/)
    assert.ok(!r.stderr.includes('not-the-password'))
  })

  it('a broker certificate that the configured CA did not sign fails the start, naming kafka.tls.caFile', () => {
    const r = runCli('badca', secureKafka({ caFile: broker.otherCaFile }))
    assert.equal(r.code, 1)
    assert.match(r.stderr.trim(), /^concord: cannot connect to Kafka at 127\.0\.0\.1:\d+: the broker's TLS certificate is not trusted \([A-Z_]+\): kafka\.tls\.caFile must name the CA that signed it \[CONCORD_ERR_KAFKA\]$/)
  })

  it('a CA file that does not exist is a configuration error naming the key', () => {
    const r = runCli('noca', secureKafka({ caFile: join(work, 'missing-ca.pem') }))
    assert.equal(r.code, 1)
    assert.match(r.stderr, /"kafka\.tls\.caFile" must be a readable file, got ".*missing-ca\.pem"/)
  })
})
