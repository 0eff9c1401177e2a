import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { stringify } from 'yaml'
import { startConcord, type ConcordSpec } from '../../lab/concord-process.ts'
import { createTopicPair, produce, waitConsumed } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { dlqList, dlqReplay } from '../../src/cli/dlq.ts'
import { rebuild } from '../../src/cli/rebuild.ts'
import { resetOffsets } from '../../src/cli/reset-offsets.ts'
import { planTopics } from '../../src/processor/plan.ts'
import { resolvedEntities } from '../processor/rig.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { StoreError } from '../../src/errors.ts'
import { connectAdmin } from '../../src/kafka/admin.ts'
import { policies } from '../../src/merge/index.ts'
import type { OutRecord } from '../../src/model/record.ts'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'

/** The operator commands' work on the lab's dc1: dead letters listed and replayed, positions reset. */
const settings = labSettings()
const CLI = new URL('../../src/cli/concord.ts', import.meta.url).pathname
const [dc1] = settings.dcs

async function ends (topic: string): Promise<number> {
  const admin = await connectAdmin({ brokers: [dc1.bootstrap], clientId: 'concord-test' })
  try {
    return [...(await admin.highWatermarks(topic)).values()].reduce((a, b) => a + Number(b), 0)
  } finally {
    await admin.close()
  }
}

const storeOffsets = (dir: string): Map<string, number> => {
  const store = new SqliteStateStore(openDatabase({ dir, synchronous: 'normal', cacheMb: 8 }))
  try {
    return store.offsets()
  } finally {
    store.close()
  }
}

