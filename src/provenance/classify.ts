/**
 * Where a record may come from. Every write by DC `d` lands in `d`'s local topic and, copied byte for byte by
 * MirrorMaker 2, in each peer's `<d>.<topic>`. So a topic's records must all be written by the topic's source
 * DC: the local DC for the local topic, the peer for `<peer>.<topic>`. Each datacenter applies this same rule
 * to the same bytes, so all of them accept and reject the same writes.
 *
 * - `accept`: the writer is the topic's source DC.
 * - `loop`:   a remote topic carrying a write of the local DC: it came back round a replication loop (for
 *             instance through a third DC or an identity replication policy). Dropped and counted; the local
 *             topic already delivered it.
 * - otherwise a reason: a misrouted or forged record, sent to the dead-letter topic.
 *
 * Duplicates (the same write delivered again) are not decided here: the per-DC sibling state absorbs them
 * (see merge/siblings.ts), which needs no event-id table.
 */
export type Provenance = 'accept' | 'loop'

export function classify (writerDc: string, sourceDc: string, localDc: string, topic: string): Provenance | string {
  if (writerDc === sourceDc) return 'accept'
  if (writerDc === localDc) return 'loop'
  return `record on ${topic} was written by ${writerDc}, but this topic carries only writes of ${sourceDc}`
}
