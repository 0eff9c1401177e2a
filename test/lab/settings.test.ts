import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { LabError } from '../../lab/errors.ts'
import { labSettings, labSettingsUsage, labSettingTable } from '../../lab/settings.ts'

const declared = Object.values(labSettingTable)

function problemsOf (env: Record<string, string>): string[] {
  try {
    labSettings(env, '/repo')
  } catch (err) {
    assert.ok(err instanceof LabError)
    assert.equal(err.code, 'CONCORD_ERR_LAB')
    const [head, ...problems] = err.message.split('\n  - ')
    assert.equal(head, 'invalid lab settings:')
    return problems
  }
  assert.fail('expected a LabError')
}

test("the README's lab table lists every setting with its declared default, and no other", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.split(/^## /m).find(s => s.startsWith('The lab\n'))
  assert.ok(section !== undefined, 'README has a "The lab" section')
  const header = section.indexOf('| variable | default | meaning |')
  assert.ok(header >= 0, 'the lab section has a table of variables')
  const rows = section.slice(header).split('\n').slice(2).filter(l => l.startsWith('|'))
  const documented = new Map<string, string>()
  for (const row of rows) {
    const [variables = '', defaults = ''] = row.split('|').slice(1).map(c => c.trim())
    // One row may pair settings: `A` / `B` | `1` / `2`.
    const names = variables.split(' / ')
    const values = defaults.split(' / ')
    assert.equal(names.length, values.length, `one default per variable in: ${row}`)
    names.forEach((name, i) => documented.set(name.replace(/`/g, ''), values[i]!.replace(/`/g, '')))
  }
  assert.deepEqual(documented, new Map(declared.map(s => [s.variable, s.default])))
})

test('an empty environment gives the defaults, with folders under the project folder', () => {
  assert.deepEqual(labSettings({}, '/repo'), {
    root: '/repo',
    dir: '/repo/.cache/lab',
    cache: '/repo/.cache/kafka',
    dcs: [
      { id: 'dc1', port: 19092, controllerPort: 19093, bootstrap: '127.0.0.1:19092' },
      { id: 'dc2', port: 29092, controllerPort: 29093, bootstrap: '127.0.0.1:29092' }
    ],
    partitions: 3,
    topics: ['orders'],
    brokerHeap: '512m',
    mm2Heap: '512m',
    readyTimeoutMs: 120_000
  })
})

test('an empty variable takes the default, like an unset one', () => {
  const empty = Object.fromEntries(declared.map(s => [s.variable, '']))
  assert.deepEqual(labSettings(empty, '/repo'), labSettings({}, '/repo'))
})

test('given values replace the defaults', () => {
  const s = labSettings({
    LAB_DIR: '/tmp/lab',
    LAB_CACHE: 'jars',
    LAB_DC1_PORT: '39092',
    LAB_DC2_PORT: '39094',
    LAB_PARTITIONS: '64',
    LAB_TOPICS: ' orders , carts_2,',
    LAB_BROKER_HEAP: '1g',
    LAB_MM2_HEAP: '256M',
    LAB_READY_TIMEOUT_S: '5'
  }, '/repo')
  assert.equal(s.dir, '/tmp/lab')
  assert.equal(s.cache, '/repo/jars')
  assert.deepEqual(s.dcs.map(d => [d.port, d.controllerPort, d.bootstrap]), [[39092, 39093, '127.0.0.1:39092'], [39094, 39095, '127.0.0.1:39094']])
  assert.equal(s.partitions, 64)
  assert.deepEqual(s.topics, ['orders', 'carts_2'])
  assert.equal(s.brokerHeap, '1g')
  assert.equal(s.mm2Heap, '256M')
  assert.equal(s.readyTimeoutMs, 5000)
})

test('an integer outside its range, or not an integer, is refused with the range and the value', () => {
  assert.deepEqual(problemsOf({ LAB_DC1_PORT: '80' }), ['"LAB_DC1_PORT" must be an integer 1024..65534, got "80"'])
  assert.deepEqual(problemsOf({ LAB_DC2_PORT: '65535' }), ['"LAB_DC2_PORT" must be an integer 1024..65534, got "65535"'])
  assert.deepEqual(problemsOf({ LAB_PARTITIONS: '0' }), ['"LAB_PARTITIONS" must be an integer 1..64, got "0"'])
  assert.deepEqual(problemsOf({ LAB_PARTITIONS: '2.5' }), ['"LAB_PARTITIONS" must be an integer 1..64, got "2.5"'])
  assert.deepEqual(problemsOf({ LAB_READY_TIMEOUT_S: 'soon' }), ['"LAB_READY_TIMEOUT_S" must be an integer 5..1800, got "soon"'])
})

