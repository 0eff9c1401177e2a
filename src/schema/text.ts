/** Helpers for messages about values: how a value is quoted, and the nearest known key to a typo. */

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** How a bad value is quoted in a message: JSON, cut short, and `nothing` when the key is missing. */
export function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  const json = JSON.stringify(v) ?? String(v)
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}

/** The known key closest to a misspelt one by edit distance (case ignored), if close enough to be a typo. */
export function suggest (key: string, known: readonly string[]): string | undefined {
  const a = key.toLowerCase()
  let best: string | undefined
  let bestDistance = (a.length <= 3 ? 1 : Math.max(2, Math.floor(a.length / 3))) + 1
  for (const k of known) {
    const b = k.toLowerCase()
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const row = [i]
      for (let j = 1; j <= b.length; j++) {
        row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
      }
      prev = row
    }
    const d = prev[b.length] ?? 0
    if (d < bestDistance) { best = k; bestDistance = d }
  }
  return best
}

/** `a.b`, `a[0]`, or the key alone at the root. */
export const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`

export function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child)
    Object.freeze(v)
  }
  return v
}
