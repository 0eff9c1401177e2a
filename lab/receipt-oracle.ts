import type { WriteReceipt } from '../src/sdk/writer.ts'
import { expectedState } from './workload.ts'

/**
 * The last-write-wins oracle over the writer SDK's receipts, for the tests that write through the SDK: the
 * workload's oracle (lab/workload.ts `expectedState`, written apart from src/model/stamp.ts), fed with each
 * receipt's stamp as its `originTs` text gives it.
 */
export interface Receipted {
  readonly entity: string
  readonly dc: string
  /** The value written; null for a delete. */
  readonly value: unknown
  readonly receipt: WriteReceipt
}

/** Entity -> its winning write. */
export function receiptWinners (writes: readonly Receipted[]): Map<string, Receipted> {
  const stamped = writes.map(w => {
    const [ts = 0, counter = 0] = w.receipt.originTs.split(':').map(Number)
    return { entity: w.entity, dc: w.dc, ts, counter, eventId: w.receipt.eventId, write: w }
  })
  return new Map([...expectedState(stamped)].map(([entity, s]) => [entity, s.write]))
}
