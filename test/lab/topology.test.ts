import assert from 'node:assert/strict'
import { test } from 'node:test'
import { labSettings } from '../../lab/settings.ts'
import { describeFlows, flows, peersOf } from '../../lab/topology.ts'

const ids = (dcs: ReadonlyArray<{ id: string }>): string[] => dcs.map(d => d.id)

test('two DCs replicate one way each: dc1->dc2 and dc2->dc1', () => {
  const s = labSettings({}, '/repo')
  assert.deepEqual(flows(s).map(ids), [['dc1', 'dc2'], ['dc2', 'dc1']])
  assert.equal(describeFlows(s), 'dc1->dc2, dc2->dc1')
  assert.deepEqual(ids(peersOf(s, s.dcs[0])), ['dc2'])
})

test('three DCs form a full mesh: every DC has both others as peers, six flows', () => {
  const s = labSettings({ LAB_DCS: '3' }, '/repo')
  assert.equal(describeFlows(s), 'dc1->dc2, dc1->dc3, dc2->dc1, dc2->dc3, dc3->dc1, dc3->dc2')
  assert.deepEqual(s.dcs.map(dc => ids(peersOf(s, dc))), [['dc2', 'dc3'], ['dc1', 'dc3'], ['dc1', 'dc2']])
})
