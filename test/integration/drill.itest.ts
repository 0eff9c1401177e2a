import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CI_SIZE, runDrill } from '../../lab/drill.ts'
import { formatReport } from '../../lab/drill-report.ts'
import { down, up } from '../../lab/lab.ts'
import { labSettings } from '../../lab/settings.ts'

/**
 * The disaster-recovery drill at its CI size, on a lab of its own: the drill stops a broker, which the shared
 * lab (and the other tests on it) must never see. Its ports and run folder can be moved with DRILL_LAB_*.
 */
const env = process.env
const settings = labSettings({
  ...env,
  LAB_DIR: env.DRILL_LAB_DIR ?? '.cache/lab-drill',
  LAB_DC1_PORT: env.DRILL_LAB_DC1_PORT ?? '41092',
  LAB_DC2_PORT: env.DRILL_LAB_DC2_PORT ?? '42092'
})
const log = (line: string): void => { console.log(`drill: ${line}`) }

describe('the disaster-recovery drill (CI size, its own lab)', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-it-drill-'))
  // The processors' logs are kept when the drill fails.
  let passed = false

  before(async () => { await up(settings, log) }, { timeout: 300_000 })
  after(async () => {
    await down(settings, log)
    if (passed) rmSync(work, { recursive: true, force: true })
    else log(`processor logs kept in ${work}`)
  }, { timeout: 120_000 })

  it('keeps dc2 serving through dc1\'s outage, then converges with no acknowledged write lost', async () => {
    const report = await runDrill(settings, { ...CI_SIZE, work }, log)
    log(`report\n${formatReport(report)}`)
    assert.ok(report.writes.acceptedDuringOutage > 0, 'dc2 accepted writes while dc1 was down')
    assert.ok(report.writes.notAcknowledged > 0, 'dc1\'s writes failed while its broker was down')
    assert.equal(report.outage.dc2Ready, report.outage.samples, 'dc2 stayed ready through the outage')
    assert.equal(report.divergentEntities, 0)
    assert.equal(report.lostWrites, 0)
    assert.equal(report.failover.mismatched, 0, 'the failed-over consumer holds what dc2\'s merged topic holds')
    assert.ok(report.failover.entities > 0)
    assert.ok(report.ok)
    passed = true
  })
})
