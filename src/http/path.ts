/**
 * The request target of the state routes, parsed strictly: a path of percent-encoded segments (an entity id
 * holding `/` comes as `%2F`), then an optional query string. Anything else is a bad request (400) that
 * names what is wrong, never a guess.
 */
export type Parsed = { readonly ok: true, readonly segments: readonly string[], readonly query: URLSearchParams } | { readonly ok: false, readonly reason: string }

export function parseTarget (target: string): Parsed {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1))
  if (!path.startsWith('/')) return { ok: false, reason: `the path must start with /, got ${JSON.stringify(path)}` }
  const raw = path.slice(1).split('/')
  const segments: string[] = []
  for (const [i, s] of raw.entries()) {
    let decoded: string
    try {
      decoded = decodeURIComponent(s)
    } catch {
      return { ok: false, reason: `path segment ${i + 1} (${JSON.stringify(s)}) is not valid percent-encoded UTF-8` }
    }
    segments.push(decoded)
  }
  return { ok: true, segments, query }
}

/** The buckets of `?buckets=1,2,3` (each 0 to count-1), or why they are no such list. */
export function parseBuckets (value: string, count: number): { ok: true, buckets: number[] } | { ok: false, reason: string } {
  const buckets: number[] = []
  for (const part of value.split(',')) {
    const n = /^\d{1,5}$/.test(part) ? Number(part) : NaN
    if (!(n >= 0 && n < count)) return { ok: false, reason: `"buckets" must be a comma-separated list of bucket numbers 0 to ${count - 1}, got ${JSON.stringify(value)}` }
    buckets.push(n)
  }
  return { ok: true, buckets }
}
