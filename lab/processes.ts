import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { LabError } from './errors.ts'

/** JVM flags for a small machine: Serial GC has the fewest threads; C1 only cuts start-up JIT on 2 cores. */
const JVM_FLAGS = ['-server', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true']

export interface JavaProcess {
  readonly name: string
  readonly pid: number
  readonly log: string
}

export interface JavaCommand {
  readonly name: string
  readonly libs: string
  readonly mainClass: string
  readonly args: readonly string[]
  readonly heap: string
  readonly log4j: string
  readonly log: string
  /** A marker put on the command line so that `down` only ever signals processes this lab started. */
  readonly tag: string
}

function javaArgs (cmd: JavaCommand): string[] {
  return ['-Xms128m', `-Xmx${cmd.heap}`, ...JVM_FLAGS,
    `-Dlog4j.configuration=file:${cmd.log4j}`, `-Dconcord.lab=${cmd.tag}`,
    '-cp', `${cmd.libs}/*`, cmd.mainClass, ...cmd.args]
}

/** Runs a short Java tool to completion (e.g. storage format); rejects with its output on failure. */
export function runJava (cmd: Omit<JavaCommand, 'log'>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', javaArgs({ ...cmd, log: '' }), { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.once('error', err => reject(new LabError(`${cmd.name} could not start: ${err.message}`, { cause: err })))
    child.once('close', code => code === 0 ? resolve(out.trim()) : reject(new LabError(`${cmd.name} failed (exit ${code}):\n${out.trim()}`)))
  })
}

/** Starts a JVM in the background, detached from this process, its stdout and stderr going to `log`. */
export function startJava (cmd: JavaCommand): JavaProcess {
  const fd = openSync(cmd.log, 'a')
  try {
    const child = spawn('java', javaArgs(cmd), { detached: true, stdio: ['ignore', fd, fd] })
    if (child.pid === undefined) throw new LabError(`could not start ${cmd.name}: java did not spawn`)
    child.unref()
    return { name: cmd.name, pid: child.pid, log: cmd.log }
  } finally {
    closeSync(fd)
  }
}

/** True when `pid` is alive and its command line carries `tag` (so a recycled PID is never signalled). */
export function isOurs (pid: number, tag: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`-Dconcord.lab=${tag}`)
  } catch {
    return false
  }
}

export function logTail (file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)'
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

/** Waits for `pattern` in the process's log; fails at once if the process exits, or at the deadline. */
export async function waitForLog (proc: JavaProcess, tag: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (existsSync(proc.log) && pattern.test(readFileSync(proc.log, 'utf8'))) return
    if (!isOurs(proc.pid, tag)) throw new LabError(`${proc.name} exited before it was ready; log tail:\n${logTail(proc.log)}`)
    await sleep(250)
  }
  throw new LabError(`${proc.name} was not ready within ${timeoutMs / 1000} s; log tail:\n${logTail(proc.log)}`)
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess (pid: number, tag: string, graceMs = 30_000): Promise<void> {
  if (!isOurs(pid, tag)) return
  try { process.kill(pid, 'SIGTERM') } catch { return }
  const deadline = Date.now() + graceMs
  while (isOurs(pid, tag)) {
    if (Date.now() > deadline) {
      try { process.kill(pid, 'SIGKILL') } catch { return }
    }
    await sleep(200)
  }
}

/** Resolves false when something already listens on 127.0.0.1:port. */
export function portFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
