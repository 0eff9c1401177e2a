import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { benchUsage, BenchUsageError, parseBenchArgs, suiteOptions, type BenchRun } from '../../bench/args.ts'

function run (...argv: string[]): BenchRun {
  const args = parseBenchArgs(argv)
  assert.equal(args.help, false)
  return args
}

function refused (argv: readonly string[], message: string): void {
  assert.throws(() => parseBenchArgs(argv), (err: unknown) => {
    assert.ok(err instanceof BenchUsageError)
    assert.equal(err.message, message)
    return true
  })
}

const ALL_VARIANTS = ['lww-header', 'lww-unvalidated', 'lww-value-ts', 'lww-fields', 'counter', 'max', 'min', 'union', 'dc-priority']

test('no arguments run every suite at its defaults', () => {
  assert.deepEqual(run(), {
    help: false,
    suite: 'all',
    engine: { entities: [10000, 1000000, 10000000], records: 300000, runs: 3, batchSize: 2000, windowRecords: 50000, synchronous: 'normal', cacheMb: 64, variants: ALL_VARIANTS, variantsAt: [1000000] },
    e2e: { records: 1000000, entities: [100000, 1000000], seconds: 20 },
    twoDc: { rate: 2000, seconds: 20 }
  })
})

test('--smoke shrinks the sizes that have a smoke value and keeps the others', () => {
  assert.deepEqual(run('--smoke'), {
    help: false,
    suite: 'all',
    engine: { entities: [1000], records: 20000, runs: 1, batchSize: 2000, windowRecords: 50000, synchronous: 'normal', cacheMb: 64, variants: ALL_VARIANTS, variantsAt: [1000] },
    e2e: { records: 20000, entities: [2000], seconds: 3 },
    twoDc: { rate: 500, seconds: 3 }
  })
})

test('a named suite gets only its own options', () => {
  assert.deepEqual(run('two-dc'), { help: false, suite: 'two-dc', twoDc: { rate: 2000, seconds: 20 } })
  const e2e = run('e2e', '--smoke')
  assert.equal(e2e.engine, undefined)
  assert.equal(e2e.twoDc, undefined)
  assert.deepEqual(e2e.e2e, { records: 20000, entities: [2000], seconds: 3 })
})

test('a given value beats the smoke size, in either spelling and in any position', () => {
  const engine = run('--records=500', 'engine', '--smoke', '--entities', '10,20', '--synchronous', 'full', '--variants', 'lww-value-ts', '--cache-mb', '8', '--batch=100', '--runs', '2').engine
  assert.deepEqual(engine, { entities: [10, 20], records: 500, runs: 2, batchSize: 100, windowRecords: 50000, synchronous: 'full', cacheMb: 8, variants: ['lww-value-ts'], variantsAt: [10, 20] })
  assert.deepEqual(run('engine', '--variants', 'all').engine?.variants, ALL_VARIANTS)
})

test('--variants-at picks the keyspace sizes of the variants other than lww-header, among --entities', () => {
  assert.deepEqual(run('engine', '--variants-at', '10000').engine?.variantsAt, [10000])
  assert.deepEqual(run('engine', '--entities', '5,6').engine?.variantsAt, [5, 6])
  refused(['engine', '--variants-at', '7'], '--variants-at must list some of --entities (10000,1000000,10000000), got 7')
})

test('e2e has no fixed rate unless --rate is given', () => {
  assert.equal('rate' in run('e2e').e2e!, false)
  assert.equal(run('e2e', '--rate', '5000').e2e!.rate, 5000)
})

test('with all, an option applies to every suite that takes it', () => {
  const args = run('--records', '300', '--seconds', '4', '--rate', '100')
  assert.equal(args.engine!.records, 300)
  assert.deepEqual(args.e2e, { records: 300, entities: [100000, 1000000], seconds: 4, rate: 100 })
  assert.deepEqual(args.twoDc, { rate: 100, seconds: 4 })
})

test('--help and -h ask for the usage text, whatever else is given', () => {
  assert.deepEqual(parseBenchArgs(['--help']), { help: true })
  assert.deepEqual(parseBenchArgs(['engine', '--smoke', '-h']), { help: true })
})

test('the usage text lists every suite and every option with its default', () => {
  for (const suite of ['engine', 'e2e', 'two-dc', 'all']) assert.match(benchUsage, new RegExp(`^  ${suite} `, 'm'))
  for (const options of Object.values(suiteOptions)) {
    for (const o of options) {
      const line = benchUsage.split('\n').find(l => l.startsWith(`  --${o.name} ${o.value} `) && l.includes(o.meaning))
      assert.ok(line !== undefined, `usage lists --${o.name}`)
      if (o.default !== undefined) assert.ok(line.includes(`default ${o.default}`), line)
      if (o.smoke !== undefined) assert.ok(line.includes(`smoke ${o.smoke}`), line)
    }
  }
  assert.match(benchUsage, /--smoke/)
  assert.match(benchUsage, /--help, -h/)
})

