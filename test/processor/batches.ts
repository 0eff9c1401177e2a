/** Cuts deliveries into consecutive single-topic batches of at most the next size each (sizes cycle). */
export function batches<D extends { readonly topic: string }> (deliveries: readonly D[], sizes: readonly number[]): Array<{ topic: string, items: D[] }> {
  const out: Array<{ topic: string, items: D[] }> = []
  let limit = 0
  for (const d of deliveries) {
    const current = out.at(-1)
    if (current === undefined || current.topic !== d.topic || current.items.length >= limit) {
      limit = sizes[out.length % sizes.length]!
      out.push({ topic: d.topic, items: [d] })
    } else {
      current.items.push(d)
    }
  }
  return out
}
