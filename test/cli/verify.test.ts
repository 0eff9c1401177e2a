/**
 * `concord verify` and `concord inspect` in-process, on real state folders that engines filled: two DCs fed
 * the same writes in different orders converge (exit 0) whether read from their folders (one still open by
 * its processor) or over HTTP; a DC that missed a write diverges (exit 1) and the entity is named.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Options } from '../../src/cli/args.ts'
import { inspect } from '../../src/cli/inspect.ts'
import { verify } from '../../src/cli/verify.ts'
import { codecs } from '../../src/codec/value-codec.ts'
import { loadConfig } from '../../src/config/load.ts'
import { QueryError, UsageError } from '../../src/errors.ts'
import { startHttp } from '../../src/http/server.ts'
import { policies } from '../../src/merge/index.ts'
import type { InRecord } from '../../src/model/record.ts'
import { Engine } from '../../src/processor/engine.ts'
import { planTopics } from '../../src/processor/plan.ts'
import { StateQuery } from '../../src/query/state-query.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import { H } from '../../src/wire/contract.ts'

const dir = mkdtempSync(join(tmpdir(), 'concord-verify-'))
const closing: Array<() => unknown> = []
after(async () => {
  for (const close of closing.reverse()) await close()
  rmSync(dir, { recursive: true, force: true })
})

const T = 1_700_000_000_000
interface W { readonly entity: string, readonly dc: 'dc1' | 'dc2', readonly ts: number, readonly value: unknown }
const options = (o: Partial<Options> = {}): Options => ({ topics: [], limit: 20, attempts: 1, waitMs: 0, execute: false, json: false, ...o })

/** A DC's configuration file and its store after the engine consumed `writes` in this order; the store stays open, as a running processor's. */
function dc (name: string, self: 'dc1' | 'dc2', writes: readonly W[]): { file: string, store: SqliteStateStore, query: StateQuery } {
  const peer = self === 'dc1' ? 'dc2' : 'dc1'
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, `dc: ${self}\npeers: [${peer}]\nkafka: { brokers: ['127.0.0.1:1'] }\ntopics: [{ name: orders, policy: lww }, { name: stock, policy: { type: counter, field: qty } }]\nstore: { dir: ${join(dir, name)} }\n`)
  const config = loadConfig({ file, policies, env: {} })
  const store = new SqliteStateStore(openDatabase(config.store))
  closing.push(() => store.close())
  const plans = planTopics(config, (n, f) => store.topicId(n, f))
  const engine = new Engine(store, plans)
  writes.forEach((w, i) => {
    const record: InRecord = {
      offset: String(i),
      timestamp: String(T),
      key: Buffer.from(`${w.entity}-${w.dc}`),
      value: w.value === null ? null : codecs.msgpack.encode(w.value),
      headers: { [H.originDc]: w.dc, [H.originTs]: String(w.ts), [H.eventId]: `${w.entity}-${w.dc}-${w.ts}` }
    }
    for (const topic of ['orders', 'stock']) engine.process({ topic: w.dc === self ? topic : `${w.dc}.${topic}`, partition: 0, records: [{ ...record, offset: String(i) }] })
  })
  return { file, store, query: new StateQuery(plans.topics, store) }
}

const writes: W[] = [
  { entity: 'o-1', dc: 'dc1', ts: T, value: { qty: 1 } },
  { entity: 'o-1', dc: 'dc2', ts: T + 1, value: { qty: 2 } },
  { entity: 'o-2', dc: 'dc2', ts: T + 2, value: { qty: 5 } },
  { entity: 'o-3', dc: 'dc1', ts: T + 3, value: { qty: 7 } },
  { entity: 'o-3', dc: 'dc2', ts: T + 4, value: null },
  { entity: 'o/4 é', dc: 'dc1', ts: T + 5, value: { qty: 3 } }
]
const reversed = [...writes].reverse().sort((a, b) => a.dc === b.dc ? a.ts - b.ts : a.dc === 'dc2' ? -1 : 1)
const a = dc('a', 'dc1', writes)
const b = dc('b', 'dc2', reversed)
const missed = dc('c', 'dc2', reversed.filter(w => w.entity !== 'o-2'))
const stale = dc('d', 'dc2', reversed.filter(w => !(w.entity === 'o-1' && w.dc === 'dc2')))

async function serve (query: StateQuery): Promise<string> {
  const { server, port } = await startHttp('127.0.0.1', 0, { metrics: async () => ({ body: '', contentType: 'text/plain' }), ready: () => true, state: query })
  closing.push(() => new Promise<void>(resolve => server.close(() => resolve())))
  return `http://127.0.0.1:${port}`
}