test('a bad number is refused with the option and the value', () => {
  for (const name of ['records', 'runs', 'batch', 'cache-mb']) {
    for (const bad of ['0', '-3', 'x', '']) refused(['engine', `--${name}=${bad}`], `--${name} must be a positive number, got "${bad}"`)
  }
  for (const name of ['records', 'seconds', 'rate']) refused(['e2e', `--${name}`, 'x'], `--${name} must be a positive number, got "x"`)
  for (const name of ['rate', 'seconds']) refused(['two-dc', `--${name}`, '0'], `--${name} must be a positive number, got "0"`)
})

test('a bad list entry or choice is refused with the entry', () => {
  refused(['engine', '--entities', '10,x'], '--entities must be positive numbers separated by commas, got "x"')
  refused(['engine', '--entities', '10,,20'], '--entities must be positive numbers separated by commas, got ""')
  refused(['engine', '--synchronous', 'off'], '--synchronous must be normal or full, got "off"')
  refused(['engine', '--variants', 'lww-header,lww'], '--variants must list some of lww-header, lww-unvalidated, lww-value-ts, lww-fields, counter, max, min, union, dc-priority (or be all), got "lww"')
})

test('every bad value is reported at once, each once', () => {
  refused(['--records', '0', '--synchronous', 'off'], '--records must be a positive number, got "0"\n--synchronous must be normal or full, got "off"')
})

test('with all, a list of entity counts goes to both engine and e2e, and a bad entry is reported once', () => {
  const args = run('--entities', '10,20')
  assert.deepEqual(args.engine!.entities, [10, 20])
  assert.deepEqual(args.e2e!.entities, [10, 20])
  refused(['--entities', '10,x'], '--entities must be positive numbers separated by commas, got "x"')
  refused(['e2e', '--entities', 'x'], '--entities must be positive numbers separated by commas, got "x"')
})

test('an unknown option is refused by the name it was given', () => {
  refused(['--bogus'], 'unknown option "--bogus"')
  refused(['engine', '--record=5'], 'unknown option "--record"')
  refused(['-x'], 'unknown option "-x"')
  refused(['--help', '--bogus'], 'unknown option "--bogus"')
})

test('an option of another suite is refused, naming the suite and its options', () => {
  refused(['two-dc', '--entities', '5'], '--entities is not an option of the two-dc suite (its options: --rate, --seconds, --smoke)')
  refused(['e2e', '--batch', '5'], '--batch is not an option of the e2e suite (its options: --records, --entities, --seconds, --rate, --smoke)')
})

test('a missing value, a value given to --smoke and a stray argument are refused', () => {
  refused(['engine', '--records'], "Option '--records <value>' argument missing")
  assert.throws(() => parseBenchArgs(['--records', '--smoke']), { name: 'BenchUsageError', message: /--records/ })
  assert.throws(() => parseBenchArgs(['--smoke=yes']), { name: 'BenchUsageError', message: /--smoke/ })
  refused(['engine', 'e2e'], 'unexpected argument "e2e": give one suite')
})

test('an unknown suite is refused with the list of suites', () => {
  refused(['engines'], 'unknown suite "engines"; suites: engine, e2e, two-dc, all (the default)')
})

test("bench/README.md's option tables match the declared options, defaults and smoke sizes", () => {
  const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8')
  for (const [suite, options] of Object.entries(suiteOptions)) {
    const section = readme.split(/^## /m).find(s => s.startsWith(`${suite}\n`))
    assert.ok(section !== undefined, `bench/README.md has a section for ${suite}`)
    const rows = section.split('\n').filter(l => l.startsWith('| `--')).map(l => l.split('|').slice(1, -1).map(c => c.trim()))
    assert.deepEqual(rows.map(r => r[0]), options.map(o => `\`--${o.name}\``), `${suite} options`)
    for (const o of options) {
      if (o.default === undefined) continue
      const row = rows.find(r => r[0] === `\`--${o.name}\``)!
      assert.equal(row[1], `\`${o.default}\``, `${suite} --${o.name} default`)
      assert.equal(row[2], o.smoke === undefined ? '' : `\`${o.smoke}\``, `${suite} --${o.name} smoke`)
    }
  }
})
