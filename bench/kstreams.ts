import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { connectAdmin } from '../src/kafka/admin.ts'
import { cpuSeconds, peakRssMiB } from './machine.ts'

/**
 * The Kafka Streams baseline (bench/kstreams/): concord's lww job written as a Kafka Streams Processor API
 * app over a persistent RocksDB store, built once with Maven into the git-ignored .cache/kstreams and run as
 * a child JVM on one DC's inputs `<topic>` and `dc2.<topic>`, into `<topic>.merged` and `<topic>.dlq`.
 */

export type Guarantee = 'at_least_once' | 'exactly_once_v2'
type Log = (line: string) => void

export interface KafkaStreamsApp {
  /** For `java -cp`: the dependency jars (a wildcard java expands itself) and the compiled classes. */
  readonly classpath: string
  readonly mainClass: string
}

export interface KafkaStreamsOptions {
  readonly brokers: readonly string[]
  /** The local source topic; `dc2.<topic>` must exist with the same partition count. */
  readonly topic: string
  /** Input records the app must process, both topics together, loops and dead letters included. */
  readonly records: number
  readonly guarantee: Guarantee
  readonly log: Log
  /** Default a fresh one per run (see freshAppId). */
  readonly appId?: string
  /** Give up when the count has not moved for this long (default 60 s), or no record came in 3 times this. */
  readonly stallMs?: number
}

export interface KafkaStreamsResult {
  readonly guarantee: Guarantee
  readonly appId: string
  /** records / seconds. */
  readonly recordsPerSecond: number
  /**
   * From the moment the first input record entered the processor to the moment the last (the records-th)
   * left it, as the app measures it (bench/kstreams/.../Progress.java): JVM start, group join and store
   * creation come before, the final commit after.
   */
  readonly seconds: number
  /** VmHWM of the JVM once the last record is processed. */
  readonly peakRssMiB: number
  /** utime + stime of the JVM (all its threads) from its start to the last record, JVM start-up included. */
  readonly cpuSeconds: number
  /** The same when the first record was seen processed (within 100 ms of it): the start-up share of cpuSeconds. */
  readonly startupCpuSeconds: number
  /** Merged records forwarded (one per record that changed its entity's winner). */
  readonly merged?: number
  readonly deadLettered?: number
  readonly loops?: number
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SOURCE = join(ROOT, 'bench', 'kstreams')
const CACHE = join(ROOT, '.cache', 'kstreams')
const LIBS = join(CACHE, 'libs')
const CLASSES = join(CACHE, 'target', 'classes')
const MARKER = join(CACHE, '.complete')
const MAIN_CLASS = 'dev.concord.bench.kstreams.Main'
const STOP_GRACE_MS = 30_000

function requireTool (command: string, args: string[], what: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`${what} is required for the Kafka Streams baseline but "${command} ${args.join(' ')}" failed: ${probe.error?.message ?? probe.stderr.trim()}. ` +
      'Install Java 17+ and Apache Maven (Debian: apt-get install -y openjdk-17-jdk-headless maven).')
  }
}

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name)
    return e.isDirectory() ? filesUnder(path) : e.isFile() ? [path] : []
  }).sort()
}

