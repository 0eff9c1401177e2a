import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabError } from './errors.ts'
import { connectAdmin, type KafkaAdmin } from '../src/kafka/admin.ts'
import { connectProducer } from '../src/kafka/producer.ts'
import { writeBrokerConfig, writeLog4j, writeMirrorMakerConfig } from './configs.ts'
import { ensureJars } from './jars.ts'
import { isOurs, logTail, portFree, runJava, startJava, stopProcess, waitForLog, type JavaProcess } from './processes.ts'
import { CANARY_TOPIC, type LabSettings } from './settings.ts'
import { describeFlows, flows, peersOf } from './topology.ts'

type Log = (line: string) => void

export interface LabState {
  readonly processes: JavaProcess[]
  readonly brokers: Record<string, string>
  readonly startedAt: string
}

/** The tag on every JVM command line of this lab: its run folder, so `down` finds even orphans. */
export const tagOf = (settings: LabSettings): string => settings.dir
const stateFile = (settings: LabSettings): string => join(settings.dir, 'lab.json')

export function readState (settings: LabSettings): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(settings), 'utf8')) as LabState
  } catch {
    return undefined
  }
}

export function saveState (settings: LabSettings, state: LabState): void {
  writeFileSync(stateFile(settings), JSON.stringify(state, null, 2) + '\n')
}

