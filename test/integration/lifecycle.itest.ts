import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { startConcord, sum } from '../../lab/concord-process.ts'
import { readUntil } from '../../lab/read.ts'
import { createTopicPair, produce } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import type { OutRecord } from '../../src/model/record.ts'

const settings = labSettings()
const [dc1] = settings.dcs
const fresh = (name: string): string => `it-${name}-${Date.now().toString(36)}`
const spec = (topic: string) => ({
  dc: 'dc1',
  peers: ['dc2'],
  brokers: dc1.bootstrap,
  topics: [{ name: topic, policy: 'lww' }],
  dir: mkdtempSync(join(tmpdir(), 'concord-it-')),
  groupId: `concord-dc1-${topic}`
})

describe('the processor lifecycle', () => {
  it('waits for input topics that do not exist yet, then consumes them', async () => {
    const topic = fresh('late')
    const proc = await startConcord({ ...spec(topic), waitReady: false })
    try {
      assert.equal(await proc.ready(), false, 'not ready without input topics')
      await createTopicPair(settings, topic)
      await produce(dc1.bootstrap, [{ topic, partition: 0, key: 'a-dc1', value: 'v', headers: { 'x-origin-ts': '5', 'x-event-id': 'e' } }])
      // Picked up at the next look for topics (every 5 s); outputs are created before it becomes ready.
      for (let i = 0; i < 150 && !(await proc.ready()); i++) await sleep(100)
      assert.equal(await proc.ready(), true, 'ready once the topics exist')
      const merged = await readUntil(dc1.bootstrap, [`${topic}.merged`], rs => rs.length >= 1, { timeoutMs: 30_000 })
      assert.equal(merged[0]?.key?.toString(), 'a')
    } finally {
      assert.equal(await proc.stop(), 0, 'SIGTERM ends the process cleanly')
    }
  })

  it('says once per topic, and counts, when versions of one entity arrive in different partitions', async () => {
    const topic = fresh('mismatch')
    await createTopicPair(settings, topic)
    const s = spec(topic)
    const proc = await startConcord(s)
    // Partitioned by the whole DC-suffixed key: each entity's two versions land in different partitions.
    const records: OutRecord[] = []
    for (let i = 0; i < 20; i++) {
      records.push({ topic, partition: 0, key: `e${i}-dc1`, value: 'a', headers: { 'x-origin-ts': '10', 'x-event-id': `a${i}` } })
      records.push({ topic: `dc2.${topic}`, partition: 1, key: `e${i}-dc2`, value: 'b', headers: { 'x-origin-ts': '20', 'x-event-id': `b${i}` } })
    }
    try {
      await produce(dc1.bootstrap, records)
      let metrics = await proc.metrics()
      for (let i = 0; i < 100 && sum(metrics, 'concord_records_total{') < records.length; i++) {
        await sleep(100)
        metrics = await proc.metrics()
      }
      assert.equal(sum(metrics, 'concord_records_total{', 'outcome="applied"'), records.length)
      assert.ok(sum(metrics, 'concord_partition_mismatches_total{') >= 20, 'mismatches counted')
      const merged = await readUntil(dc1.bootstrap, [`${topic}.merged`], rs => new Set(rs.filter(r => r.value?.toString() === 'b').map(r => r.key?.toString())).size >= 20)
      assert.ok(merged.length >= 20, 'the newer dc2 versions win regardless of partitioning')
    } finally {
      assert.equal(await proc.stop(), 0)
    }
    const warnings = readFileSync(proc.log, 'utf8').split('\n').filter(l => l.includes('versions of one entity arrive in different partitions'))
    assert.ok(warnings.length >= 1 && warnings.length <= 2, `logged once per input topic, got ${warnings.length}`)
  })
})
