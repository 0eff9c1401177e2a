import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { envOverrides } from '../src/config/load.ts'
import { defaults } from '../src/config/defaults.ts'
import { errorClasses } from '../src/errors.ts'
import { Metrics } from '../src/metrics/metrics.ts'

/** The README is the user's entry point: these keep its tables in step with the code. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

test('the README error table lists every error code with its class', () => {
  for (const cls of errorClasses) {
    assert.ok(readme.includes(`| \`${cls.code}\` | \`${cls.name}\` |`), `README lists ${cls.code} (${cls.name})`)
  }
})

test('the README lists every metric concord declares', async () => {
  const metrics = new Metrics()
  const names = (await metrics.registry.getMetricsAsJSON()).map(m => m.name).filter(n => /^concord_(?!process_|nodejs_)/.test(n))
  assert.ok(names.length >= 5)
  for (const name of names) assert.ok(readme.includes(`\`${name}`), `README documents ${name}`)
})

test('the README documents every environment override', () => {
  for (const o of envOverrides) assert.ok(readme.includes(`| \`${o.name}\` | \`${o.key}\``), `README documents ${o.name} -> ${o.key}`)
})

test('the README configuration table has a row for every key with a default', () => {
  const keys = [
    ...Object.keys(defaults.kafka).map(k => `kafka.${k}`),
    ...Object.keys(defaults.topic).map(k => `topics[].${k}`),
    ...Object.keys(defaults.store).map(k => `store.${k}`),
    ...Object.keys(defaults.http).map(k => `http.${k}`),
    ...Object.keys(defaults.log).map(k => `log.${k}`)
  ]
  for (const key of keys) assert.ok(readme.includes(`| \`${key}\` |`), `README documents ${key}`)
})
