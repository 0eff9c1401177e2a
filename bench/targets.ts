import { validateConfig } from '../src/config/validate.ts'
import { policies } from '../src/merge/index.ts'
import type { E2eCase, E2eResult } from './e2e.ts'
import type { EngineResult } from './engine.ts'

/**
 * The performance targets of issue #9, evaluated on whatever suites ran. Each target becomes one or more rows
 * with the measured figure, the threshold, ratio = measured ÷ threshold (at least 1 meets a "≥" target, below 1
 * meets a "<" target) and met, not met, or not measured (with why: its suite did not run or failed, or its
 * case was not in the run). A pure function of the results, so it is unit-tested (test/bench/targets.test.ts).
 */
export type TargetStatus = 'met' | 'not met' | 'not measured'

export interface TargetRow {
  readonly target: string
  /** The figure as printed; empty when not measured. */
  readonly measured: string
  readonly threshold: string
  /** measured ÷ threshold; null when not measured. */
  readonly ratio: number | null
  readonly met: TargetStatus
  /** Why it was not measured, or what is reported beside it. */
  readonly note: string
}

/** A suite's results, or why there are none. */
export type Outcome<R> = { readonly result: R } | { readonly why: string }

export interface TargetInputs {
  readonly engine: Outcome<readonly EngineResult[]>
  readonly e2e: Outcome<E2eResult>
}

/** The store settings of the default config: the "default config" of the RSS target. */
const STORE_DEFAULTS = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [{ name: 't', policy: 'lww' }] }, { policies }).store

export const ENGINE_MIN_RECORDS_PER_SECOND = 100_000
export const E2E_ENTITIES = [100_000, 1_000_000] as const
export const E2E_MIN_OVER_KAFKA_STREAMS = 2
export const E2E_MIN_RECORDS_PER_SECOND = 50_000
export const LATENCY_MAX_P99_MS = 30
export const LATENCY_MAX_P50_MS = 10
export const SCALE_MIN_RATIO = 0.75
export const SCALE_MAX_RSS_MIB = 1024

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const count = (n: number): string => n.toLocaleString('en-US')

function row (target: string, threshold: string, limit: number, at: 'least' | 'most', measured: number, shown: string, note = ''): TargetRow {
  const met = Number.isFinite(measured) ? (at === 'least' ? measured >= limit : measured < limit) : false
  return { target, measured: shown, threshold, ratio: measured / limit, met: met ? 'met' : 'not met', note }
}

const notMeasured = (target: string, threshold: string, why: string): TargetRow => ({ target, measured: '', threshold, ratio: null, met: 'not measured', note: why })

