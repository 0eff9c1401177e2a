import { existsSync, readFileSync, statSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeBrokerConfig, writeLog4j, writeMirrorMakerConfig } from './configs.ts'
import { LabError } from './errors.ts'
import { ensureJars } from './jars.ts'
import { readState, saveState, tagOf, type LabState } from './lab.ts'
import { isOurs, logTail, startJava, stopProcess, type JavaCommand, type JavaProcess } from './processes.ts'
import type { Datacenter, LabSettings } from './settings.ts'

/**
 * Stops and starts single processes of a running lab, in place: one DC's broker (a DC outage, for the drill)
 * and MirrorMaker 2. The restarted process keeps its config, data folder and log file, and replaces its entry
 * in the lab's state, so `status` and `down` see it as before.
 */

const MM2 = 'MirrorMaker 2'
const brokerName = (dc: Datacenter): string => `${dc.id} broker`

function stateOf (settings: LabSettings): LabState {
  const state = readState(settings)
  if (state === undefined) throw new LabError(`the lab in ${settings.dir} is not up: run \`npm run lab -- up\` first`)
  return state
}

function entry (settings: LabSettings, name: string): JavaProcess {
  const p = stateOf(settings).processes.find(q => q.name === name)
  if (p === undefined) throw new LabError(`the lab in ${settings.dir} has no ${name}`)
  return p
}

export function isRunning (settings: LabSettings, name: string): boolean {
  const p = readState(settings)?.processes.find(q => q.name === name)
  return p !== undefined && isOurs(p.pid, tagOf(settings))
}

export const brokerRunning = (settings: LabSettings, dc: Datacenter): boolean => isRunning(settings, brokerName(dc))
export const mirrorMakerRunning = (settings: LabSettings): boolean => isRunning(settings, MM2)

/** SIGTERM to the DC's broker (SIGKILL after 30 s), and waits until it is gone: a controlled shutdown. */
export async function stopBroker (settings: LabSettings, dc: Datacenter): Promise<void> {
  await stopProcess(entry(settings, brokerName(dc)).pid, tagOf(settings))
}

/** Starts the DC's broker again on its data folder (no format) and waits until it logs that it started. */
export async function startBroker (settings: LabSettings, dc: Datacenter, log: (line: string) => void = () => {}): Promise<void> {
  const name = brokerName(dc)
  if (brokerRunning(settings, dc)) return
  const old = entry(settings, name)
  // writeBrokerConfig writes the same file `up` wrote (same settings); the data folder is left as it is.
  await restart(settings, old, { name, mainClass: 'kafka.Kafka', args: [writeBrokerConfig(settings, dc)], heap: settings.brokerHeap }, /Kafka Server started/, log)
}

/** Stops MirrorMaker 2 and starts it again with the same configuration; returns once its process runs. */
export async function restartMirrorMaker (settings: LabSettings, log: (line: string) => void = () => {}): Promise<void> {
  const old = entry(settings, MM2)
  await stopProcess(old.pid, tagOf(settings))
  await restart(settings, old, { name: MM2, mainClass: 'org.apache.kafka.connect.mirror.MirrorMaker', args: [writeMirrorMakerConfig(settings)], heap: settings.mm2Heap }, /replicating \d+ topic-partitions/, log)
}

async function restart (
  settings: LabSettings,
  old: JavaProcess,
  cmd: Pick<JavaCommand, 'name' | 'mainClass' | 'args' | 'heap'>,
  started: RegExp,
  log: (line: string) => void
): Promise<void> {
  const tag = tagOf(settings)
  // The log file is appended to: only what this start writes counts.
  const from = existsSync(old.log) ? statSync(old.log).size : 0
  const proc = startJava({ ...cmd, libs: ensureJars(settings, log), log4j: writeLog4j(settings), log: old.log, tag })
  const state = stateOf(settings)
  saveState(settings, { ...state, processes: state.processes.map(p => p.name === old.name ? proc : p) })
  const deadline = Date.now() + settings.readyTimeoutMs
  for (;;) {
    if (readFileSync(proc.log).subarray(from).toString('utf8').match(started) !== null) return
    if (!isOurs(proc.pid, tag)) throw new LabError(`${proc.name} exited while starting again; log tail:\n${logTail(proc.log)}`)
    if (Date.now() > deadline) throw new LabError(`${proc.name} did not start again within ${settings.readyTimeoutMs / 1000} s; log tail:\n${logTail(proc.log)}`)
    await sleep(250)
  }
}
