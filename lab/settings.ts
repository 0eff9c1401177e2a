import { existsSync, realpathSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { LabError } from './errors.ts'

/** The lab's datacenters, in order; `LAB_DCS` says how many of them run. */
export type DcId = 'dc1' | 'dc2' | 'dc3'

/**
 * Lab settings come from `LAB_*` environment variables, each with a default that fits a 2-core, 24 GiB machine.
 * `labSettingTable` below is their one declaration: `labSettings()` parses the environment with it,
 * `npm run lab -- --help` prints it (`labSettingsUsage()`), and test/lab/settings.test.ts keeps the README's lab
 * table in step with it. An unset or empty variable takes the default; every problem is reported at once.
 */
export interface Datacenter {
  readonly id: DcId
  readonly port: number
  readonly controllerPort: number
  readonly bootstrap: string
}

export interface LabSettings {
  readonly root: string
  readonly dir: string
  readonly cache: string
  /** `LAB_DCS` datacenters, dc1 first; at least two, so `dcs[0]` and `dcs[1]` need no check. */
  readonly dcs: readonly [Datacenter, Datacenter, ...Datacenter[]]
  readonly partitions: number
  readonly topics: readonly string[]
  readonly brokerHeap: string
  readonly mm2Heap: string
  readonly readyTimeoutMs: number
}

/** Carries a record over every replication flow so `up` can prove replication works; created in every DC. */
export const CANARY_TOPIC = 'lab-canary'

/** How a variable's text is checked and turned into a value. */
export interface SettingKind<T> {
  /** What a valid value looks like, for the usage text. */
  readonly rule: string
  /** The value, or undefined after calling `problem` with a reason worded to follow the variable's name. */
  readonly parse: (raw: string, problem: (reason: string) => void) => T | undefined
}

export interface LabSetting<T> {
  readonly variable: string
  /** Written as in the environment, and parsed like a given value. */
  readonly default: string
  readonly kind: SettingKind<T>
  readonly meaning: string
}

const folder: SettingKind<string> = { rule: 'a folder, relative to the project folder', parse: raw => raw }

const integer = (min: number, max: number): SettingKind<number> => ({
  rule: `an integer ${min}..${max}`,
  parse: (raw, problem) => {
    const n = Number(raw)
    if (Number.isInteger(n) && n >= min && n <= max) return n
    problem(`must be an integer ${min}..${max}, got "${raw}"`)
    return undefined
  }
})

const jvmSize: SettingKind<string> = {
  rule: 'a JVM size such as 512m or 1g',
  parse: (raw, problem) => {
    if (/^\d+[mMgG]$/.test(raw)) return raw
    problem(`must be a JVM size such as 512m or 1g, got "${raw}"`)
    return undefined
  }
}

/** No dots: MM2 reads a dot as a remote prefix (`dc2.orders`). */
const topicList: SettingKind<readonly string[]> = {
  rule: 'a comma list of topic names of letters, digits, _ and - (no dots)',
  parse: (raw, problem) => {
    const topics = raw.split(',').map(t => t.trim()).filter(t => t !== '')
    const bad = topics.filter(t => !/^[A-Za-z0-9_-]{1,200}$/.test(t))
    for (const t of bad) problem(`entries must be topic names of letters, digits, _ and - (no dots: MM2 reads a dot as a remote prefix), got "${t}"`)
    return bad.length === 0 ? topics : undefined
  }
}

export const labSettingTable = {
  dir: { variable: 'LAB_DIR', default: '.cache/lab', kind: folder, meaning: 'run folder: configs, data dirs, logs, PID state' },
  cache: { variable: 'LAB_CACHE', default: '.cache/kafka', kind: folder, meaning: 'where Maven copies the Kafka and MM2 jars' },
  dcCount: { variable: 'LAB_DCS', default: '2', kind: integer(2, 3), meaning: 'number of datacenters: dc1, dc2 and, with 3, dc3' },
  dc1Port: { variable: 'LAB_DC1_PORT', default: '19092', kind: integer(1024, 65534), meaning: 'dc1 broker port (its controller uses port + 1)' },
  dc2Port: { variable: 'LAB_DC2_PORT', default: '29092', kind: integer(1024, 65534), meaning: 'dc2 broker port (its controller uses port + 1)' },
  dc3Port: { variable: 'LAB_DC3_PORT', default: '39092', kind: integer(1024, 65534), meaning: 'dc3 broker port (its controller uses port + 1), used when LAB_DCS is 3' },
  partitions: { variable: 'LAB_PARTITIONS', default: '3', kind: integer(1, 64), meaning: 'partitions of each demo topic, the same in every DC' },
  topics: { variable: 'LAB_TOPICS', default: 'orders', kind: topicList, meaning: 'demo source topics to create' },
  brokerHeap: { variable: 'LAB_BROKER_HEAP', default: '512m', kind: jvmSize, meaning: 'max heap of each broker JVM' },
  mm2Heap: { variable: 'LAB_MM2_HEAP', default: '512m', kind: jvmSize, meaning: 'max heap of the MirrorMaker 2 JVM' },
  readyTimeoutS: { variable: 'LAB_READY_TIMEOUT_S', default: '120', kind: integer(5, 1800), meaning: 'seconds `up` waits for the brokers, then for replication' }
} as const satisfies Record<string, LabSetting<unknown>>

type SettingValues = { readonly [K in keyof typeof labSettingTable]: typeof labSettingTable[K]['kind'] extends SettingKind<infer T> ? T : never }

/** The settings' lines of the lab's usage text: `VARIABLE=default  meaning; rule`. */
export function labSettingsUsage (): string {
  const settings: readonly LabSetting<unknown>[] = Object.values(labSettingTable)
  const width = Math.max(...settings.map(s => s.variable.length + 1 + s.default.length))
  return settings.map(s => `  ${`${s.variable}=${s.default}`.padEnd(width)}  ${s.meaning}; ${s.kind.rule}`).join('\n')
}

export function labSettings (env: NodeJS.ProcessEnv = process.env, root = process.cwd()): LabSettings {
  const problems: string[] = []
  const parsed: Record<string, unknown> = {}
  for (const [key, s] of Object.entries(labSettingTable) as [string, LabSetting<unknown>][]) {
    const raw = env[s.variable]
    parsed[key] = s.kind.parse(raw === undefined || raw === '' ? s.default : raw, reason => problems.push(`"${s.variable}" ${reason}`))
  }
  const v = parsed as Partial<SettingValues>
  // Only the DCs in use must keep apart: a 2-DC lab never opens LAB_DC3_PORT.
  const ports = ([['LAB_DC1_PORT', v.dc1Port], ['LAB_DC2_PORT', v.dc2Port], ['LAB_DC3_PORT', v.dc3Port]] as const).slice(0, v.dcCount ?? 2)
  for (const [i, [a, pa]] of ports.entries()) {
    for (const [b, pb] of ports.slice(i + 1)) {
      if (pa !== undefined && pb !== undefined && Math.abs(pa - pb) < 2) problems.push(`"${a}" and "${b}" must differ by at least 2 (each controller uses port + 1)`)
    }
  }
  if (problems.length > 0) throw new LabError(`invalid lab settings:\n  - ${problems.join('\n  - ')}`)
  const { dir, cache, dc1Port, dc2Port, dc3Port, dcCount, partitions, topics, brokerHeap, mm2Heap, readyTimeoutS } = parsed as SettingValues
  const dc = (id: DcId, port: number): Datacenter =>
    ({ id, port, controllerPort: port + 1, bootstrap: `127.0.0.1:${port}` })
  const dcs: [Datacenter, Datacenter, ...Datacenter[]] = [dc('dc1', dc1Port), dc('dc2', dc2Port)]
  if (dcCount === 3) dcs.push(dc('dc3', dc3Port))
  return {
    root,
    dir: canonical(resolve(root, dir)),
    cache: canonical(resolve(root, cache)),
    dcs,
    partitions,
    topics,
    brokerHeap,
    mm2Heap,
    readyTimeoutMs: readyTimeoutS * 1000
  }
}

/**
 * The path with its existing part's symbolic links resolved: the run folder is the lab's tag on every JVM
 * command line, so a worktree whose `.cache` links to another checkout's must name it as that checkout does.
 */
function canonical (path: string): string {
  let existing = path
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing)
  return join(realpathSync(existing), relative(existing, path))
}
