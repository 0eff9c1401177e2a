import type { KafkaAdmin } from '../kafka/admin.ts'

/** The part of a topic's plan that names its outputs (a `TopicPlan` is one). */
export interface OutputTopicsPlan {
  readonly config: { readonly outputTopic: string, readonly dlqTopic: string, readonly conflictTopic: string }
  readonly inputs: readonly { readonly topic: string }[]
  /** Set here to the partition counts the topics actually have. */
  outputPartitions: number
  dlqPartitions: number
  conflictPartitions: number
  inputPartitions: number
}

/**
 * Creates a topic's output (a compacted changelog), dead-letter and conflict topics, when missing, with as many
 * partitions as its largest existing input, so that an entity's merged record goes to the partition number
 * its versions arrive in. Topics that exist already are left as they are, and their actual partition counts
 * go into the plan. Does nothing while none of the inputs exists.
 */
export async function ensureOutputTopics (
  admin: Pick<KafkaAdmin, 'createTopics' | 'partitionCounts'>,
  plan: OutputTopicsPlan,
  inputCounts: ReadonlyMap<string, number>
): Promise<void> {
  const partitions = Math.max(0, ...plan.inputs.map(i => inputCounts.get(i.topic) ?? 0))
  if (partitions === 0) return
  plan.inputPartitions = partitions
  const { outputTopic, dlqTopic, conflictTopic } = plan.config
  await admin.createTopics([
    { topic: outputTopic, partitions, config: { 'cleanup.policy': 'compact' } },
    { topic: dlqTopic, partitions },
    { topic: conflictTopic, partitions }
  ])
  const actual = await admin.partitionCounts([outputTopic, dlqTopic, conflictTopic])
  plan.outputPartitions = actual.get(outputTopic) ?? partitions
  plan.dlqPartitions = actual.get(dlqTopic) ?? partitions
  plan.conflictPartitions = actual.get(conflictTopic) ?? partitions
}
