import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'

/**
 * Watches writers' clocks through the records they stamp, without letting them decide anything: per source DC,
 * the greatest origin timestamp minus arrival time in the current interval goes to
 * `concord_origin_ahead_max_seconds`, and a record more than `warnAheadMs` ahead of this processor's clock is
 * logged, at most once per source DC per interval. Every DC merges the same record the same way whatever its
 * clock says: no clamping, no refusal by the local clock (a clock behind shows as delay, and cannot be told
 * apart from it here).
 */
export interface SkewOptions {
  /** A record whose origin is more than this ahead of the local clock is logged (ms). */
  readonly warnAheadMs: number
  /** The gauge's interval, and the shortest time between two warnings about one source DC (ms). */
  readonly intervalMs: number
}

export const DEFAULT_SKEW: SkewOptions = Object.freeze({ warnAheadMs: 1_000, intervalMs: 60_000 })

interface DcWindow {
  start: number
  maxAheadMs: number
  warnedAt: number
}

export class SkewMonitor {
  readonly #options: SkewOptions
  readonly #metrics: Metrics
  readonly #log: Logger
  readonly #clock: () => number
  readonly #dcs = new Map<string, DcWindow>()

  constructor (metrics: Metrics, log: Logger, options: SkewOptions = DEFAULT_SKEW, clock: () => number = Date.now) {
    this.#metrics = metrics
    this.#log = log
    this.#options = options
    this.#clock = clock
  }

  /** A committed batch from `topic` (a copy from `sourceDc`) whose records were at most `maxAheadMs` ahead. */
  observe (sourceDc: string, topic: string, maxAheadMs: number): void {
    if (maxAheadMs === -Infinity) return
    const now = this.#clock()
    const { intervalMs, warnAheadMs } = this.#options
    let w = this.#dcs.get(sourceDc)
    if (w === undefined) this.#dcs.set(sourceDc, w = { start: now, maxAheadMs, warnedAt: -Infinity })
    else if (now - w.start >= intervalMs) {
      w.start = now
      w.maxAheadMs = maxAheadMs
    } else if (maxAheadMs > w.maxAheadMs) w.maxAheadMs = maxAheadMs
    this.#metrics.originAheadMax.set({ source_dc: sourceDc }, w.maxAheadMs / 1000)
    if (maxAheadMs > warnAheadMs && now - w.warnedAt >= intervalMs) {
      w.warnedAt = now
      this.#log.warn({ sourceDc, topic, aheadMs: Math.round(maxAheadMs) },
        `origin timestamps from ${sourceDc} are ahead of this processor's clock: a writer's clock (or this one) is off; merges are unaffected, every DC decides by the stamps alone (logged at most once per source DC per skew.intervalMs)`)
    }
  }
}
