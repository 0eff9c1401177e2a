import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

/**
 * The alert and recording rules in deploy/prometheus, checked by Prometheus's own promtool (Debian package
 * `prometheus`, installed by .ci/run): their syntax, and their unit tests (concord-rules.test.yml), where each
 * alert has series that fire it and series that do not.
 */
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url))

function promtool (...args: string[]): { status: number | null, output: string } {
  const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  if (r.error !== undefined) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT'
    assert.fail(missing ? 'promtool not found: install the Debian package prometheus (apt-get install prometheus; .ci/run does)' : String(r.error))
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

describe('Prometheus rules (deploy/prometheus/concord-rules.yml)', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', 'concord-rules.yml')
    assert.equal(status, 0, output)
    assert.match(output, /SUCCESS: \d+ rules found/)
  })

  it('pass their unit tests: each alert fires on its series and stays silent on the others', () => {
    const { status, output } = promtool('test', 'rules', 'concord-rules.test.yml')
    assert.equal(status, 0, output)
    assert.match(output, /SUCCESS/)
  })
})
