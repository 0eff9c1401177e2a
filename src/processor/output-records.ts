import { createHash } from 'node:crypto'
import type { Conflict, Resolved, Write } from '../merge/policy.ts'
import type { InBatch } from '../model/record.ts'
import type { Stamp } from '../model/stamp.ts'
import type { OutboxRecord } from '../store/state-store.ts'
import { DLQ, H, originHeaders, sourcesHeader } from '../wire/contract.ts'
import type { TopicPlan } from './plan.ts'

/**
 * The records concord writes, one function each: the merged record, the dead letter and the conflict record
 * (formats in the README, "Wire contract").
 */

/**
 * The merged output: key = entity id, value = the resolved value (null for a delete). A value that is one
 * write's bytes carries that write's origin headers; a value built from several writes carries
 * `x-merged-sources` naming each, and no single origin.
 */
export function mergedRecord (plan: TopicPlan, entity: string, partition: number, resolved: Resolved, localDc: string): OutboxRecord {
  const provenance = resolved.origin !== undefined ? originHeaders(resolved.origin) : { [H.mergedSources]: sourcesHeader(resolved.sources) }
  return {
    topic: plan.config.outputTopic,
    partition: partition % plan.outputPartitions,
    key: Buffer.from(entity, 'utf8'),
    value: resolved.value,
    headers: { ...provenance, [H.mergedBy]: localDc }
  }
}

export function deadLetter (plan: TopicPlan, batch: InBatch, record: InBatch['records'][number], error: { name: string, message: string }, stage: string, localDc: string): OutboxRecord {
  return {
    topic: plan.config.dlqTopic,
    partition: batch.partition % plan.dlqPartitions,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ.topic]: batch.topic,
      [DLQ.partition]: String(batch.partition),
      [DLQ.offset]: record.offset,
      [DLQ.exceptionClass]: error.name,
      [DLQ.message]: error.message,
      [DLQ.stage]: stage,
      [DLQ.dc]: localDc
    }
  }
}

/**
 * A conflict record on the topic's local conflict feed: key = entity id, value = JSON
 * `{ topic, entity, policy, field?, winner, loser }`, each side `{ dc, ts, counter, eventId, sha256 | value }`.
 * Its key and value depend only on the two writes, so every DC that reports the conflict writes the same bytes.
 */
export function conflictRecord (plan: TopicPlan, entity: string, partition: number, conflict: Conflict, localDc: string): OutboxRecord {
  const side = (w: Write): Record<string, unknown> => ({ ...stampFields(w.stamp), ...valueField(w.value, plan.config.conflictValues) })
  const body = {
    topic: plan.config.name,
    entity,
    policy: plan.merger.policy,
    ...(conflict.field === undefined ? {} : { field: conflict.field }),
    winner: side(conflict.winner),
    loser: side(conflict.loser)
  }
  return {
    topic: plan.config.conflictTopic,
    partition: partition % plan.conflictPartitions,
    key: Buffer.from(entity, 'utf8'),
    value: Buffer.from(JSON.stringify(body), 'utf8'),
    headers: { [H.mergedBy]: localDc }
  }
}

const stampFields = (s: Stamp) => ({ dc: s.dc, ts: s.ts, counter: s.counter, eventId: s.eventId })

function valueField (value: Buffer | null, form: 'hash' | 'value'): Record<string, string | null> {
  if (value === null) return form === 'hash' ? { sha256: null } : { value: null }
  return form === 'hash' ? { sha256: createHash('sha256').update(value).digest('hex') } : { value: value.toString('base64') }
}
