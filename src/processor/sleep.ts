import { setTimeout } from 'node:timers/promises'

/**
 * Waits `ms`, or less once `signal` aborts; never rejects. Injected wherever the processor waits (the retry
 * back-off, the look for new topics), so that a test decides when time has passed instead of sleeping.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

export const sleep: Sleep = async (ms, signal) => {
  await setTimeout(ms, undefined, signal === undefined ? {} : { signal }).catch(() => {})
}
