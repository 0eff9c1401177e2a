import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpError } from '../errors.ts'

export interface HttpHandlers {
  /** Prometheus text exposition and its content type. */
  readonly metrics: () => Promise<{ body: string, contentType: string }>
  /** Whether the processor consumes every input topic that exists (readiness, not liveness). */
  readonly ready: () => boolean
}

/**
 * node:http server: `GET /metrics`, `GET /healthz` (the process is alive), `GET /readyz` (200 when ready,
 * else 503).
 */
export async function startHttp (host: string, port: number, handlers: HttpHandlers): Promise<{ server: Server, port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }
    switch (path) {
      case '/metrics':
        handlers.metrics().then(({ body, contentType }) => {
          res.writeHead(200, { 'content-type': contentType }).end(body)
        }, (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err))
        })
        return
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
        return
      case '/readyz': {
        const ready = handlers.ready()
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n')
        return
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE'
        ? 'the address is in use (another process listens there)'
        : err.code === 'EADDRNOTAVAIL'
          ? 'the address is not on this host'
          : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message
      reject(new HttpError(`cannot listen on ${host}:${port} (http.host, http.port): ${why}`, { cause: err }))
    }
    server.once('error', refuse)
    server.listen(port, host, () => { server.off('error', refuse); resolve() })
  })
  return { server, port: (server.address() as AddressInfo).port }
}
