import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { rules, violations } from './boundaries.ts'
import { graphOf, importsOf, readSrcGraph } from './import-graph.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The violations of the real rules table in a tree held in memory: file path -> source text. */
const check = (tree: Record<string, string>): string[] => violations(graphOf(new Map(Object.entries(tree))), rules)

/** `src/a.ts:1 imports src/b.ts: why...` -> `src/a.ts:1 imports src/b.ts`, so tests pin what, not the wording. */
const heads = (lines: readonly string[]): string[] => lines.map(l => l.startsWith('cycle: ') ? l : l.split(': ')[0] ?? l)

describe('the import boundaries of src/', () => {
  it('are kept by the real src/ tree', () => {
    const found = violations(readSrcGraph(root), rules)
    assert.deepEqual(found, [], 'src/ breaks the import rule of STYLE.md (table in test/architecture/boundaries.ts) ' +
      `in ${found.length} place(s):\n  ${found.join('\n  ')}\n`)
  })

  it('accept imports the table allows, type-only or not', () => {
    assert.deepEqual(check({
      'src/main.ts': "import { run } from './processor/run.ts'\nimport type { Config } from './config/types.ts'",
      'src/cli/concord.ts': "import { run } from '../main.ts'\nimport type { Step } from '../processor/run.ts'",
      'src/processor/run.ts': "import { a } from '../dedupe/a.ts'\nimport { b } from '../provenance/b.ts'\nimport { c } from './c.ts'",
      'src/processor/c.ts': "import { setTimeout } from 'node:timers/promises'",
      'src/config/types.ts': "import { Type } from '../schema/schema.ts'",
      'src/schema/schema.ts': "export { Type } from '@sinclair/typebox'",
      'src/dedupe/a.ts': "import { createHash } from 'node:crypto'\nimport type { K } from '../model/key.ts'",
      'src/provenance/b.ts': "import { isUtf8 } from 'node:buffer'",
      'src/model/key.ts': 'export type K = string',
      'src/store/open.ts': "import { readFileSync } from 'node:fs'\nimport Db from 'better-sqlite3'\n" +
        "const pkg = readFileSync(new URL('../../package.json', import.meta.url))\n" +
        "const dir = new URL('../../migrations/', import.meta.url)"
    }), [])
  })

  it('flag a pure folder that imports a logger or does I/O', () => {
    assert.deepEqual(heads(check({
      'src/merge/lww.ts': "import type { Logger } from '../log/logger.ts'\nimport { pino } from 'pino'\n" +
        "import { readFileSync } from 'node:fs'\nimport { createHash } from 'node:crypto'",
      'src/log/logger.ts': "import { pino } from 'pino'"
    })), [
      'src/merge/lww.ts:1 imports types from src/log/logger.ts',
      'src/merge/lww.ts:2 imports package pino',
      'src/merge/lww.ts:3 imports node:fs'
    ])
  })

  it('flag a third-party package imported outside the one folder that wraps it, or with no row at all', () => {
    const found = check({
      'src/processor/run.ts': "import { Kafka } from 'kafkajs'\nimport type { Database } from 'better-sqlite3'",
      'src/kafka/client.ts': "import leftPad from 'left-pad'\nimport { readFileSync } from 'fs'\nimport xxh32 from 'lz4js/xxh32.js'"
    })
    assert.deepEqual(heads(found), [
      'src/kafka/client.ts:1 imports package left-pad, which no row of the package table names (rule',
      'src/kafka/client.ts:2 imports package fs, which no row of the package table names (rule',
      'src/processor/run.ts:1 imports package kafkajs',
      'src/processor/run.ts:2 imports types from package better-sqlite3'
    ])
    assert.match(found[1] ?? '', /a Node built-in is imported as node:fs/)
  })

  it('flag an import that points upward or sideways, naming what the folder may import and why', () => {
    const found = check({
      'src/metrics/metrics.ts': "import { MAX } from '../processor/processor.ts'",
      'src/processor/processor.ts': 'export const MAX = 1',
      'src/model/key.ts': "export type { Outcome } from '../processor/processor.ts'",
      'src/config/validate.ts': "const m = await import('../merge/index.ts')",
      'src/merge/index.ts': 'export const policies = {}',
      'src/http/server.ts': "import { run } from '../main.ts'",
      'src/main.ts': "import { parse } from './cli/concord.ts'",
      'src/cli/concord.ts': ''
    })
    assert.deepEqual(heads(found), [
      'src/config/validate.ts:1 imports src/merge/index.ts',
      'src/http/server.ts:1 imports src/main.ts',
      'src/main.ts:1 imports src/cli/concord.ts',
      'src/metrics/metrics.ts:1 imports src/processor/processor.ts',
      'src/model/key.ts:1 imports types from src/processor/processor.ts'
    ])
    assert.equal(found[3], 'src/metrics/metrics.ts:1 imports src/processor/processor.ts: metrics/ may import only model/, ' +
      'errors.ts (rule: metrics are declared in one place and know values, not the pipeline that counts them)')
    assert.match(found[4] ?? '', /model\/ may import only errors\.ts/)
  })

  it('flag each import cycle once, even a type-only one inside one folder', () => {
    const found = check({
      'src/store/a.ts': "import { b } from './b.ts'\nexport const a = 1",
      'src/store/b.ts': "import type { C } from './c.ts'\nexport { a } from './a.ts'\nexport const b = 2",
      'src/store/c.ts': "import { a } from './a.ts'\nexport type C = number",
      'src/store/self.ts': "import './self.ts'"
    })
    assert.deepEqual(found, [
      'cycle: src/store/a.ts -> src/store/b.ts -> src/store/a.ts',
      'cycle: src/store/a.ts -> src/store/b.ts -> src/store/c.ts -> src/store/a.ts',
      'cycle: src/store/self.ts -> src/store/self.ts'
    ])
  })

  it('flag src/ importing lab/, bench/ or test/, and a folder with no row in the table', () => {
    assert.deepEqual(heads(check({
      'src/main.ts': "import { lab } from '../lab/lab.ts'",
      'src/store/open.ts': "import type { Fake } from '../../test/store/fake.ts'\nimport { w } from '../../bench/workload.ts'",
      'src/telemetry/span.ts': "import { pino } from 'pino'",
      'src/telemetry/trace.ts': ''
    })), [
      'src/main.ts:1 imports lab/lab.ts',
      'src/store/open.ts:1 imports types from test/store/fake.ts',
      'src/store/open.ts:2 imports bench/workload.ts',
      'src/telemetry/span.ts'
    ])
  })
})

describe('the import reader', () => {
  it('finds every form of import and re-export, and none in comments or strings', () => {
    const source = [
      "// import x from './commented.ts'",
      "import a, {\n  b\n} from './a.ts'",
      "import type { T } from './t.ts'",
      "import { type U, type V } from './u.ts'",
      "import './side-effect.ts'",
      "export * from './all.ts'",
      "export type { W } from './w.ts'",
      "const s = \"import y from './in-string.ts'\"",
      "type X = import('./x.ts').X",
      "const m = await import('./dynamic.ts')",
      'const n = await import(computed)',
      "const r = require('./required.cjs')",
      "declare module 'augmented' {}"
    ].join('\n')
    assert.deepEqual(importsOf('src/f.ts', source).map(i => `${i.line} ${i.specifier}${i.typeOnly ? ' (types)' : ''}`), [
      '2 ./a.ts', '5 ./t.ts (types)', '6 ./u.ts (types)', '7 ./side-effect.ts', '8 ./all.ts', '9 ./w.ts (types)',
      '11 ./x.ts (types)', '12 ./dynamic.ts', '14 ./required.cjs'
    ])
  })
})