/** A digest of the pom and the sources (not of try.ts, which is not built): the build is redone when it changes. */
function sourceDigest (): string {
  const hash = createHash('sha256')
  for (const file of [join(SOURCE, 'pom.xml'), ...filesUnder(join(SOURCE, 'src'))]) {
    hash.update(relative(SOURCE, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex')
}

/**
 * Compiles the app and copies its runtime jars (kafka-streams 3.9.2, kafka-clients, rocksdbjni, the logging
 * jars) into .cache/kstreams with Maven, once: the marker holds the digest of a complete build, so an
 * interrupted build, or one of older sources, is redone rather than trusted.
 */
export function ensureKafkaStreamsApp (log: Log): KafkaStreamsApp {
  const app = { classpath: `${LIBS}/*:${CLASSES}`, mainClass: MAIN_CLASS }
  requireTool('java', ['-version'], 'Java')
  const digest = sourceDigest()
  if (existsSync(MARKER) && readFileSync(MARKER, 'utf8').trim() === digest) return app
  requireTool('mvn', ['-v'], 'Maven')
  log(`building the Kafka Streams baseline with Maven into ${relative(ROOT, CACHE)}`)
  rmSync(MARKER, { force: true })
  for (const dir of [LIBS, join(CACHE, 'target')]) rmSync(dir, { recursive: true, force: true })
  const start = performance.now()
  const run = spawnSync('mvn', ['-q', '-B', '-f', join(SOURCE, 'pom.xml'), `-Dkstreams.buildDir=${join(CACHE, 'target')}`,
    'compile', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${LIBS}`],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (run.status !== 0) {
    throw new Error(`Maven could not build the Kafka Streams baseline (exit ${run.status}):\n${(run.stdout + run.stderr).trim().split('\n').slice(-20).join('\n')}`)
  }
  if (!existsSync(join(CLASSES, ...MAIN_CLASS.split('.')) + '.class')) throw new Error(`Maven finished but ${MAIN_CLASS} is not in ${CLASSES}`)
  if (!readdirSync(LIBS).some(f => /^kafka-streams-3\.9\.2\.jar$/.test(f))) throw new Error(`Maven finished but kafka-streams-3.9.2.jar is not in ${LIBS}`)
  writeFileSync(MARKER, digest + '\n')
  log(`  built in ${((performance.now() - start) / 1000).toFixed(1)} s`)
  return app
}

/**
 * A new application.id, hence a new consumer group, state and changelog topic. The `__` prefix keeps the
 * changelog topic (`<application.id>-lww-state-changelog`) out of the lab's MirrorMaker 2, which skips `__.*`
 * (lab/configs.ts): otherwise MM2 would copy it to dc2 while the app is measured, on the same cores.
 */
export function freshAppId (guarantee: Guarantee): string {
  return `__bench-kstreams-${guarantee.replaceAll('_', '-')}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`
}

/** One line of the app's stdout (Progress.java). */
type AppEvent =
  | { readonly event: 'state', readonly state: string }
  | { readonly event: 'progress', readonly processed: number }
  | { readonly event: 'done', readonly processed: number, readonly seconds: number, readonly merged: number, readonly deadLettered: number, readonly loop: number }
  | { readonly event: 'error', readonly message: string }
  | { readonly event: 'closed' }

const exited = (child: ChildProcess): Promise<void> => child.exitCode !== null || child.signalCode !== null
  ? Promise.resolve()
  : new Promise(resolve => child.once('exit', () => resolve()))

/** SIGTERM (the app closes Kafka Streams cleanly), then SIGKILL after 30 s; resolves once the JVM is gone. */
async function stop (child: ChildProcess, log: Log): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timeout = new AbortController()
  const late = await Promise.race([exited(child).then(() => false), sleep(STOP_GRACE_MS, true, { signal: timeout.signal }).catch(() => false)])
  timeout.abort()
  if (late) {
    log(`Kafka Streams app (pid ${child.pid}) still running ${STOP_GRACE_MS / 1000} s after SIGTERM: killing it`)
    child.kill('SIGKILL')
    await exited(child)
  }
}

type DoneEvent = Extract<AppEvent, { event: 'done' }>

/**
 * Follows the app's stdout: `done` resolves with its final line, or rejects when a stream thread fails, the
 * JVM exits first, or the count stalls (no record for 3 x stallMs after the start, or no progress for stallMs).
 */
function watch (child: ChildProcess, records: number, stallMs: number): { done: Promise<DoneEvent>, startupCpuSeconds: () => number, close: () => void } {
  let processed = 0
  let movedAt = performance.now()
  let startupCpu = NaN
  let watchdog: NodeJS.Timeout | undefined
  const lines = createInterface({ input: child.stdout! })
  const done = new Promise<DoneEvent>((resolve, reject) => {
    lines.on('line', line => {
      let e: AppEvent
      try {
        e = JSON.parse(line) as AppEvent
      } catch {
        return // not one of the app's lines: Kafka Streams logs go to stderr
      }
      if (e.event === 'progress' && e.processed !== processed) {
        if (processed === 0) startupCpu = cpuSeconds(child.pid)
        processed = e.processed
        movedAt = performance.now()
      } else if (e.event === 'done') {
        resolve(e)
      } else if (e.event === 'error') {
        reject(new Error(`a stream thread failed: ${e.message}`))
      }
    })
    child.once('error', err => reject(new Error(`java could not be started: ${err.message}`)))
    child.once('exit', (code, signal) => reject(new Error(`the JVM exited (code ${code}, signal ${signal}) before processing ${records} records`)))
    watchdog = setInterval(() => {
      const quiet = performance.now() - movedAt
      if (processed === 0 && quiet > 3 * stallMs) reject(new Error(`no record processed within ${3 * stallMs / 1000} s of the start`))
      else if (processed > 0 && quiet > stallMs) reject(new Error(`stalled at ${processed} of ${records} records for ${stallMs / 1000} s`))
    }, 1_000)
  })
  return {
    done,
    startupCpuSeconds: () => startupCpu,
    close: () => {
      clearInterval(watchdog)
      lines.close()
      child.stdout!.resume() // keep draining what the JVM still prints while it closes
    }
  }
}

/**
 * Runs the app on `topic` and `dc2.<topic>` until it has processed `records` input records, then stops it.
 * Creates `<topic>.merged` and `<topic>.dlq` (with the inputs' partition count) when missing. The state
 * folder is removed whatever happens; the JVM's stderr (WARN and above) is kept in .cache/kstreams when the
 * run fails.
 */
export async function runKafkaStreams (o: KafkaStreamsOptions): Promise<KafkaStreamsResult> {
  const app = ensureKafkaStreamsApp(o.log)
  const inputs = [o.topic, `dc2.${o.topic}`]
  const admin = await connectAdmin({ brokers: [...o.brokers], clientId: 'concord-bench' })
  try {
    const counts = await admin.partitionCounts(inputs)
    const missing = inputs.filter(t => !counts.has(t))
    if (missing.length > 0) throw new Error(`input topic ${missing.join(' and ')} does not exist on ${o.brokers.join(',')}`)
    const partitions = counts.get(o.topic)!
    if (counts.get(inputs[1]!) !== partitions) {
      throw new Error(`${inputs[0]} has ${partitions} partitions but ${inputs[1]} has ${counts.get(inputs[1]!)}: an entity's versions would not meet in one task`)
    }
    await admin.createTopics([`${o.topic}.merged`, `${o.topic}.dlq`].map(topic => ({ topic, partitions })))
  } finally {
    await admin.close()
  }

  const appId = o.appId ?? freshAppId(o.guarantee)
  const stallMs = o.stallMs ?? 60_000
  mkdirSync(CACHE, { recursive: true })
  const stateDir = mkdtempSync(join(CACHE, 'state-'))
  const logFile = join(CACHE, `${appId}.log`)
  const stderr = createWriteStream(logFile)
  let ok = false
  const child = spawn('java', ['-cp', app.classpath, app.mainClass, '--bootstrap', o.brokers.join(','), '--topic', o.topic,
    '--guarantee', o.guarantee, '--state-dir', stateDir, '--expect', String(o.records), '--app-id', appId],
  { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr!.pipe(stderr)
  try {
    o.log(`Kafka Streams ${o.guarantee} started (pid ${child.pid}, application.id ${appId})`)
    const progress = watch(child, o.records, stallMs)
    let done: DoneEvent
    try {
      done = await progress.done
    } catch (err) {
      throw new Error(`Kafka Streams ${o.guarantee}: ${(err as Error).message}; see ${logFile}`)
    } finally {
      progress.close()
    }
    // Read before the stop: the JVM's figures up to the last record, without its close.
    const peak = peakRssMiB(child.pid)
    const cpu = cpuSeconds(child.pid)
    await stop(child, o.log)
    ok = true
    return {
      guarantee: o.guarantee,
      appId,
      recordsPerSecond: o.records / done.seconds,
      seconds: done.seconds,
      peakRssMiB: peak,
      cpuSeconds: cpu,
      startupCpuSeconds: progress.startupCpuSeconds(),
      merged: done.merged,
      deadLettered: done.deadLettered,
      loops: done.loop
    }
  } finally {
    await stop(child, o.log)
    await new Promise(resolve => stderr.end(resolve))
    rmSync(stateDir, { recursive: true, force: true })
    if (ok || statSync(logFile).size === 0) rmSync(logFile, { force: true })
    else o.log(`Kafka Streams log kept in ${logFile}`)
  }
}
