import type { StampView, ValueView } from '../merge/state-description.ts'
import type { EntityView } from '../query/entity-view.ts'
import type { Options } from './args.ts'
import { openSource, type DigestSource } from './digest-source.ts'
import { showStamp, showValue } from './view-text.ts'

/** What one side resolves an entity to: its merged value and provenance (null: it has none, or it is deleted). */
export interface Side {
  readonly deleted: boolean
  readonly value: ValueView | null
  readonly origin: StampView | null
  readonly sources: readonly StampView[]
}

/** An entity whose merged value or provenance differs, or that only one side has, with what each side holds. */
export interface Difference {
  readonly entity: string
  readonly kind: 'differs' | 'only-a' | 'only-b'
  readonly a: Side | null
  readonly b: Side | null
}

export interface TopicComparison {
  readonly topic: string
  readonly converged: boolean
  /** Entities with a value on each side. */
  readonly entities: readonly [number, number]
  readonly digests: readonly [string, string]
  /** The differing entities, in UTF-8 byte order of the ids within each bucket, up to the limit. */
  readonly differing: readonly Difference[]
  /** How many more differ than are listed. */
  readonly more: number
}

/** Compares one topic: the topic digests, then the entity digests of the buckets whose digests differ. */
export async function compareTopic (a: DigestSource, b: DigestSource, topic: string, limit: number): Promise<TopicComparison> {
  const [da, db] = await Promise.all([a.digest(topic), b.digest(topic)])
  const base = { topic, entities: [da.entities, db.entities] as const, digests: [da.digest, db.digest] as const }
  if (da.digest === db.digest) return { ...base, converged: true, differing: [], more: 0 }
  const buckets = da.buckets.flatMap((d, i) => d === db.buckets[i] ? [] : [i])
  const [ea, eb] = await Promise.all([a.entityDigests(topic, buckets), b.entityDigests(topic, buckets)])
  const inB = new Map(eb.entities.map(([e, d]) => [e, d]))
  const inA = new Set(ea.entities.map(([e]) => e))
  const all: Array<Pick<Difference, 'entity' | 'kind'>> = []
  for (const [entity, d] of ea.entities) {
    const other = inB.get(entity)
    if (other === undefined) all.push({ entity, kind: 'only-a' })
    else if (other !== d) all.push({ entity, kind: 'differs' })
  }
  for (const [entity] of eb.entities) if (!inA.has(entity)) all.push({ entity, kind: 'only-b' })
  const differing: Difference[] = []
  for (const d of all.slice(0, limit)) {
    const [va, vb] = await Promise.all([a.entity(topic, d.entity), b.entity(topic, d.entity)])
    differing.push({ ...d, a: sideOf(va), b: sideOf(vb) })
  }
  return { ...base, converged: false, differing, more: Math.max(0, all.length - limit) }
}

const sideOf = (v: EntityView | undefined): Side | null =>
  v === undefined ? null : { deleted: v.deleted, value: v.value, origin: v.origin, sources: v.sources }

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * `concord verify <a> <b>`: compares every topic (or those of --topic) up to --attempts times while they
 * differ. Exit code 0 when every topic converged, 1 when one diverges.
 */
export async function verify (args: readonly string[], options: Options, out: (text: string) => void): Promise<number> {
  const a = await openSource(args[0]!, options.config)
  let b: DigestSource | undefined
  try {
    b = await openSource(args[1]!, options.config)
    const topics = options.topics.length > 0 ? options.topics : await a.topics()
    let results: TopicComparison[] = []
    for (let attempt = 1; ; attempt++) {
      results = []
      for (const topic of topics) results.push(await compareTopic(a, b, topic, options.limit))
      if (results.every(r => r.converged) || attempt >= options.attempts) break
      await sleep(options.waitMs)
    }
    const converged = results.every(r => r.converged)
    out(options.json
      ? JSON.stringify({ a: a.label, b: b.label, converged, topics: results }, null, 2)
      : report(a.label, b.label, results))
    return converged ? 0 : 1
  } finally {
    a.close()
    b?.close()
  }
}

const entities = (n: number): string => `${n} ${n === 1 ? 'entity' : 'entities'}`

function showSide (s: Side | null): string {
  if (s === null) return 'no such entity'
  if (s.deleted) return 'deleted'
  return `${showValue(s.value)}  ${s.origin === null ? `built from ${s.sources.length} ${s.sources.length === 1 ? 'write' : 'writes'}` : `origin ${showStamp(s.origin)}`}`
}

function report (a: string, b: string, results: readonly TopicComparison[]): string {
  const lines: string[] = []
  const side = { 'only-a': `only in ${a}`, 'only-b': `only in ${b}`, differs: 'value or provenance differs' } as const
  for (const r of results) {
    if (r.converged) {
      lines.push(`${r.topic}: converged (${entities(r.entities[0])}, digest ${r.digests[0].slice(0, 16)})`)
      continue
    }
    const n = r.differing.length + r.more
    lines.push(`${r.topic}: DIVERGED, ${n} ${n === 1 ? 'entity differs' : 'entities differ'} (${entities(r.entities[0])} in ${a}, ${r.entities[1]} in ${b})`)
    for (const d of r.differing) {
      lines.push(`  ${JSON.stringify(d.entity)}  ${side[d.kind]}`)
      for (const [label, s] of [[a, d.a], [b, d.b]] as const) lines.push(`      ${label}: ${showSide(s)}`)
    }
    if (r.more > 0) lines.push(`  ... and ${r.more} more (--limit)`)
  }
  const bad = results.filter(r => !r.converged).length
  lines.push(bad === 0
    ? `${a} and ${b} have converged`
    : `${a} and ${b} diverge on ${bad} of ${results.length} ${results.length === 1 ? 'topic' : 'topics'}`)
  return lines.join('\n')
}
