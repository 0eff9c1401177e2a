/**
 * Two datacenters converge, for every policy and both delete rules: two engines, dc1 and dc2, each on its own
 * in-memory store, consume the same writes as records (keys, headers, msgpack values) through
 * `Engine.process`, in different interleavings, batch splits and redeliveries, and must end on what an oracle
 * computes from the set of writes (convergence-policies.ts), with the same changelog, the same dead letters
 * and, for concurrent writes, the same conflict records. The scenarios are made in convergence-scenarios.ts;
 * which writes are absorbed or dead-lettered (the intake) is worked out here, independently of the engine.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { codecs } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { policies } from '../../src/merge/index.ts'
import type { InRecord } from '../../src/model/record.ts'
import { Engine } from '../../src/processor/engine.ts'
import { planTopics, type TopicPlan } from '../../src/processor/plan.ts'
import { H } from '../../src/wire/contract.ts'
import { CUSTOM_MODULE, POLICY_CASES, type Dc, type Expected, type GenWrite, type PolicyCase } from './convergence-policies.ts'
import { conflictScenarioArb, DCS, ENTITIES, PEER, scenarioArb, T, type Scenario } from './convergence-scenarios.ts'
import { memoryStore, resolvedEntities } from './rig.ts'
import { batches } from './batches.ts'

const MODULES: ReadonlyMap<string, unknown> = new Map([[CUSTOM_MODULE, await import(new URL('../../config/policies/tags.js', import.meta.url).href)]])

const NUM_RUNS = 200
const CONFLICT_RUNS = 80

// ---------------------------------------------------------------------------------------------------------
// The engines.

interface Outcome {
  readonly stored: Map<string, Buffer | null>
  /** The merged changelog: per key, the value of its last record. */
  readonly changelog: Map<string, Buffer | null>
  /** Dead letters as "<key> <event id>". */
  readonly deadLetters: Set<string>
  readonly conflicts: ReadonlyArray<{ readonly key: string, readonly value: Buffer }>
}

function topicConfig (policy: PolicyCase, s: Scenario): Record<string, unknown> {
  return { name: 'orders', policy: policy.policy, codec: 'msgpack', ...s.rules, gcGraceMs: s.gcGraceMs, conflictValues: s.conflictValues }
}

function toRecord (w: GenWrite, offset: number): InRecord {
  const { dc, ts, counter, eventId } = w.stamp
  return {
    offset: String(offset),
    timestamp: String(T),
    key: Buffer.from(`${w.entity}-${dc}`),
    value: w.value === null ? null : Buffer.from(w.value),
    headers: { [H.originDc]: dc, [H.originTs]: counter === 0 ? String(ts) : `${ts}:${counter}`, [H.eventId]: eventId }
  }
}

function runEngine (policy: PolicyCase, s: Scenario, dc: Dc): Outcome {
  const config = validateConfig({ dc, peers: [PEER[dc]], kafka: { brokers: ['127.0.0.1:19092'] }, topics: [topicConfig(policy, s)] }, { policies })
  const store = memoryStore()
  const plans = planTopics(config, (name, format) => store.topicId(name, format), MODULES)
  const plan: TopicPlan = plans.topics[0]!
  if (s.gc) plan.inputPartitions = 1
  const engine = new Engine(store, plans)
  const next = new Map<string, number>()
  for (const { topic, items } of batches(s.deliveries[dc], s.batchSizes[dc])) {
    let offset = next.get(topic) ?? 0
    const records = items.map(d => toRecord(d.w, offset++))
    next.set(topic, offset)
    engine.process({ topic, partition: 0, records })
  }
  const out = store.pending(0, 100_000).flatMap(b => b.records)
  const stored = new Map([...resolvedEntities(store, plan)].map(([entity, r]) => [entity, r.value]))
  store.close()
  const keyOf = (o: { key: Buffer | null }): string => o.key!.toString('utf8')
  return {
    stored,
    changelog: new Map(out.filter(o => o.topic === 'orders.merged').map(o => [keyOf(o), o.value])),
    deadLetters: new Set(out.filter(o => o.topic === 'orders.dlq').map(o => `${keyOf(o)} ${String(o.headers[H.eventId])}`)),
    conflicts: out.filter(o => o.topic === 'orders.conflicts').map(o => ({ key: keyOf(o), value: o.value! }))
  }
}

// ---------------------------------------------------------------------------------------------------------
// The oracle's intake: which writes are absorbed and which dead-lettered.

const letter = (w: GenWrite): string => `${w.entity}-${w.stamp.dc} ${w.stamp.eventId}`

/**
 * Garbage is dead-lettered when parsed (before the watermark); a rejected value after the too-late check,
 * so its time still raises its DC's watermark, as every write time seen does. Under a shared log a write
 * more than gcGraceMs behind that watermark is too late (dead-lettered), and a write is absorbed when any
 * of its deliveries is not too late.
 */
function intake (s: Scenario): { accepted: GenWrite[], deadLetters: Set<string> } {
  const dead = new Set<string>()
  const accepted = new Set<GenWrite>()
  const take = (w: GenWrite): void => { if (w.kind === 'value' || w.kind === 'delete') accepted.add(w); else dead.add(letter(w)) }
  if (s.logs === undefined) {
    for (const w of s.writes) take(w)
  } else {
    for (const dc of DCS) {
      let mark = -Infinity
      for (const w of s.logs[dc]) {
        if (w.kind === 'garbage' || w.stamp.ts < mark - s.gcGraceMs) {
          dead.add(letter(w))
          continue
        }
        mark = Math.max(mark, w.stamp.ts)
        take(w)
      }
    }
  }
  return { accepted: [...accepted], deadLetters: dead }
}

