import { QueryError } from '../errors.ts'

/** How long a request to a processor may take (a digest of a large topic takes a while). */
const TIMEOUT_MS = 120_000

/** The status (200 or 404) and JSON body a processor answers at `base` + `path`; QueryError for anything else. */
export async function getJson (base: string, path: string): Promise<{ status: number, body: unknown }> {
  const url = `${base.replace(/\/+$/, '')}${path}`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    throw new QueryError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err })
  }
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new QueryError(`${url} answered ${res.status} with no JSON (is it a concord endpoint?): ${text.slice(0, 200)}`, { cause: err })
  }
  if (res.status !== 200 && res.status !== 404) throw new QueryError(`${url} answered ${res.status}: ${errorOf(body) ?? text.slice(0, 200)}`)
  return { status: res.status, body }
}

/** The `error` of an error body. */
export const errorOf = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : undefined