function engineRows (engine: Outcome<readonly EngineResult[]>, e2e: Outcome<E2eResult>): TargetRow[] {
  const rows: TargetRow[] = []
  const results = 'result' in engine ? engine.result : []
  const lww = results.filter(r => r.variant === 'lww-header')
  const why = (entities: number, also: (r: EngineResult) => boolean = () => true): string => {
    if ('why' in engine) return engine.why
    if (lww.length === 0) return 'lww-header was not among --variants'
    const at = lww.filter(also).map(r => count(r.entities))
    return at.length === 0 ? 'no lww-header case in this run had these settings' : `lww-header ran at ${at.join(', ')} entities only, not ${count(entities)}`
  }

  const t1 = 'engine: lww-header, 1M entities, synchronous=normal'
  const t1Threshold = `>= ${int(ENGINE_MIN_RECORDS_PER_SECOND)} records/s`
  const one = lww.find(r => r.entities === 1_000_000 && r.synchronous === 'normal')
  if (one === undefined) {
    rows.push(notMeasured(t1, t1Threshold, lww.some(r => r.entities === 1_000_000) ? 'lww-header at 1M entities ran with synchronous=full' : why(1_000_000, r => r.synchronous === 'normal')))
  } else {
    const others = results.filter(r => r.variant !== 'lww-header' && r.entities === 1_000_000 && r.synchronous === 'normal')
    const note = others.length === 0
      ? 'no other variant at 1M entities in this run (--variants all runs every one)'
      : `others at 1M entities: ${others.map(r => `${r.variant} ${int(r.medianRecordsPerSecond)}`).join(', ')}`
    rows.push(row(t1, t1Threshold, ENGINE_MIN_RECORDS_PER_SECOND, 'least', one.medianRecordsPerSecond, `${int(one.medianRecordsPerSecond)} records/s`, note))
  }

  const t4a = 'scale: engine lww-header records/s, 10M ÷ 10k entities'
  const t4aThreshold = `>= ${SCALE_MIN_RATIO.toFixed(2)}`
  const ten = lww.find(r => r.entities === 10_000_000)
  const small = lww.find(r => r.entities === 10_000 && r.synchronous === ten?.synchronous)
  if (ten === undefined || small === undefined) {
    rows.push(notMeasured(t4a, t4aThreshold, ten === undefined ? why(10_000_000) : why(10_000)))
  } else {
    const ratio = ten.medianRecordsPerSecond / small.medianRecordsPerSecond
    rows.push(row(t4a, t4aThreshold, SCALE_MIN_RATIO, 'least', ratio, ratio.toFixed(2),
      `${int(ten.medianRecordsPerSecond)} ÷ ${int(small.medianRecordsPerSecond)} records/s, synchronous=${ten.synchronous}`))
  }

  const t4b = 'scale: peak RSS, engine lww-header, 10M entities, default config'
  const t4bThreshold = `< ${int(SCALE_MAX_RSS_MIB)} MiB`
  const ks = kafkaStreamsRss(e2e)
  if (ten === undefined) {
    rows.push(notMeasured(t4b, t4bThreshold, `${why(10_000_000)}; ${ks}`))
  } else {
    const differs = [
      ten.synchronous === STORE_DEFAULTS.synchronous ? '' : `synchronous=${ten.synchronous} (default ${STORE_DEFAULTS.synchronous})`,
      ten.cacheMb === STORE_DEFAULTS.cacheMb ? '' : `--cache-mb ${ten.cacheMb} (default ${STORE_DEFAULTS.cacheMb})`,
      ten.windowRecords === STORE_DEFAULTS.windowRecords ? '' : `--window ${ten.windowRecords} (default ${STORE_DEFAULTS.windowRecords})`
    ].filter(d => d !== '')
    if (differs.length > 0) rows.push(notMeasured(t4b, t4bThreshold, `ran with ${differs.join(', ')}: ${int(ten.maxRssMiB)} MiB; ${ks}`))
    else rows.push(row(t4b, t4bThreshold, SCALE_MAX_RSS_MIB, 'most', ten.maxRssMiB, `${int(ten.maxRssMiB)} MiB`, ks))
  }
  return rows
}

/** Kafka Streams' peak RSS in the e2e run, reported beside the RSS target. */
function kafkaStreamsRss (e2e: Outcome<E2eResult>): string {
  if ('why' in e2e) return `Kafka Streams peak RSS not measured (${e2e.why})`
  return 'Kafka Streams peak RSS (e2e): ' + e2e.result.cases.map(c =>
    `${count(c.entities)} entities at_least_once ${int(c.kafkaStreams.atLeastOnce.peakRssMiB)} MiB, exactly_once_v2 ${int(c.kafkaStreams.exactlyOnce.peakRssMiB)} MiB`).join('; ')
}

