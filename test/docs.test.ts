import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { envOverrides } from '../src/config/load.ts'
import { configSchema } from '../src/config/schema.ts'
import { errorClasses } from '../src/errors.ts'
import { policies } from '../src/merge/index.ts'
import { Metrics } from '../src/metrics/metrics.ts'
import { keyRow, keysOf } from '../src/schema/keys.ts'

/** The README is the user's entry point: these keep its tables in step with the code. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The rows of the README table whose header row is `header`. */
function tableRows (header: string): string[] {
  const lines = readme.split('\n')
  const at = lines.indexOf(header)
  assert.ok(at >= 0, `README has a table headed ${header}`)
  const rows: string[] = []
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!)
  return rows
}

test('the README error table lists exactly the error classes, with code and whether retrying helps', () => {
  const expected = errorClasses.map(cls => `| \`${cls.code}\` | \`${cls.name}\` | ${cls.retriable ? 'yes' : 'no'} |`)
  const got = tableRows('| code | class | retriable | meaning |').map(r => r.split(' | ').slice(0, 3).join(' | ') + ' |')
  assert.deepEqual(got, expected)
})

test('the README lists every metric concord declares', async () => {
  const metrics = new Metrics()
  const names = (await metrics.registry.getMetricsAsJSON()).map(m => m.name).filter(n => /^concord_(?!process_|nodejs_)/.test(n))
  assert.ok(names.length >= 5)
  for (const name of names) assert.ok(readme.includes(`\`${name}`), `README documents ${name}`)
})

test('the README configuration table is the schema, key for key (src/config/schema.ts)', () => {
  const expected = keysOf(configSchema(policies)).map(keyRow)
  assert.deepEqual(tableRows('| key | type | default | meaning |'), expected,
    `the README's configuration table should read:\n${expected.join('\n')}`)
})

test('the README environment table lists exactly the overrides the schema declares', () => {
  const expected = envOverrides.map(o => `| \`${o.name}\` | \`${o.key}\` |`)
  assert.deepEqual(tableRows('| variable | key |'), expected, `the README's environment table should read:\n${expected.join('\n')}`)
})
