import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { mirrorMakerProperties, writeMirrorMakerConfig } from '../../lab/configs.ts'
import { labSettings } from '../../lab/settings.ts'

const twoDcs = labSettings({}, '/repo')
const threeDcs = labSettings({ LAB_DCS: '3', LAB_DC3_PORT: '33092' }, '/repo')

const flowsOf = (props: Record<string, unknown>): string[] =>
  Object.entries(props).filter(([k]) => k.endsWith('.enabled') && k.includes('->')).map(([k, v]) => `${k}=${String(v)}`)

/**
 * Which topics MM2 would replicate by name, as its DefaultTopicFilter decides: `topics` and `topics.exclude`
 * are comma lists of Java regexes matched against the whole name (these use no syntax Java and JS differ on).
 */
function replicates (props: Record<string, unknown>, topic: string): boolean {
  const whole = (list: unknown): RegExp[] => String(list).split(',').map(p => new RegExp(`^(?:${p})$`))
  return whole(props.topics).some(r => r.test(topic)) && !whole(props['topics.exclude']).some(r => r.test(topic))
}

describe('the MirrorMaker 2 configuration', () => {
  it('for two DCs runs dc1->dc2 and dc2->dc1, as before three DCs were possible', () => {
    const props = mirrorMakerProperties(twoDcs)
    assert.equal(props.clusters, 'dc1,dc2')
    assert.equal(props['dc1.bootstrap.servers'], '127.0.0.1:19092')
    assert.equal(props['dc2.bootstrap.servers'], '127.0.0.1:29092')
    assert.equal(props['dc3.bootstrap.servers'], undefined)
    assert.deepEqual(flowsOf(props), ['dc1->dc2.enabled=true', 'dc2->dc1.enabled=true'])
    assert.equal(props['topics.exclude'], '.*[\\-\\.]internal,.*\\.replica,__.*,mm2-.*,.*\\.merged,.*\\.dlq,.*\\.conflicts,dc1\\..*,dc2\\..*')
  })

  it('for three DCs runs every ordered pair, six flows, in one process', () => {
    const props = mirrorMakerProperties(threeDcs)
    assert.equal(props.clusters, 'dc1,dc2,dc3')
    assert.equal(props['dc3.bootstrap.servers'], '127.0.0.1:33092')
    assert.deepEqual(flowsOf(props).sort(), [
      'dc1->dc2.enabled=true', 'dc1->dc3.enabled=true',
      'dc2->dc1.enabled=true', 'dc2->dc3.enabled=true',
      'dc3->dc1.enabled=true', 'dc3->dc2.enabled=true'
    ])
  })

  it('for three DCs replicates source topics only: no remote copy of any DC, no output, no internal topic', () => {
    const props = mirrorMakerProperties(threeDcs)
    for (const topic of ['orders', 'carts_2', 'lab-canary', 'it-three-dc-abc']) assert.ok(replicates(props, topic), topic)
    for (const topic of ['dc1.orders', 'dc2.orders', 'dc3.orders', 'dc3.lab-canary', 'orders.merged', 'orders.dlq',
      'orders.conflicts', '__consumer_offsets', 'mm2-offsets.dc1.internal', 'dc1.checkpoints.internal', 'orders.replica']) {
      assert.ok(!replicates(props, topic), topic)
    }
  })

  it('is written as a properties file whose regex backslashes Java reads back as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-lab-'))
    const file = writeMirrorMakerConfig({ ...threeDcs, dir })
    const lines = readFileSync(file, 'utf8').split('\n')
    assert.ok(lines.includes('clusters=dc1,dc2,dc3'))
    assert.ok(lines.includes('dc3->dc1.enabled=true'))
    // A properties file reads `\\` as one backslash, so the regex `dc3\..*` is written `dc3\\..*`.
    assert.ok(lines.some(l => l.startsWith('topics.exclude=') && l.endsWith(',dc1\\\\..*,dc2\\\\..*,dc3\\\\..*')), 'topics.exclude line')
  })
})