function e2eRows (e2e: Outcome<E2eResult>): TargetRow[] {
  const rows: TargetRow[] = []
  const cases = 'result' in e2e ? e2e.result.cases : []
  const summary = (c: E2eCase): string =>
    `concord ${int(c.concord.recordsPerSecond)}, Kafka Streams at_least_once ${int(c.kafkaStreams.atLeastOnce.recordsPerSecond)}, exactly_once_v2 ${int(c.kafkaStreams.exactlyOnce.recordsPerSecond)} records/s; concord ÷ bare consumer ${c.concordOverBare.toFixed(2)}`
  for (const n of E2E_ENTITIES) {
    const vsKs = `e2e, ${count(n)} entities: concord ÷ Kafka Streams at_least_once`
    const vsKsThreshold = `>= ${E2E_MIN_OVER_KAFKA_STREAMS.toFixed(2)}`
    const rate = `e2e, ${count(n)} entities: concord records/s`
    const rateThreshold = `>= ${int(E2E_MIN_RECORDS_PER_SECOND)} records/s`
    const c = cases.find(c => c.entities === n)
    if (c === undefined) {
      const why = 'why' in e2e
        ? e2e.why
        : `e2e ran at ${cases.map(c => count(c.entities)).join(', ')} entities only (${cases.map(c => `at ${count(c.entities)}: ${c.concordOverKafkaStreams.toFixed(2)}x, ${int(c.concord.recordsPerSecond)} records/s`).join('; ')})`
      rows.push(notMeasured(vsKs, vsKsThreshold, why), notMeasured(rate, rateThreshold, why))
      continue
    }
    rows.push(
      row(vsKs, vsKsThreshold, E2E_MIN_OVER_KAFKA_STREAMS, 'least', c.concordOverKafkaStreams, c.concordOverKafkaStreams.toFixed(2), summary(c)),
      row(rate, rateThreshold, E2E_MIN_RECORDS_PER_SECOND, 'least', c.concord.recordsPerSecond, `${int(c.concord.recordsPerSecond)} records/s`, `concord ÷ bare consumer ${c.concordOverBare.toFixed(2)}`)
    )
  }
  return rows
}

function latencyRows (e2e: Outcome<E2eResult>): TargetRow[] {
  const p99 = (at: string): string => `latency${at}: merged p99 - input p99`
  const p50 = (at: string): string => `latency${at}: merged p50 - input p50`
  const p99Threshold = `< ${LATENCY_MAX_P99_MS} ms`
  const p50Threshold = `< ${LATENCY_MAX_P50_MS} ms`
  if ('why' in e2e) return [notMeasured(p99(''), p99Threshold, e2e.why), notMeasured(p50(''), p50Threshold, e2e.why)]
  return e2e.result.cases.flatMap(c => {
    const at = `, e2e ${count(c.entities)} entities, fixed rate`
    const fixed = c.latency.find(l => l.phase === 'fixed rate')
    const why = 'no fixed-rate phase in the e2e result'
    if (fixed === undefined) return [notMeasured(p99(at), p99Threshold, why), notMeasured(p50(at), p50Threshold, why)]
    const half = Math.max(1, Math.round(c.concord.recordsPerSecond / 2))
    const rate = fixed.targetRate === half
      ? `at ${int(fixed.targetRate)} records/s (half of concord's)`
      : `at ${int(fixed.targetRate)} records/s, not half of concord's ${int(c.concord.recordsPerSecond)} (--rate)`
    const d99 = fixed.p99 - fixed.transport.p99
    const d50 = fixed.p50 - fixed.transport.p50
    return [
      row(p99(at), p99Threshold, LATENCY_MAX_P99_MS, 'most', d99, `${d99.toFixed(1)} ms`, `${fixed.p99.toFixed(1)} - ${fixed.transport.p99.toFixed(1)} ms ${rate}`),
      row(p50(at), p50Threshold, LATENCY_MAX_P50_MS, 'most', d50, `${d50.toFixed(1)} ms`, `${fixed.p50.toFixed(1)} - ${fixed.transport.p50.toFixed(1)} ms ${rate}`)
    ]
  })
}

/** Every target's rows, in the issue's order: engine, end to end, latency, scale. */
export function evaluateTargets ({ engine, e2e }: TargetInputs): TargetRow[] {
  const [t1, ...scale] = engineRows(engine, e2e)
  return [t1!, ...e2eRows(e2e), ...latencyRows(e2e), ...scale]
}