describe('operator commands on the lab', () => {
  const topic = `it-ops-${Date.now().toString(36)}`
  const spec: ConcordSpec = {
    dc: 'dc1',
    peers: ['dc2'],
    brokers: dc1.bootstrap,
    topics: [{ name: topic, policy: 'lww' }],
    dir: mkdtempSync(join(tmpdir(), 'concord-ops-')),
    groupId: `concord-dc1-${topic}`
  }
  const config = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: [dc1.bootstrap], groupId: spec.groupId }, topics: spec.topics, store: { dir: join(spec.dir, 'state') } }, { policies })
  // 10 valid writes and 2 that are not msgpack (dead-lettered at parse), on partitions 0 and 1.
  const records: OutRecord[] = [
    ...Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, key: `e${i}-dc1`, value: encodeMsgpack({ n: i }), headers: { 'x-origin-ts': String(100 + i), 'x-event-id': `ok-${i}` } })),
    { topic, partition: 0, key: 'bad0-dc1', value: Buffer.from([0xc1]), headers: { 'x-origin-ts': '200', 'x-event-id': 'bad-0' } },
    { topic, partition: 1, key: 'bad1-dc1', value: Buffer.from([0xc1]), headers: { 'x-origin-ts': '201', 'x-event-id': 'bad-1' } }
  ]

  it('lists the dead letters with their source and reason; replays them to their input partition only when executed', async () => {
    await createTopicPair(settings, topic)
    await produce(dc1.bootstrap, records)
    const proc = await startConcord(spec)
    try {
      await waitConsumed([proc], [records.length])
    } finally {
      assert.equal(await proc.stop(), 0)
    }
    const letters = await dlqList(config, [])
    assert.deepEqual(letters.map(d => [d.key?.toString(), d.source?.topic, d.source?.partition, d.stage]).sort(), [['bad0-dc1', topic, 0, 'parse'], ['bad1-dc1', topic, 1, 'parse']])
    assert.ok(letters.every(d => d.reason !== undefined && d.reason.length > 0 && d.dc === 'dc1'))
    assert.deepEqual(letters.map(d => Object.keys(d.headers).sort()), [['x-event-id', 'x-origin-ts'], ['x-event-id', 'x-origin-ts']], 'the record\'s own headers, not the error ones')

    // The same through the command line, as an operator runs it.
    const file = join(spec.dir, 'ops.yaml')
    writeFileSync(file, stringify({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: [dc1.bootstrap] }, topics: spec.topics, store: { dir: config.store.dir } }))
    const listed = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, 'dlq', 'list', '--config', file, '--json'], { encoding: 'utf8' })
    assert.equal(listed.status, 0, listed.stderr)
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ key: string }>).map(d => d.key).sort(), ['bad0-dc1', 'bad1-dc1'])

    const before = await ends(topic)
    const dry = await dlqReplay(config, [topic], false)
    assert.equal(dry.replayable.length, 2)
    assert.equal(await ends(topic), before, 'a dry run sends nothing')
    await dlqReplay(config, [topic], true)
    assert.equal(await ends(topic), before + 2, 'executed, both are back in the input topic')
  })

  it('rebuilds a state folder from the inputs that resolves, entity for entity, as the processor\'s, and refuses a folder with state', async () => {
    const rebuilt = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: [dc1.bootstrap] }, topics: spec.topics, store: { dir: join(spec.dir, 'rebuilt') } }, { policies })
    const progress: number[] = []
    const result = await rebuild(rebuilt, p => { progress.push(p.records) }, 0)
    // The 12 records the processor read, and the 2 dead letters replayed into the input since.
    assert.equal(result.total, records.length + 2)
    assert.equal(result.records, result.total)
    assert.ok(progress.length > 0 && progress.every((n, i) => i === 0 || n >= progress[i - 1]!), 'progress is reported and never goes back')
    const resolved = (dir: string): unknown => {
      const store = new SqliteStateStore(openDatabase({ dir, synchronous: 'normal', cacheMb: 8 }))
      try {
        const plan = planTopics(config, (name, format) => store.topicId(name, format)).topics[0]!
        return [...resolvedEntities(store, plan)].sort(([a], [b]) => a.localeCompare(b))
      } finally {
        store.close()
      }
    }
    // The processor's store has not consumed the 2 replayed records (it stopped before): run it once more.
    const proc = await startConcord(spec)
    try {
      await waitConsumed([proc], [2])
    } finally {
      assert.equal(await proc.stop(), 0)
    }
    const original = resolved(config.store.dir)
    assert.equal((original as unknown[]).length, 10, 'the 10 valid writes; the replayed ones fail again')
    assert.deepEqual(resolved(rebuilt.store.dir), original)
    assert.equal(result.entities, 10)
    await assert.rejects(rebuild(rebuilt), (err: unknown) => err instanceof StoreError && /holds the positions of \d+ input partitions already/.test(err.message))
  })

  it('resets the store\'s positions to earliest or latest only when executed, and is refused while concord runs', async () => {
    const dir = config.store.dir
    const held = storeOffsets(dir)
    assert.deepEqual([...held.values()].reduce((a, b) => a + b, 0), records.length + 2, 'the records and the 2 replayed')
    const file = join(spec.dir, 'ops.yaml')
    const cli = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, 'reset-offsets', '--config', file, '--to', 'earliest'], { encoding: 'utf8' })
    assert.equal(cli.status, 0, cli.stderr)
    assert.match(cli.stdout, /^dry run: \d+ of \d+ partitions would move; run again with --execute/m)
    const dry = await resetOffsets(config, { kind: 'earliest' }, false)
    assert.ok(dry.changes.length >= 2 && dry.changes.every(c => c.to === 0))
    assert.deepEqual(storeOffsets(dir), held, 'a dry run writes nothing')
    await resetOffsets(config, { kind: 'earliest' }, true)
    assert.ok([...storeOffsets(dir).entries()].filter(([k]) => k.startsWith(`${topic}:`)).every(([, v]) => v === 0))
    await resetOffsets(config, { kind: 'latest' }, true)
    const latest = storeOffsets(dir)
    assert.equal([...latest].filter(([k]) => k.startsWith(`${topic}:`)).reduce((a, [, v]) => a + v, 0), await ends(topic), 'latest: the high watermarks, the replayed records included')

    const proc = await startConcord(spec)
    try {
      await assert.rejects(resetOffsets(config, { kind: 'earliest' }, true), (err: unknown) => err instanceof StoreError && /concord\.lock|held by|in use/.test(err.message))
    } finally {
      assert.equal(await proc.stop(), 0)
    }
  })
})
