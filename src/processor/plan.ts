import { codecs, validators, type Codec, type Validator } from '../codec/value-codec.ts'
import type { Config, TopicConfig } from '../config/schema.ts'
import { ConfigError } from '../errors.ts'
import { policies } from '../merge/index.ts'
import type { Merger } from '../merge/policy.ts'
import { remoteTopic } from '../wire/contract.ts'

/** Everything decided about a configured topic at start-up, so the per-record path only looks things up. */
export interface TopicPlan {
  readonly config: TopicConfig
  /** The store's id for the topic. */
  readonly id: number
  /** The topic's merge policy, bound to its options. */
  readonly merger: Merger
  /** Set only when something must read the value (timestamp from a field, or a decoding policy). */
  readonly decode: Codec['decode'] | undefined
  /** Set when values are validated without being decoded (`validateValues` and nothing decodes). */
  readonly validate: Validator | undefined
  readonly inputs: readonly InputPlan[]
  /** Partition counts of the output, dead-letter and conflict topics, once known (records go to partition % count). */
  outputPartitions: number
  dlqPartitions: number
  conflictPartitions: number
  /** Partitions of the input topics, once known (0 until then): garbage collection waits for a watermark on each. */
  inputPartitions: number
}

/** One consumed topic: the local topic (source = local DC) or a peer's remote copy `<peer><sep><topic>`. */
export interface InputPlan {
  readonly topic: string
  readonly sourceDc: string
  readonly plan: TopicPlan
}

export interface Plans {
  readonly localDc: string
  readonly dcs: ReadonlySet<string>
  readonly topics: readonly TopicPlan[]
  readonly inputs: ReadonlyMap<string, InputPlan>
}

/**
 * Plans every configured topic: binds its policy (throws ConfigError naming the key when options cannot
 * work), and takes its store id, which refuses a policy whose state layout differs from the stored one.
 * `modules` holds the user modules of custom policies, loaded by the caller (I/O stays at the edge).
 */
export function planTopics (
  config: Config,
  topicId: (name: string, stateFormat: string) => number,
  modules: ReadonlyMap<string, unknown> = new Map()
): Plans {
  const inputs = new Map<string, InputPlan>()
  const dcs = [config.dc, ...config.peers]
  const problems: string[] = []
  const planned = config.topics.map((tc, i) => {
    const { type, ...options } = tc.policy as { type: string } & Record<string, unknown>
    const policy = policies.get(type)
    if (policy === undefined) {
      problems.push(`"topics[${i}].policy" must be one of ${[...policies.keys()].join(', ')}, got "${type}"`)
      return undefined
    }
    const codec = codecs[tc.codec]
    let merger: Merger
    try {
      merger = policy.bind(options, {
        dcs,
        deleteRule: tc.deleteRule,
        conflictWindowMs: tc.conflictWindowMs,
        codec,
        path: `topics[${i}].policy`,
        modules
      })
    } catch (err) {
      // Every topic's problems are reported at once.
      if (!(err instanceof ConfigError)) throw err
      problems.push(...err.problems)
      return undefined
    }
    const needsValue = merger.decodesValues || tc.timestampSource === 'value'
    const plan: TopicPlan = {
      config: tc,
      id: topicId(tc.name, merger.stateFormat),
      merger,
      decode: needsValue ? codec.decode : undefined,
      validate: !needsValue && tc.validateValues ? validators[tc.codec] : undefined,
      inputs: [],
      outputPartitions: 1,
      dlqPartitions: 1,
      conflictPartitions: 1,
      inputPartitions: 0
    }
    const planInputs: InputPlan[] = [
      { topic: tc.name, sourceDc: config.dc, plan },
      ...config.peers.map(peer => ({ topic: remoteTopic(peer, config.kafka.replicationSeparator, tc.name), sourceDc: peer, plan }))
    ]
    ;(plan as { inputs: readonly InputPlan[] }).inputs = planInputs
    for (const input of planInputs) inputs.set(input.topic, input)
    return plan
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return { localDc: config.dc, dcs: new Set(dcs), topics: planned.filter(p => p !== undefined), inputs }
}
