import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, describe, it } from 'node:test'
import { HttpError } from '../../src/errors.ts'
import { startHttp } from '../../src/http/server.ts'

let ready = false
const started = await startHttp('127.0.0.1', 0, {
  metrics: async () => ({ body: 'concord_ready 1\n', contentType: 'text/plain; version=0.0.4' }),
  ready: () => ready
})
after(() => new Promise<void>(resolve => started.server.close(() => resolve())))
const url = (path: string): string => `http://127.0.0.1:${started.port}${path}`

describe('the HTTP server', () => {
  it('answers /livez and its alias /healthz with 200 while the process runs', async () => {
    for (const path of ['/livez', '/healthz']) {
      const res = await fetch(url(path))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'ok\n')
    }
  })

  it('answers /readyz with 503 until the processor is ready, then 200', async () => {
    ready = false
    assert.equal((await fetch(url('/readyz'))).status, 503)
    ready = true
    const res = await fetch(url('/readyz'))
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'ready\n')
  })

  it('serves the metrics with their content type, ignoring a query string', async () => {
    const res = await fetch(url('/metrics?x=1'))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4')
    assert.equal(await res.text(), 'concord_ready 1\n')
  })

  it('answers an unknown path with 404 and another method with 405 naming GET', async () => {
    assert.equal((await fetch(url('/nope'))).status, 404)
    const res = await fetch(url('/metrics'), { method: 'POST' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET')
  })

  it('refuses a port in use with a coded HttpError naming the address and the keys', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      await assert.rejects(startHttp('127.0.0.1', port, { metrics: async () => ({ body: '', contentType: '' }), ready: () => true }), (err: unknown) => {
        assert.ok(err instanceof HttpError)
        assert.equal(err.code, 'CONCORD_ERR_HTTP')
        assert.equal(err.retriable, false)
        assert.equal(err.message, `cannot listen on 127.0.0.1:${port} (http.host, http.port): the address is in use (another process listens there)`)
        return true
      })
    } finally {
      blocker.close()
    }
  })
})
