/**
 * Record keys. `suffixed` keys are `<entityId><sep><dc>` (`order-42-dc1` with sep `-`), split at the LAST
 * separator so entity ids may contain it; `plain` keys are the entity id itself (the writer DC comes from
 * the `x-origin-dc` header).
 */
export interface ParsedKey {
  readonly entity: string
  /** The DC named by the key suffix; undefined for plain keys. */
  readonly dc: string | undefined
}

/** Returns the parsed key, or a reason string when the key is unusable. */
export function parseSuffixedKey (key: string, separator: string, dcs: ReadonlySet<string>): ParsedKey | string {
  const at = key.lastIndexOf(separator)
  if (at <= 0) return `key "${key}" has no "${separator}<dc>" suffix`
  const dc = key.slice(at + separator.length)
  if (!dcs.has(dc)) return `key "${key}" ends in "${dc}", which is not a configured DC (${[...dcs].join(', ')})`
  return { entity: key.slice(0, at), dc }
}
