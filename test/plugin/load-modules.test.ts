import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { codecs } from '../../src/codec/value-codec.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { ConfigError } from '../../src/errors.ts'
import { custom } from '../../src/merge/custom.ts'
import { policies } from '../../src/merge/index.ts'
import { loadPolicyModules } from '../../src/plugin/load-modules.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'concord-plugin-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

/** A validated config with these topics; custom is in the catalog whether or not the registry has it yet. */
const configOf = (topics: Array<Record<string, unknown>>) => validateConfig({
  dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:19092'] }, topics
}, { policies: new Map([...policies, ['custom', custom]]) })
const customTopic = (name: string, module: string) => ({ name, policy: { type: 'custom', module } })

/** The problems of the ConfigError that loading throws. */
async function loadProblems (topics: Array<Record<string, unknown>>, cwd: string): Promise<readonly string[]> {
  const err = await loadPolicyModules(configOf(topics), cwd).then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
  assert.ok(err.cause !== undefined, 'the import error is chained')
  return err.problems
}

describe('loadPolicyModules', () => {
  it('loads the example module by its path relative to the working directory, once for every topic naming it', async () => {
    const modules = await loadPolicyModules(configOf([
      customTopic('labels', './config/policies/tags.js'),
      { name: 'orders', policy: 'lww' },
      customTopic('labels2', './config/policies/tags.js')
    ]), root)
    assert.deepEqual([...modules.keys()], ['./config/policies/tags.js'])
    const tags = modules.get('./config/policies/tags.js') as Record<string, unknown>
    assert.equal(typeof tags.absorb, 'function')
    assert.equal(typeof tags.resolve, 'function')
  })

  it('loads a TypeScript module too, and the loaded module binds', async () => {
    writeFileSync(join(scratch, 'keep.ts'), 'export const absorb = (_s: unknown, w: { value: unknown }): unknown => w.value\nexport const resolve = (s: unknown): unknown => s\n')
    const config = configOf([customTopic('t', 'keep.ts')])
    const modules = await loadPolicyModules(config, scratch)
    const merger = custom.bind({ module: 'keep.ts' }, {
      dcs: ['dc1', 'dc2'], deleteRule: 'lww', conflictWindowMs: 0, codec: codecs.json, path: 'topics[0].policy', modules
    })
    assert.equal(merger.policy, 'custom')
  })

  it('names the key and the path of a missing file', async () => {
    assert.deepEqual(await loadProblems([{ name: 'orders', policy: 'lww' }, customTopic('labels', './nope.js')], scratch), [
      `"topics[1].policy.module" must be a loadable module (JavaScript or TypeScript, relative to the working directory), got "./nope.js": no such file (${join(scratch, 'nope.js')})`
    ])
  })

  it('names the key of a module with a syntax error, and lists every module that fails at once', async () => {
    writeFileSync(join(scratch, 'broken.js'), 'export function absorb (state {\n')
    const problems = await loadProblems([customTopic('a', './broken.js'), customTopic('b', './gone.mjs')], scratch)
    assert.equal(problems.length, 2)
    assert.match(problems[0]!, /^"topics\[0\]\.policy\.module" must be a loadable module .*, got "\.\/broken\.js": SyntaxError: /)
    assert.match(problems[1]!, /^"topics\[1\]\.policy\.module" .*got "\.\/gone\.mjs": no such file/)
  })

  it('loads nothing when no topic has a custom policy', async () => {
    const modules = await loadPolicyModules(configOf([{ name: 'orders', policy: 'lww' }]), join(scratch, 'no-such-dir'))
    assert.equal(modules.size, 0)
  })
})