/** A port nothing listens on. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

const captured = (): { out: (t: string) => void, text: () => string } => {
  const lines: string[] = []
  return { out: t => { lines.push(t) }, text: () => lines.join('\n') }
}

describe('concord verify', () => {
  it('says two DCs fed the same writes in different orders converged, reading their folders while their processors hold them', async () => {
    const c = captured()
    assert.equal(await verify([a.file, b.file], options(), c.out), 0)
    assert.match(c.text(), /^orders: converged \(3 entities, digest [0-9a-f]{16}\)\nstock: converged \(3 entities/)
    assert.match(c.text(), /have converged$/)
  })

  it('finds a DC that missed a write, names the entity, and exits 1', async () => {
    const c = captured()
    assert.equal(await verify([a.file, missed.file], options({ topics: ['orders'] }), c.out), 1)
    assert.match(c.text(), /^orders: DIVERGED, 1 entity differs \(3 entities in .*a\.yaml, 2 in .*c\.yaml\)\n {2}"o-2" {2}only in .*a\.yaml\n/)
    assert.match(c.text(), /\n {6}.*a\.yaml: \{"qty":5\} {2}origin dc2 {2}2023-11-14T22:13:20\.002Z {2}counter 0 {2}event o-2-dc2-1700000000002\n {6}.*c\.yaml: no such entity\n/)
    const j = captured()
    assert.equal(await verify([missed.file, a.file], options({ json: true }), j.out), 1)
    const report = JSON.parse(j.text()) as { converged: boolean, topics: Array<{ topic: string, converged: boolean, differing: unknown[] }> }
    assert.equal(report.converged, false)
    const shown = report.topics.map(t => [t.topic, (t.differing as Array<{ entity: string, kind: string, a: unknown, b: { value: unknown } | null }>).map(d => [d.entity, d.kind, d.a, d.b?.value])])
    assert.deepEqual(shown, [
      ['orders', [['o-2', 'only-b', null, { encoding: 'json', value: { qty: 5 } }]]],
      ['stock', [['o-2', 'only-b', null, { encoding: 'json', value: { qty: 5 } }]]]
    ])
  })

  it('shows what each side holds of an entity whose value differs', async () => {
    const j = captured()
    assert.equal(await verify([a.file, stale.file], options({ json: true, topics: ['orders'] }), j.out), 1)
    const [d] = (JSON.parse(j.text()) as { topics: Array<{ differing: Array<{ entity: string, kind: string, a: { value: unknown, origin: { dc: string } }, b: { value: unknown, origin: { dc: string } } }> }> }).topics[0]!.differing
    assert.deepEqual([d!.entity, d!.kind, d!.a.value, d!.a.origin.dc, d!.b.value, d!.b.origin.dc],
      ['o-1', 'differs', { encoding: 'json', value: { qty: 2 } }, 'dc2', { encoding: 'json', value: { qty: 1 } }, 'dc1'])
  })

  it('compares over HTTP as from folders, and a state folder with --config', async () => {
    const [ua, ub, uc] = await Promise.all([serve(a.query), serve(b.query), serve(missed.query)])
    assert.equal(await verify([ua, ub], options(), captured().out), 0)
    const c = captured()
    assert.equal(await verify([ua, uc], options({ limit: 1 }), c.out), 1)
    assert.match(c.text(), /"o-2" {2}only in http:/)
    assert.equal(await verify([join(dir, 'a'), ub], options({ config: a.file }), captured().out), 0)
  })

  it('refuses a side it cannot read, naming it', async () => {
    await assert.rejects(verify(['nowhere', a.file], options(), captured().out), (err: unknown) => err instanceof UsageError && /"nowhere" must be a processor's URL/.test(err.message))
    await assert.rejects(verify([join(dir, 'a'), a.file], options(), captured().out), (err: unknown) => err instanceof UsageError && /add --config <file>/.test(err.message))
    const closed = await freePort()
    await assert.rejects(verify([`http://127.0.0.1:${closed}`, a.file], options(), captured().out),
      (err: unknown) => err instanceof QueryError && err.message === `cannot reach http://127.0.0.1:${closed}/v1/topics: ECONNREFUSED`)
    await assert.rejects(verify([a.file, b.file], options({ topics: ['nope'] }), captured().out), (err: unknown) => err instanceof QueryError && /no topic "nope" is configured/.test(err.message))
  })
})

describe('concord inspect', () => {
  it('prints an entity from the folder its processor holds open, as text and as the JSON view', async () => {
    const c = captured()
    assert.equal(await inspect('orders', 'o-1', options({ config: a.file }), c.out), 0)
    assert.match(c.text(), /^orders "o-1" {3}policy lww, codec msgpack, home partition 0\nvalue {6}\{"qty":2\}\norigin {5}dc2 {2}2023-11-14T22:13:20\.001Z {2}counter 0 {2}event o-1-dc2-1700000000001\n/)
    assert.match(c.text(), /\n {2}dc1 {2}2023-11-14T22:13:20\.000Z {2}counter 0 {2}event o-1-dc1-1700000000000 {2}live {4}\{"qty":1\}/)
    const j = captured()
    await inspect('orders', 'o/4 é', options({ config: a.file, json: true }), j.out)
    const view = a.query.entity('orders', 'o/4 é')
    assert.ok(view.found)
    assert.deepEqual(JSON.parse(j.text()), JSON.parse(JSON.stringify(view.value)))
  })

  it('shows a deleted entity as deleted, and refuses an unknown one or an unknown topic', async () => {
    const c = captured()
    await inspect('orders', 'o-3', options({ config: a.file }), c.out)
    assert.match(c.text(), /\nvalue {6}\(deleted\)\n/)
    await assert.rejects(inspect('orders', 'o-9', options({ config: a.file }), captured().out), (err: unknown) => err instanceof QueryError && err.message === 'topic "orders" has no entity "o-9"')
    await assert.rejects(inspect('nope', 'o-1', options({ config: a.file }), captured().out), /no topic "nope" is configured \(topics: orders, stock\)/)
  })

  it('asks a running processor with --url, and reads another folder with --state-dir', async () => {
    const url = await serve(b.query)
    const c = captured()
    await inspect('orders', 'o/4 é', options({ url, json: true }), c.out)
    assert.equal((JSON.parse(c.text()) as { entity: string }).entity, 'o/4 é')
    await assert.rejects(inspect('orders', 'o-9', options({ url }), captured().out), (err: unknown) => err instanceof QueryError && /has no entity "o-9"/.test(err.message))
    const d = captured()
    await inspect('orders', 'o-2', options({ config: a.file, stateDir: join(dir, 'c') }), d.out).catch((err: unknown) => d.out(String(err)))
    assert.match(d.text(), /has no entity "o-2"/, 'read from folder c, which missed o-2')
  })
})
