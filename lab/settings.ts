import { resolve } from 'node:path'
import { LabError } from '../src/errors.ts'

/**
 * Lab settings, from the environment (each has a default that fits a 2-core, 24 GiB machine).
 * | variable             | default                 | meaning                                            |
 * | LAB_DIR              | .cache/lab              | run folder: configs, data dirs, logs, PID state    |
 * | LAB_CACHE            | .cache/kafka            | where Maven copies the Kafka and MM2 jars          |
 * | LAB_DC1_PORT         | 19092                   | dc1 broker port (its controller uses port + 1)     |
 * | LAB_DC2_PORT         | 29092                   | dc2 broker port (its controller uses port + 1)     |
 * | LAB_PARTITIONS       | 3                       | partitions of each demo topic, the same in both DCs|
 * | LAB_TOPICS           | orders                  | comma list of demo source topics to create         |
 * | LAB_BROKER_HEAP      | 512m                    | max heap of each broker JVM                        |
 * | LAB_MM2_HEAP         | 512m                    | max heap of the MirrorMaker 2 JVM                  |
 * | LAB_READY_TIMEOUT_S  | 120                     | how long `up` waits for brokers, then for MM2      |
 */
export interface Datacenter {
  readonly id: 'dc1' | 'dc2'
  readonly port: number
  readonly controllerPort: number
  readonly bootstrap: string
}

export interface LabSettings {
  readonly root: string
  readonly dir: string
  readonly cache: string
  readonly dcs: readonly [Datacenter, Datacenter]
  readonly partitions: number
  readonly topics: readonly string[]
  readonly brokerHeap: string
  readonly mm2Heap: string
  readonly readyTimeoutMs: number
}

/** Carries every record in each direction so `up` can prove replication flows; created on both sides. */
export const CANARY_TOPIC = 'lab-canary'

export function labSettings (env: NodeJS.ProcessEnv = process.env, root = process.cwd()): LabSettings {
  const problems: string[] = []
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`"${name}" must be an integer ${min}..${max}, got "${raw}"`)
      return fallback
    }
    return n
  }
  const heap = (name: string, fallback: string): string => {
    const raw = env[name] ?? fallback
    if (!/^\d+[mMgG]$/.test(raw)) problems.push(`"${name}" must be a JVM size such as 512m or 1g, got "${raw}"`)
    return raw
  }
  const dc = (id: 'dc1' | 'dc2', port: number): Datacenter =>
    ({ id, port, controllerPort: port + 1, bootstrap: `127.0.0.1:${port}` })
  const dc1 = dc('dc1', int('LAB_DC1_PORT', 19092, 1024, 65534))
  const dc2 = dc('dc2', int('LAB_DC2_PORT', 29092, 1024, 65534))
  if (Math.abs(dc1.port - dc2.port) < 2) problems.push('"LAB_DC1_PORT" and "LAB_DC2_PORT" must differ by at least 2 (each controller uses port + 1)')
  const topics = (env.LAB_TOPICS ?? 'orders').split(',').map(t => t.trim()).filter(t => t !== '')
  for (const t of topics) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(t)) problems.push(`"LAB_TOPICS" entries must be topic names of letters, digits, _ and - (no dots: MM2 reads a dot as a remote prefix), got "${t}"`)
  }
  const settings: LabSettings = {
    root,
    dir: resolve(root, env.LAB_DIR ?? '.cache/lab'),
    cache: resolve(root, env.LAB_CACHE ?? '.cache/kafka'),
    dcs: [dc1, dc2],
    partitions: int('LAB_PARTITIONS', 3, 1, 64),
    topics,
    brokerHeap: heap('LAB_BROKER_HEAP', '512m'),
    mm2Heap: heap('LAB_MM2_HEAP', '512m'),
    readyTimeoutMs: int('LAB_READY_TIMEOUT_S', 120, 5, 1800) * 1000
  }
  if (problems.length > 0) throw new LabError(`invalid lab settings:\n  - ${problems.join('\n  - ')}`)
  return settings
}
