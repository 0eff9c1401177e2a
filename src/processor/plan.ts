import type { Decoder } from '../codec/value-codec.ts'
import { decoders } from '../codec/value-codec.ts'
import type { Config, TopicConfig } from '../config/schema.ts'
import { ConfigError } from '../errors.ts'
import { policies } from '../merge/index.ts'
import type { MergePolicy } from '../merge/policy.ts'

/** Everything decided about a configured topic at start-up, so the per-record path only looks things up. */
export interface TopicPlan {
  readonly config: TopicConfig
  /** The store's id for the topic. */
  readonly id: number
  readonly policy: MergePolicy
  /** Set only when something must read the value (timestamp from a field, or a decoding policy). */
  readonly decode: Decoder | undefined
  readonly inputs: readonly InputPlan[]
  /** Partition counts of the output and dead-letter topics, once known (records go to partition % count). */
  outputPartitions: number
  dlqPartitions: number
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

export function planTopics (config: Config, topicId: (name: string) => number): Plans {
  const inputs = new Map<string, InputPlan>()
  const topics = config.topics.map(tc => {
    const policy = policies.get(tc.policy.type)
    if (policy === undefined) throw new ConfigError([`"topics[].policy" must be one of ${[...policies.keys()].join(', ')}, got "${tc.policy.type}"`])
    const needsValue = policy.decodesValues || tc.timestampSource === 'value'
    const plan: TopicPlan = {
      config: tc,
      id: topicId(tc.name),
      policy,
      decode: needsValue ? decoders[tc.codec] : undefined,
      inputs: [],
      outputPartitions: 1,
      dlqPartitions: 1
    }
    const planInputs: InputPlan[] = [
      { topic: tc.name, sourceDc: config.dc, plan },
      ...config.peers.map(peer => ({ topic: `${peer}${config.kafka.replicationSeparator}${tc.name}`, sourceDc: peer, plan }))
    ]
    ;(plan as { inputs: readonly InputPlan[] }).inputs = planInputs
    for (const input of planInputs) inputs.set(input.topic, input)
    return plan
  })
  return { localDc: config.dc, dcs: new Set([config.dc, ...config.peers]), topics, inputs }
}
