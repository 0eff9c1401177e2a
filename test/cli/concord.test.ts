import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

/**
 * `concord` as a new user meets it: each start-up failure must end the process within seconds, exit 1 and
 * print one line `concord: <message> [<code>]` on stderr, never a stack trace, never a half-started process.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'concord-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Ended { readonly code: number | null, readonly stdout: string, readonly stderr: string, readonly ms: number }

function concord (args: string[], timeoutMs = 30_000): Promise<Ended> {
  const started = Date.now()
  const child = spawn(join(root, 'node_modules/.bin/node'), ['--disable-warning=TimeoutNegativeWarning', join(root, 'src/cli/concord.ts'), ...args], { cwd: dir, env: { ...process.env, CONCORD_HTTP_PORT: '' } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise(resolve => child.on('close', code => {
    clearTimeout(timer)
    resolve({ code, stdout, stderr, ms: Date.now() - started })
  }))
}

function configFile (name: string, extra: string, brokers = '127.0.0.1:1'): string {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, `dc: dc1\npeers: [dc2]\nkafka: { brokers: [${brokers}] }\ntopics: [{ name: orders, policy: lww }]\nstore: { dir: ${join(dir, name)} }\nlog: { level: silent }\n${extra}`)
  return file
}

async function takenPort (): Promise<{ port: number, close: () => void }> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, close: () => server.close() }
}

const oneLine = (stderr: string, pattern: RegExp): void => {
  const lines = stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`)
  assert.match(lines[0]!, pattern)
}

describe('the concord command', { timeout: 120_000 }, () => {
  it('refuses an unknown option with the usage and exit code 2', async () => {
    const r = await concord(['run', '--bogus'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Unknown option '--bogus'/)
    assert.match(r.stderr, /usage: concord run --config <file>/)
  })

  it('says a configuration is valid for check-config, and gives the resolved one with --json', async () => {
    const file = configFile('check', '')
    const r = await concord(['check-config', '-c', file])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: valid\n {2}dc dc1, peers dc2\n {2}topics orders \\(lww, msgpack\\)\n`))
    const j = await concord(['check-config', '-c', file, '--json'])
    assert.equal(j.code, 0, j.stderr)
    assert.equal(JSON.parse(j.stdout).config.topics[0].outputTopic, 'orders.merged')
  })

  it('prints the resolved configuration for print-config, one `path: value` line per key, or as JSON', async () => {
    const file = configFile('print', '')
    const r = await concord(['print-config', '-c', file])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    for (const line of ['dc: dc1', 'peers: ["dc2"]', 'kafka.brokers: ["127.0.0.1:1"]', 'topics[0].name: orders', 'topics[0].policy.type: lww', 'topics[0].outputTopic: orders.merged', 'http.port: 8080']) {
      assert.ok(lines.includes(line), `${line} in:\n${r.stdout}`)
    }
    const j = await concord(['print-config', '-c', file, '--json'])
    assert.equal(JSON.parse(j.stdout).store.windowRecords, 50000)
  })

  it('exits 1 with one coded line when inspect finds no state folder, and 2 for a bad inspect line', async () => {
    const r = await concord(['inspect', 'orders', 'o-1', '-c', configFile('nostate', '')])
    assert.equal(r.code, 1)
    oneLine(r.stderr, /^concord: no state store in .*nostate \(.*concord\.db does not exist\) \[CONCORD_ERR_STORE\]$/)
    const bad = await concord(['inspect', 'orders'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^missing <entityId>\nusage: concord inspect <topic> <entityId>/)
  })

  it('exits 1 when verify cannot reach a side, naming it', async () => {
    const closed = await takenPort()
    closed.close()
    const r = await concord(['verify', `http://127.0.0.1:${closed.port}`, `http://127.0.0.1:${closed.port}`])
    assert.equal(r.code, 1)
    oneLine(r.stderr, new RegExp(`^concord: cannot reach http://127\\.0\\.0\\.1:${closed.port}/v1/topics: ECONNREFUSED \\[CONCORD_ERR_QUERY\\]$`))
  })

  it('check-config binds every topic\'s policy too, naming the key of an option that cannot work', async () => {
    const file = join(dir, 'policy.yaml')
    writeFileSync(file, 'dc: dc1\npeers: [dc2]\nkafka: { brokers: [127.0.0.1:1] }\n' +
      'topics: [{ name: orders, policy: { type: dc-priority, order: [dc1] } }, { name: stock, policy: { type: counter, field: qty }, codec: raw }]\n')
    const r = await concord(['check-config', '-c', file])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /"topics\[0\]\.policy\.order" must be a list of every DC exactly once/)
    assert.match(r.stderr, /"topics\[1\]\.policy" .*raw/)
    assert.equal(r.stdout, '')
  })

  it('lists every problem of a bad configuration under one coded line and exits 1', async () => {
    const r = await concord(['run', '-c', configFile('bad', 'http: { port: 70000 }\ncolour: blue\n')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^concord: invalid configuration:\n/)
    assert.match(r.stderr, /"http\.port" must be an integer 0\.\.65535, got 70000/)
    assert.match(r.stderr, /unknown key "colour"/)
    assert.match(r.stderr, /\[CONCORD_ERR_CONFIG\]\n$/)
  })

  it('ends at once, with one line, when the HTTP port is taken', async () => {
    const blocker = await takenPort()
    try {
      const r = await concord(['run', '-c', configFile('port', `http: { port: ${blocker.port} }\n`)])
      assert.equal(r.code, 1)
      oneLine(r.stderr, new RegExp(`^concord: cannot listen on 127\\.0\\.0\\.1:${blocker.port} \\(http\\.host, http\\.port\\): the address is in use .*\\[CONCORD_ERR_HTTP\\]$`))
      assert.ok(r.ms < 10_000, `ended after ${r.ms} ms`)
      assert.ok(!existsSync(join(dir, 'port', 'concord.lock')), 'the state folder was released')
    } finally {
      blocker.close()
    }
  })

  it('ends within seconds, with one line, when no broker answers, releasing the state folder', async () => {
    const r = await concord(['run', '-c', configFile('nobroker', 'http: { port: 0 }\n')])
    assert.equal(r.code, 1)
    oneLine(r.stderr, /^concord: cannot connect to Kafka at 127\.0\.0\.1:1 \[CONCORD_ERR_KAFKA\]$/)
    assert.ok(r.ms < 15_000, `ended after ${r.ms} ms`)
    assert.ok(!existsSync(join(dir, 'nobroker', 'concord.lock')), 'the state folder was released')
  })

  it('refuses a state folder another live process holds, naming it', async () => {
    const file = configFile('locked', 'http: { port: 0 }\n')
    mkdirSync(join(dir, 'locked'))
    writeFileSync(join(dir, 'locked', 'concord.lock'), `${process.pid}\n`) // this test's own, live process
    const r = await concord(['run', '-c', file])
    assert.equal(r.code, 1)
    oneLine(r.stderr, new RegExp(`^concord: the state store in .* is in use by process ${process.pid} .*\\[CONCORD_ERR_STORE\\]$`))
  })
})