test('a heap that is not a JVM size is refused', () => {
  assert.deepEqual(problemsOf({ LAB_BROKER_HEAP: '512' }), ['"LAB_BROKER_HEAP" must be a JVM size such as 512m or 1g, got "512"'])
  assert.deepEqual(problemsOf({ LAB_MM2_HEAP: '1.5g' }), ['"LAB_MM2_HEAP" must be a JVM size such as 512m or 1g, got "1.5g"'])
})

test('a topic name with a dot or other characters is refused, each one by name', () => {
  const reason = 'entries must be topic names of letters, digits, _ and - (no dots: MM2 reads a dot as a remote prefix)'
  assert.deepEqual(problemsOf({ LAB_TOPICS: 'orders,dc2.orders,a b' }), [
    `"LAB_TOPICS" ${reason}, got "dc2.orders"`,
    `"LAB_TOPICS" ${reason}, got "a b"`
  ])
})

test('ports closer than 2 apart are refused, as each controller takes port + 1', () => {
  assert.deepEqual(problemsOf({ LAB_DC1_PORT: '30000', LAB_DC2_PORT: '30001' }),
    ['"LAB_DC1_PORT" and "LAB_DC2_PORT" must differ by at least 2 (each controller uses port + 1)'])
})

test('LAB_DCS=3 adds dc3 at LAB_DC3_PORT, after dc1 and dc2', () => {
  const s = labSettings({ LAB_DCS: '3' }, '/repo')
  assert.deepEqual(s.dcs, [
    { id: 'dc1', port: 19092, controllerPort: 19093, bootstrap: '127.0.0.1:19092' },
    { id: 'dc2', port: 29092, controllerPort: 29093, bootstrap: '127.0.0.1:29092' },
    { id: 'dc3', port: 39092, controllerPort: 39093, bootstrap: '127.0.0.1:39092' }
  ])
  assert.deepEqual(labSettings({ LAB_DCS: '3', LAB_DC3_PORT: '33092' }, '/repo').dcs[2]?.bootstrap, '127.0.0.1:33092')
})

test('a number of DCs other than 2 or 3 is refused by name', () => {
  assert.deepEqual(problemsOf({ LAB_DCS: '1' }), ['"LAB_DCS" must be an integer 2..3, got "1"'])
  assert.deepEqual(problemsOf({ LAB_DCS: '4' }), ['"LAB_DCS" must be an integer 2..3, got "4"'])
  assert.deepEqual(problemsOf({ LAB_DCS: 'three' }), ['"LAB_DCS" must be an integer 2..3, got "three"'])
})

test('with three DCs every pair of ports must be 2 apart, each clash named', () => {
  assert.deepEqual(problemsOf({ LAB_DCS: '3', LAB_DC3_PORT: '19093' }),
    ['"LAB_DC1_PORT" and "LAB_DC3_PORT" must differ by at least 2 (each controller uses port + 1)'])
  assert.deepEqual(problemsOf({ LAB_DCS: '3', LAB_DC1_PORT: '30000', LAB_DC2_PORT: '30001', LAB_DC3_PORT: '30000' }), [
    '"LAB_DC1_PORT" and "LAB_DC2_PORT" must differ by at least 2 (each controller uses port + 1)',
    '"LAB_DC1_PORT" and "LAB_DC3_PORT" must differ by at least 2 (each controller uses port + 1)',
    '"LAB_DC2_PORT" and "LAB_DC3_PORT" must differ by at least 2 (each controller uses port + 1)'
  ])
})

test('with two DCs LAB_DC3_PORT is not checked against the others, as nothing opens it', () => {
  assert.equal(labSettings({ LAB_DC3_PORT: '19092' }, '/repo').dcs.length, 2)
  assert.deepEqual(problemsOf({ LAB_DC3_PORT: '80' }), ['"LAB_DC3_PORT" must be an integer 1024..65534, got "80"'])
})

test('every problem is reported at once, in the order of the declaration', () => {
  assert.deepEqual(problemsOf({ LAB_READY_TIMEOUT_S: '1', LAB_DC1_PORT: 'x', LAB_MM2_HEAP: 'big' }), [
    '"LAB_DC1_PORT" must be an integer 1024..65534, got "x"',
    '"LAB_MM2_HEAP" must be a JVM size such as 512m or 1g, got "big"',
    '"LAB_READY_TIMEOUT_S" must be an integer 5..1800, got "1"'
  ])
})

test('the usage text has one line per setting, with its default, meaning and rule', () => {
  const lines = labSettingsUsage().split('\n')
  assert.equal(lines.length, declared.length)
  declared.forEach((s, i) => {
    assert.match(lines[i]!, new RegExp(`^  ${s.variable}=${s.default.replace('.', '\\.')} +`))
    assert.ok(lines[i]!.endsWith(`${s.meaning}; ${s.kind.rule}`), lines[i])
  })
})
