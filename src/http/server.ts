import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpError } from '../errors.ts'
import { parseBuckets, parseTarget } from './path.ts'

/** A state handler's answer: a JSON-able body, or why there is none (an unknown topic or entity: 404). */
export type Answer = { readonly found: true, readonly value: unknown } | { readonly found: false, readonly reason: string }

/**
 * The read-only state routes' handlers (src/query/state-query.ts's StateQuery is one). None of them writes.
 */
export interface StateHandlers {
  /** The configured topics. */
  topics (): readonly string[]
  /** One entity's view: `GET /v1/state/<topic>/<entityId>`. */
  entity (topic: string, entity: string): Answer
  /** The topic's digest and its bucket digests: `GET /v1/digest/<topic>`. */
  digest (topic: string): Promise<Answer>
  /** The entity digests of some buckets: `GET /v1/digest/<topic>?buckets=1,2`. */
  entityDigests (topic: string, buckets: readonly number[]): Promise<Answer>
}

export interface HttpHandlers {
  /** Prometheus text exposition and its content type. */
  readonly metrics: () => Promise<{ body: string, contentType: string }>
  /** Whether the processor is ready to serve (readiness, not liveness). */
  readonly ready: () => boolean
  /** The state routes under /v1/; without them those paths answer 404. */
  readonly state?: StateHandlers
}

/** Buckets of a topic digest (src/query/digest.ts). */
const BUCKETS = 256

const text = (res: ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body)
}
const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`)
}
const fail = (res: ServerResponse, status: number, error: string): void => json(res, status, { error })
const answer = (res: ServerResponse, a: Answer): void => a.found ? json(res, 200, a.value) : fail(res, 404, a.reason)

/**
 * The routes, all GET (anything else is 405 with `Allow: GET`):
 *   /livez (alias /healthz)      200 while the process runs
 *   /readyz                      200 when ready, else 503
 *   /metrics                     Prometheus text exposition
 *   /v1/topics                   the configured topics
 *   /v1/state/<topic>/<entity>   one entity's state view; segments percent-encoded
 *   /v1/digest/<topic>           the topic's digest for `concord verify`; `?buckets=1,2` for entity digests
 * A bad path is 400, an unknown topic or entity 404, each with `{ "error": ... }`; a failure is 500 with its
 * message, never a stack trace.
 */
async function route (req: IncomingMessage, res: ServerResponse, handlers: HttpHandlers): Promise<void> {
  const target = parseTarget(req.url ?? '/')
  if (!target.ok) return fail(res, 400, target.reason)
  const [first, second, third, ...rest] = target.segments
  if (target.segments.length === 1) {
    switch (first) {
      case 'livez':
      case 'healthz':
        return text(res, 200, 'ok\n')
      case 'readyz': {
        const ready = handlers.ready()
        return text(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n')
      }
      case 'metrics': {
        const { body, contentType } = await handlers.metrics()
        res.writeHead(200, { 'content-type': contentType }).end(body)
        return
      }
    }
  }
  if (first !== 'v1') return text(res, 404, 'not found\n')
  const state = handlers.state
  if (state === undefined) return fail(res, 404, 'this process serves no state queries')
  switch (second) {
    case 'topics':
      if (third !== undefined) return fail(res, 400, 'GET /v1/topics takes nothing after it')
      return json(res, 200, { topics: state.topics() })
    case 'state': {
      const entity = rest[0]
      if (third === undefined || third === '' || entity === undefined || entity === '' || rest.length > 1) {
        return fail(res, 400, 'the path must be /v1/state/<topic>/<entityId>, each part percent-encoded (an id holding / as %2F)')
      }
      return answer(res, state.entity(third, entity))
    }
    case 'digest': {
      if (third === undefined || third === '' || rest.length > 0) return fail(res, 400, 'the path must be /v1/digest/<topic>, optionally with ?buckets=<n>,<n>...')
      const buckets = target.query.get('buckets')
      if (buckets === null) return answer(res, await state.digest(third))
      const parsed = parseBuckets(buckets, BUCKETS)
      if (!parsed.ok) return fail(res, 400, parsed.reason)
      return answer(res, await state.entityDigests(third, parsed.buckets))
    }
    default:
      return fail(res, 404, `no route ${JSON.stringify(`/${target.segments.join('/')}`)} (the state routes are /v1/topics, /v1/state/<topic>/<entityId>, /v1/digest/<topic>)`)
  }
}

/** Starts the server on `host:port` (0: any free port); throws HttpError naming the keys when it cannot listen. */
export async function startHttp (host: string, port: number, handlers: HttpHandlers): Promise<{ server: Server, port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' }).end(`method ${req.method ?? ''} not allowed: every route here is GET\n`)
      return
    }
    route(req, res, handlers).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err)
      if (!res.headersSent) fail(res, 500, message)
      else res.destroy()
    })
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
