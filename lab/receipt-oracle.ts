import type { WriteReceipt } from '../src/sdk/writer.ts'

/**
 * The last-write-wins oracle over the writer SDK's receipts, for the tests that write through the SDK: per
 * entity, the write with the greatest (ts, counter, dc, eventId), numbers numerically and strings by byte
 * order. Written apart from src/model/stamp.ts on purpose, from the receipts' `originTs` text.
 */
export interface Receipted {
  readonly entity: string
  readonly dc: string
  /** The value written; null for a delete. */
  readonly value: unknown
  readonly receipt: WriteReceipt
}

function newer (a: Receipted, b: Receipted): boolean {
  const [at = 0, ac = 0] = a.receipt.originTs.split(':').map(Number)
  const [bt = 0, bc = 0] = b.receipt.originTs.split(':').map(Number)
  if (at !== bt) return at > bt
  if (ac !== bc) return ac > bc
  const bytes = (x: string, y: string): number => Buffer.compare(Buffer.from(x), Buffer.from(y))
  if (a.dc !== b.dc) return bytes(a.dc, b.dc) > 0
  return bytes(a.receipt.eventId, b.receipt.eventId) > 0
}

/** Entity -> its winning write. */
export function receiptWinners (writes: readonly Receipted[]): Map<string, Receipted> {
  const best = new Map<string, Receipted>()
  for (const w of writes) {
    const cur = best.get(w.entity)
    if (cur === undefined || newer(w, cur)) best.set(w.entity, w)
  }
  return best
}