function checkEntity (dc: Dc, entity: string, expected: Expected, o: Outcome, gc: boolean): void {
  const at = `${dc}, entity ${entity}`
  if (expected.kind === 'absent') {
    assert.equal(o.stored.has(entity), false, `${at}: has state, the oracle none`)
    assert.equal(o.changelog.has(entity), false, `${at}: has a merged record, the oracle no state`)
    return
  }
  assert.ok(o.changelog.has(entity), `${at}: no merged record`)
  // A purged entity counts as deleted: garbage collection removes only deleted entities.
  const value = o.stored.get(entity) ?? null
  if (!o.stored.has(entity)) assert.ok(gc, `${at}: missing from the store without garbage collection`)
  assert.deepEqual(o.changelog.get(entity), value, `${at}: the changelog does not end on the resolved value`)
  switch (expected.kind) {
    case 'deleted':
      assert.equal(value, null, `${at}: live, the oracle deleted`)
      break
    case 'bytes':
      assert.deepEqual(value, expected.bytes, `${at}: resolves to other bytes than the oracle's`)
      break
    case 'doc': {
      assert.ok(value !== null, `${at}: deleted, the oracle ${JSON.stringify(expected.doc)}`)
      const got = codecs.msgpack.decode(value) as Record<string, unknown>
      assert.deepEqual(got, expected.doc, `${at}: resolves to another value than the oracle's`)
      assert.deepEqual(Object.keys(got), Object.keys(expected.doc), `${at}: keys in another order than the oracle's`)
    }
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The conflict records the oracle expects (parsed), for the entities whose two DCs both wrote a valid value. */
function expectedConflicts (policy: PolicyCase, s: Scenario): unknown[] {
  if (policy.conflicts === undefined) return []
  const conflicts = policy.conflicts
  const side = (c: { stamp: GenWrite['stamp'], value: Buffer }): Record<string, unknown> => ({
    dc: c.stamp.dc,
    ts: c.stamp.ts,
    counter: c.stamp.counter,
    eventId: c.stamp.eventId,
    ...(s.conflictValues === 'hash' ? { sha256: sha256(c.value) } : { value: c.value.toString('base64') })
  })
  return ENTITIES.flatMap(entity => {
    const [a, b] = DCS.map(dc => s.writes.find(w => w.entity === entity && w.stamp.dc === dc && w.kind === 'value'))
    if (a === undefined || b === undefined) return []
    return conflicts(a, b).map(c => ({
      topic: 'orders',
      entity,
      policy: policy.name,
      ...(c.field === undefined ? {} : { field: c.field }),
      winner: side(c.winner),
      loser: side(c.loser)
    }))
  })
}

const byText = (xs: readonly unknown[]): unknown[] => [...xs].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)

// ---------------------------------------------------------------------------------------------------------

for (const policy of POLICY_CASES) {
  for (const deleteRule of ['lww', 'delete-wins'] as const) {
    describe(`Two datacenters converge: ${policy.name}, deleteRule ${deleteRule}`, () => {
      test('any interleaving, batching and redelivery of the same writes leaves both DCs on the oracle\'s value per entity, with the same changelog and dead letters', () => {
        fc.assert(fc.property(scenarioArb(policy, deleteRule), s => {
          const { accepted, deadLetters } = intake(s)
          const [one, two] = DCS.map(dc => runEngine(policy, s, dc)) as [Outcome, Outcome]
          for (const entity of ENTITIES) {
            const expected = policy.resolve(accepted.filter(w => w.entity === entity), s.rules)
            checkEntity('dc1', entity, expected, one, s.gc)
            checkEntity('dc2', entity, expected, two, s.gc)
          }
          assert.deepEqual(one.changelog, two.changelog, 'the changelogs end on other bytes')
          assert.deepEqual(one.deadLetters, deadLetters, 'dc1: other dead letters than the oracle\'s')
          assert.deepEqual(two.deadLetters, deadLetters, 'dc2: other dead letters than the oracle\'s')
        }), { numRuns: NUM_RUNS })
      })

      const conflicts = policy.conflicts === undefined
        ? 'concurrent writes, one per DC per entity, give no conflict record in either DC'
        : 'concurrent writes, one per DC per entity, give both DCs the same conflict records, the ones the oracle expects'
      test(conflicts, () => {
        fc.assert(fc.property(conflictScenarioArb(policy, deleteRule), s => {
          const [one, two] = DCS.map(dc => runEngine(policy, s, dc)) as [Outcome, Outcome]
          const records = (o: Outcome): string[] => o.conflicts.map(c => `${c.key} ${c.value.toString('hex')}`).sort()
          assert.deepEqual(records(one), records(two), 'the DCs report other conflict records')
          for (const c of one.conflicts) assert.equal((JSON.parse(c.value.toString('utf8')) as { entity: string }).entity, c.key)
          assert.deepEqual(byText(one.conflicts.map(c => JSON.parse(c.value.toString('utf8')) as unknown)), byText(expectedConflicts(policy, s)))
        }), { numRuns: CONFLICT_RUNS })
      })
    })
  }
}
