/**
 * The state routes of the HTTP server: paths parsed strictly (400 naming the problem), unknown topics and
 * entities 404, other methods 405 with Allow, failures 500 with the message and no stack trace; and the
 * real state query behind them, over a store an engine filled.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { validateConfig } from '../../src/config/validate.ts'
import { startHttp, type Answer, type StateHandlers } from '../../src/http/server.ts'
import { policies } from '../../src/merge/index.ts'
import { Engine } from '../../src/processor/engine.ts'
import { planTopics } from '../../src/processor/plan.ts'
import { StateQuery } from '../../src/query/state-query.ts'
import { H } from '../../src/wire/contract.ts'
import { memoryStore } from '../processor/rig.ts'

const calls: string[] = []
let failWith: Error | undefined
const fake: StateHandlers = {
  topics: () => ['orders'],
  entity: (topic, entity): Answer => {
    calls.push(`entity ${topic} ${entity}`)
    if (failWith !== undefined) throw failWith
    return topic === 'orders' && entity === 'o/1' ? { found: true, value: { entity } } : { found: false, reason: `no ${entity}` }
  },
  digest: async topic => { calls.push(`digest ${topic}`); return { found: true, value: { digest: 'd' } } },
  entityDigests: async (topic, buckets) => { calls.push(`entityDigests ${topic} ${buckets.join(',')}`); return { found: true, value: { buckets } } }
}

const servers: Array<{ close: (cb: () => void) => void }> = []
after(() => Promise.all(servers.map(s => new Promise<void>(resolve => s.close(() => resolve())))))
async function serve (state?: StateHandlers): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const started = await startHttp('127.0.0.1', 0, { metrics: async () => ({ body: '', contentType: 'text/plain' }), ready: () => true, ...(state === undefined ? {} : { state }) })
  servers.push(started.server)
  return (path, init) => fetch(`http://127.0.0.1:${started.port}${path}`, init)
}
const get = await serve(fake)

const errorOf = async (res: Response): Promise<string> => {
  assert.equal(res.headers.get('content-type'), 'application/json')
  const body = await res.json() as { error: string }
  return body.error
}

describe('the state routes', () => {
  it('decode each path segment: an entity id holding / and non-ASCII arrives whole', async () => {
    calls.length = 0
    const res = await get('/v1/state/orders/o%2F1')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { entity: 'o/1' })
    await get('/v1/state/orders/%C3%A9t%C3%A9?ignored=1')
    assert.deepEqual(calls, ['entity orders o/1', 'entity orders été'])
  })

  it('answer an unknown entity or topic with 404 and the reason', async () => {
    const res = await get('/v1/state/orders/o-2')
    assert.equal(res.status, 404)
    assert.equal(await errorOf(res), 'no o-2')
  })

  it('answer a bad path with 400 naming what is wrong, without calling the handler', async () => {
    calls.length = 0
    const cases: Array<[string, RegExp]> = [
      ['/v1/state/orders', /must be \/v1\/state\/<topic>\/<entityId>/],
      ['/v1/state/orders/', /must be \/v1\/state\/<topic>\/<entityId>/],
      ['/v1/state//o-1', /must be \/v1\/state\/<topic>\/<entityId>/],
      ['/v1/state/orders/a/b', /must be \/v1\/state\/<topic>\/<entityId>/],
      ['/v1/state/orders/%E0%A4%A', /path segment 4 \("%E0%A4%A"\) is not valid percent-encoded UTF-8/],
      ['/v1/state/orders/%FF', /is not valid percent-encoded UTF-8/],
      ['/v1/digest', /must be \/v1\/digest\/<topic>/],
      ['/v1/digest/orders?buckets=256', /"buckets" must be a comma-separated list of bucket numbers 0 to 255, got "256"/],
      ['/v1/digest/orders?buckets=1,,2', /"buckets" must be/],
      ['/v1/digest/orders?buckets=-1', /"buckets" must be/],
      ['/v1/topics/x', /takes nothing after it/]
    ]
    for (const [path, reason] of cases) {
      const res = await get(path)
      assert.equal(res.status, 400, path)
      assert.match(await errorOf(res), reason, path)
    }
    assert.deepEqual(calls, [])
  })

  it('answer an unknown route under /v1 with 404 listing the routes', async () => {
    const res = await get('/v1/nope')
    assert.equal(res.status, 404)
    assert.match(await errorOf(res), /the state routes are \/v1\/topics, \/v1\/state\/<topic>\/<entityId>, \/v1\/digest\/<topic>/)
  })

  it('answer every other method with 405 and Allow: GET, writing nothing', async () => {
    calls.length = 0
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get('/v1/state/orders/o%2F1', { method })
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.get('allow'), 'GET')
    }
    assert.deepEqual(calls, [])
  })

  it('route digests: the topic digest, or the entity digests of the buckets asked for', async () => {
    calls.length = 0
    assert.deepEqual(await (await get('/v1/digest/orders')).json(), { digest: 'd' })
    assert.deepEqual(await (await get('/v1/digest/orders?buckets=3,0,255')).json(), { buckets: [3, 0, 255] })
    assert.deepEqual(await (await get('/v1/topics')).json(), { topics: ['orders'] })
    assert.deepEqual(calls, ['digest orders', 'entityDigests orders 3,0,255'])
  })

  it('answer a failing handler with 500 and its message, never a stack trace', async () => {
    failWith = new Error('resolve failed on a stored state')
    try {
      const res = await get('/v1/state/orders/o%2F1')
      assert.equal(res.status, 500)
      const error = await errorOf(res)
      assert.equal(error, 'resolve failed on a stored state')
    } finally {
      failWith = undefined
    }
  })

  it('answer /v1 with 404 where no state handlers are given', async () => {
    const bare = await serve()
    const res = await bare('/v1/state/orders/o-1')
    assert.equal(res.status, 404)
    assert.equal(await errorOf(res), 'this process serves no state queries')
  })
})

describe('the state routes over the real state query', () => {
  it('serve an entity\'s view and the topic digest from a store an engine filled', async () => {
    const config = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 'orders', policy: 'lww', codec: 'raw' }] }, { policies })
    const store = memoryStore()
    const plans = planTopics(config, (name, format) => store.topicId(name, format))
    new Engine(store, plans).process({
      topic: 'orders',
      partition: 0,
      records: [{ offset: '0', timestamp: '0', key: Buffer.from('o 1-dc1'), value: Buffer.from([0, 255]), headers: { [H.originDc]: 'dc1', [H.originTs]: '1700000000000', [H.eventId]: 'e1' } }]
    })
    const real = await serve(new StateQuery(plans.topics, store))
    const res = await real('/v1/state/orders/o%201')
    assert.equal(res.status, 200)
    const view = await res.json() as { value: unknown, origin: unknown, state: { versions: unknown[] } }
    assert.deepEqual(view.value, { encoding: 'base64', value: Buffer.from([0, 255]).toString('base64') })
    assert.deepEqual(view.origin, { dc: 'dc1', ts: 1_700_000_000_000, counter: 0, eventId: 'e1' })
    assert.equal(view.state.versions.length, 1)
    const digest = await (await real('/v1/digest/orders')).json() as { entities: number, buckets: string[], format: string }
    assert.equal(digest.entities, 1)
    assert.equal(digest.buckets.length, 256)
    assert.equal(digest.format, 'concord-digest-1')
    const unknown = await real('/v1/state/payments/x')
    assert.equal(unknown.status, 404)
    assert.equal(await errorOf(unknown), 'no topic "payments" is configured (topics: orders)')
    store.close()
  })
})