/** Kafka cluster ids are base64url of 16 random bytes, no padding, never starting with '-'. */
function clusterId (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** PIDs of every JVM whose command line carries this lab's tag, recorded or not. */
function ourPids (settings: LabSettings): number[] {
  return readdirSync('/proc').filter(d => /^\d+$/.test(d)).map(Number).filter(pid => isOurs(pid, tagOf(settings)))
}

/** Up means a broker per DC of `settings` and MirrorMaker 2, all running (a lab of another size is not up). */
export function isUp (settings: LabSettings): boolean {
  const state = readState(settings)
  return state !== undefined && state.processes.length === settings.dcs.length + 1 && state.processes.every(p => isOurs(p.pid, tagOf(settings)))
}

/**
 * Starts a single-node KRaft broker per DC and MirrorMaker 2 between every pair of them, creates the demo
 * topics in every DC, and returns once a canary record has crossed every flow. Idempotent when the lab is up.
 * On any failure it stops whatever it started and throws with the relevant log tail.
 */
export async function up (settings: LabSettings, log: Log): Promise<void> {
  if (isUp(settings)) {
    log(`lab already up (${settings.dcs.map(d => `${d.id} ${d.bootstrap}`).join(', ')})`)
    return
  }
  if (ourPids(settings).length > 0) {
    log('stopping leftovers of an earlier lab')
    await down(settings, () => {})
  }
  const ports = settings.dcs.flatMap(d => [[d.port, `${d.id} broker`], [d.controllerPort, `${d.id} controller`]] as const)
  const taken: string[] = []
  for (const [port, what] of ports) if (!(await portFree(port))) taken.push(`${port} (${what})`)
  if (taken.length > 0) {
    const variables = settings.dcs.map(d => `LAB_${d.id.toUpperCase()}_PORT`).join(' / ')
    throw new LabError(`port ${taken.join(', ')} already in use by another process; stop it or choose other ports with ${variables}`)
  }
  const libs = ensureJars(settings, log)
  rmSync(settings.dir, { recursive: true, force: true })
  mkdirSync(settings.dir, { recursive: true })
  const tag = tagOf(settings)
  const log4j = writeLog4j(settings)
  const state: LabState = {
    processes: [],
    brokers: Object.fromEntries(settings.dcs.map(d => [d.id, d.bootstrap])),
    startedAt: new Date().toISOString()
  }
  const started = Date.now()
  try {
    const configs = settings.dcs.map(dc => writeBrokerConfig(settings, dc))
    await Promise.all(configs.map((file, i) => runJava({
      name: `format ${settings.dcs[i]!.id}`,
      libs,
      mainClass: 'kafka.tools.StorageTool',
      args: ['format', '-t', clusterId(), '-c', file],
      heap: '256m',
      log4j,
      tag
    })))
    for (const [i, dc] of settings.dcs.entries()) {
      state.processes.push(startJava({
        name: `${dc.id} broker`,
        libs,
        mainClass: 'kafka.Kafka',
        args: [configs[i]!],
        heap: settings.brokerHeap,
        log4j,
        log: join(settings.dir, dc.id, 'broker.log'),
        tag
      }))
      saveState(settings, state)
    }
    await Promise.all(state.processes.map(p => waitForLog(p, tag, /Kafka Server started/, settings.readyTimeoutMs)))
    log(`brokers up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${settings.dcs.map(d => `${d.id} ${d.bootstrap}`).join(', ')}`)
    await createTopics(settings)
    const mm2 = startJava({
      name: 'MirrorMaker 2',
      libs,
      mainClass: 'org.apache.kafka.connect.mirror.MirrorMaker',
      args: [writeMirrorMakerConfig(settings)],
      heap: settings.mm2Heap,
      log4j,
      log: join(settings.dir, 'mm2.log'),
      tag
    })
    state.processes.push(mm2)
    saveState(settings, state)
    await waitForReplication(settings, mm2)
    log(`MirrorMaker 2 replicating ${describeFlows(settings)}; lab up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } catch (err) {
    log('lab failed to start; stopping what it started')
    await down(settings, () => {})
    throw err
  }
}

/** Creates each demo topic and every peer's remote copy of it in every DC, all with one partition count (and the canary). */
async function createTopics (settings: LabSettings): Promise<void> {
  const sources = [...settings.topics.map(t => ({ topic: t, partitions: settings.partitions })), { topic: CANARY_TOPIC, partitions: 1 }]
  for (const here of settings.dcs) {
    const admin = await connectAdmin({ brokers: [here.bootstrap], clientId: 'concord-lab' })
    try {
      // Pre-created remote copies have the right partition count before MM2 (or a consumer) touches them.
      await admin.createTopics(sources.flatMap(s => [s, ...peersOf(settings, here).map(there => ({ ...s, topic: `${there.id}.${s.topic}` }))]))
    } finally {
      await admin.close()
    }
  }
}

/** Produces one canary record in each DC and waits until it has arrived in every peer's remote copy. */
async function waitForReplication (settings: LabSettings, mm2: JavaProcess): Promise<void> {
  const deadline = Date.now() + settings.readyTimeoutMs
  await Promise.all(settings.dcs.map(async source => {
    const producer = await connectProducer({ brokers: [source.bootstrap], clientId: 'concord-lab' })
    try {
      await producer.send([{ topic: CANARY_TOPIC, key: 'canary', value: `from ${source.id} at ${new Date().toISOString()}` }])
    } finally {
      await producer.close()
    }
  }))
  await Promise.all(flows(settings).map(async ([source, target]) => {
    const admin: KafkaAdmin = await connectAdmin({ brokers: [target.bootstrap], clientId: 'concord-lab' })
    try {
      for (;;) {
        const marks = await admin.highWatermarks(`${source.id}.${CANARY_TOPIC}`)
        if ([...marks.values()].some(h => h > 0n)) return
        if (!isOurs(mm2.pid, tagOf(settings))) throw new LabError(`MirrorMaker 2 exited; log tail:\n${logTail(mm2.log)}`)
        if (Date.now() > deadline) {
          throw new LabError(`no record crossed ${source.id}->${target.id} within ${settings.readyTimeoutMs / 1000} s; MirrorMaker 2 log tail:\n${logTail(mm2.log)}`)
        }
        await sleep(250)
      }
    } finally {
      await admin.close()
    }
  }))
}

/** Stops MirrorMaker 2 first (without brokers it retries forever), then the brokers; removes the run folder. */
export async function down (settings: LabSettings, log: Log): Promise<void> {
  const tag = tagOf(settings)
  const state = readState(settings)
  const recorded = state?.processes ?? []
  const mm2 = recorded.filter(p => p.name === 'MirrorMaker 2')
  await Promise.all(mm2.map(p => stopProcess(p.pid, tag)))
  await Promise.all(recorded.filter(p => !mm2.includes(p)).map(p => stopProcess(p.pid, tag)))
  const orphans = ourPids(settings)
  await Promise.all(orphans.map(pid => stopProcess(pid, tag)))
  if (existsSync(settings.dir)) rmSync(settings.dir, { recursive: true, force: true })
  log(recorded.length + orphans.length > 0 ? `lab stopped (${recorded.length + orphans.length} processes)` : 'lab was not running')
}

export interface LabStatus {
  readonly up: boolean
  readonly lines: string[]
}

export function status (settings: LabSettings): LabStatus {
  const state = readState(settings)
  if (state === undefined) return { up: false, lines: ['lab is down'] }
  const lines = state.processes.map(p => `${p.name.padEnd(14)} pid ${String(p.pid).padEnd(8)} ${isOurs(p.pid, tagOf(settings)) ? 'running' : 'NOT RUNNING'}  log ${p.log}`)
  lines.push(...Object.entries(state.brokers).map(([dc, b]) => `${dc} bootstrap ${b}`))
  return { up: isUp(settings), lines }
}
