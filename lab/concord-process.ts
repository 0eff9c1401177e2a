import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const CLI = fileURLToPath(new URL('../src/cli/concord.ts', import.meta.url))

/** A `concord run` child process, as a user runs it, for the demo and the integration tests. */
export interface ConcordProcess {
  readonly dc: string
  /** OS process id of the child (for /proc reads such as peak RSS); undefined only if it could not be spawned. */
  readonly pid: number | undefined
  readonly port: number
  readonly log: string
  /** Metric samples by "name{labels}". */
  metrics (): Promise<Map<string, number>>
  ready (): Promise<boolean>
  /** SIGTERM and wait for a clean exit (code 0). */
  stop (): Promise<number | null>
  /** SIGKILL: no chance to finish the batch or commit. */
  kill (): Promise<void>
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface ConcordSpec {
  readonly dc: string
  readonly peers: readonly string[]
  readonly brokers: string
  readonly topics: ReadonlyArray<Record<string, unknown>>
  /** Working folder: config file, state store, log. Reused across restarts of the same DC. */
  readonly dir: string
  readonly port?: number
  /** Consumer group; deployments that share a group share partitions, so each scenario needs its own. */
  readonly groupId?: string
  /** Return once /readyz answers 200 (default), or as soon as /healthz does. */
  readonly waitReady?: boolean
  /** More keys of the `kafka` section (e.g. `tls`, `sasl`). */
  readonly kafka?: Readonly<Record<string, unknown>>
  /** More top-level sections of the configuration (e.g. `metrics`, `readiness`). */
  readonly config?: Readonly<Record<string, unknown>>
}

export async function startConcord (spec: ConcordSpec): Promise<ConcordProcess> {
  mkdirSync(spec.dir, { recursive: true })
  const port = spec.port ?? await freePort()
  const configFile = join(spec.dir, 'concord.yaml')
  writeFileSync(configFile, stringify({
    dc: spec.dc,
    peers: spec.peers,
    kafka: { brokers: [spec.brokers], ...(spec.groupId === undefined ? {} : { groupId: spec.groupId }), ...spec.kafka },
    topics: spec.topics,
    store: { dir: join(spec.dir, 'state') },
    http: { port },
    log: { level: 'info' },
    ...spec.config
  }))
  const log = join(spec.dir, 'concord.log')
  const fd = openSync(log, 'a')
  // CONCORD_CHILD_NODE_ARGS adds Node flags to the child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile
  // it in a benchmark (Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.CONCORD_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(a => a !== '')
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...nodeArgs, CLI, 'run', '--config', configFile], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const proc: ConcordProcess = {
    dc: spec.dc,
    pid: child.pid,
    port,
    log,
    async metrics () {
      const text = await (await fetch(`${url}/metrics`)).text()
      const samples = new Map<string, number>()
      for (const line of text.split('\n')) {
        if (line.startsWith('#') || line === '') continue
        const at = line.lastIndexOf(' ')
        samples.set(line.slice(0, at), Number(line.slice(at + 1)))
      }
      return samples
    },
    async ready () {
      try {
        return (await fetch(`${url}/readyz`)).status === 200
      } catch {
        return false
      }
    },
    async stop () {
      child.kill('SIGTERM')
      return exited
    },
    async kill () {
      child.kill('SIGKILL')
      await exited
    }
  }
  const deadline = Date.now() + 60_000
  const healthy = async (): Promise<boolean> => {
    try {
      return (await fetch(`${url}/healthz`)).status === 200
    } catch {
      return false
    }
  }
  while (!(await (spec.waitReady === false ? healthy() : proc.ready()))) {
    if (child.exitCode !== null) throw new Error(`concord ${spec.dc} exited with ${child.exitCode}; see ${log}`)
    if (Date.now() > deadline) {
      await proc.kill() // the caller gets no handle on a process that never became ready
      throw new Error(`concord ${spec.dc} not ready within 60 s; see ${log}`)
    }
    await sleep(200)
  }
  return proc
}

/** Sum of a metric's samples whose name and labels start with `prefix`, e.g. 'concord_records_total{'. */
export function sum (samples: ReadonlyMap<string, number>, prefix: string, labelFilter = ''): number {
  let total = 0
  for (const [k, v] of samples) if (k.startsWith(prefix) && k.includes(labelFilter)) total += v
  return total
}
