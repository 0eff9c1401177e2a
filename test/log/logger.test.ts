import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { InternalError } from '../../src/errors.ts'
import { createLogger, type LogLevel } from '../../src/log/logger.ts'
import { repeatedKeys, topLevelKeys } from './keys.ts'

/** A logger whose lines are kept, one string each. */
function recording (level: LogLevel = 'info', bindings: Record<string, unknown> = {}) {
  const lines: string[] = []
  const log = createLogger(level, bindings, { write: line => { lines.push(line.trimEnd()) } })
  return { log, lines }
}

describe('the key scanner of the tests', () => {
  it('sees a repeated top-level key that JSON.parse would hide', () => {
    const text = '{"level":30,"dc":"dc1","inner":{"dc":"x"},"list":[{"dc":1}],"dc":"dc1"}'
    assert.deepEqual(topLevelKeys(text), ['level', 'dc', 'inner', 'list', 'dc'])
    assert.deepEqual(repeatedKeys(text), ['dc'])
  })

  it('reads keys and values with escaped quotes and commas inside strings', () => {
    assert.deepEqual(topLevelKeys('{"a":"x\\",\\"b\\":1","c\\"d":true}'), ['a', 'c"d'])
    assert.deepEqual(repeatedKeys('{"a":"x\\",\\"a\\":1"}'), [])
  })
})

describe('the logger', () => {
  it('writes each key once when the root and a child bind the same key', () => {
    const { log, lines } = recording('info', { dc: 'dc1' })
    log.child({ dc: 'dc1', component: 'kafka' }).child({ component: 'producer' }).info({ topic: 't' }, 'hello')
    assert.equal(lines.length, 1)
    assert.deepEqual(repeatedKeys(lines[0]!), [], lines[0])
    assert.deepEqual(topLevelKeys(lines[0]!), ['level', 'time', 'pid', 'dc', 'component', 'topic', 'msg'])
    assert.equal(JSON.parse(lines[0]!).component, 'producer', 'the most specific binding wins')
  })

  it('writes each key once when the call repeats a binding, with the call\'s value', () => {
    const { log, lines } = recording('info', { dc: 'dc1' })
    log.child({ component: 'processor' }).warn({ dc: 'dc2', component: 'x', records: 3 }, 'w')
    assert.deepEqual(repeatedKeys(lines[0]!), [], lines[0])
    const line = JSON.parse(lines[0]!)
    assert.equal(line.dc, 'dc2')
    assert.equal(line.component, 'x')
    assert.equal(line.level, 40)
  })

  it('keeps pino\'s own keys once, renaming those a call passes (kafkajs extras could carry any key)', () => {
    const { log, lines } = recording()
    log.info({ level: 'from-call', time: 5, msg: 'inner' }, 'outer')
    assert.deepEqual(repeatedKeys(lines[0]!), [], lines[0])
    const line = JSON.parse(lines[0]!)
    assert.deepEqual([line.level, line.msg, line.level_, line.time_, line.msg_], [30, 'outer', 'from-call', 5, 'inner'])
    assert.equal(typeof line.time, 'number')
  })

  it('refuses bindings that use pino\'s own keys, naming them', () => {
    assert.throws(() => createLogger('info', { msg: 'x' }), (err: unknown) => err instanceof InternalError && /got msg/.test(err.message))
    const { log } = recording()
    assert.throws(() => log.child({ level: 1, time: 2 }), /got level, time/)
  })

  it('serialises an error under err, given in the object or as the object', () => {
    const { log, lines } = recording()
    log.error({ err: new Error('boom') }, 'failed')
    log.error(new Error('bang'), 'failed too')
    const [a, b] = lines.map(l => JSON.parse(l))
    assert.equal(a.err.message, 'boom')
    assert.match(a.err.stack, /boom/)
    assert.equal(b.err.message, 'bang')
  })

  it('writes nothing below its level, and nothing at all when silent', () => {
    const { log, lines } = recording('warn')
    log.info({}, 'dropped')
    log.debug({}, 'dropped')
    log.child({ component: 'c' }).warn({}, 'kept')
    assert.deepEqual(lines.map(l => JSON.parse(l).msg), ['kept'])
    const silent = recording('silent')
    silent.log.fatal({}, 'dropped')
    assert.deepEqual(silent.lines, [])
  })
})

describe('the lines of concord run', () => {
  it('hold every key once, "dc" included, in the lines kafkajs logs through the composition root', async () => {
    // A refused broker: concord logs kafkajs' connection errors (root bindings, the kafka child, kafkajs'
    // extras) for about 3 s, then exits 1 with one line on stderr.
    const dir = mkdtempSync(join(tmpdir(), 'concord-log-'))
    const config = join(dir, 'concord.yaml')
    writeFileSync(config, [
      'dc: dc1', 'peers: [dc2]', 'kafka: { brokers: ["127.0.0.1:1"] }', 'topics: [{ name: orders, policy: lww }]',
      `store: { dir: ${JSON.stringify(join(dir, 'state'))} }`, 'http: { port: 0 }'
    ].join('\n'))
    const cli = fileURLToPath(new URL('../../src/cli/concord.ts', import.meta.url))
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
    assert.equal(code, 1)
    const lines = out.split('\n').filter(l => l !== '')
    assert.ok(lines.length >= 2, `kafkajs' connection errors are logged, got:\n${out}`)
    for (const line of lines) {
      assert.deepEqual(repeatedKeys(line), [], line)
      assert.equal(topLevelKeys(line).filter(k => k === 'dc').length, 1, line)
      assert.equal(JSON.parse(line).dc, 'dc1')
    }
    assert.ok(lines.some(l => JSON.parse(l).component === 'kafka'))
  })
})
