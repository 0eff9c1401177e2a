import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { lastByKey, readUntil, type ReadRecord } from '../../lab/read.ts'
import { labSettings } from '../../lab/settings.ts'
import { decodeMsgpack } from '../../src/codec/msgpack.ts'
import { headerString } from '../../src/model/record.ts'
import { H } from '../../src/wire/contract.ts'

/**
 * The README's writer example, run as written: the code block after the `writer-example` marker is copied
 * into a file inside the package folder (so that `import ... from 'concord'` resolves to the package itself,
 * as it does for a user of the package) and run with the project's Node against the lab's dc1.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const settings = labSettings()

function example (): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const at = readme.indexOf('<!-- writer-example')
  assert.ok(at >= 0, 'the README marks its writer example')
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))
  assert.ok(block, 'a ts code block follows the marker')
  return block[1]!
}

describe('the README\'s writer example', () => {
  it('runs as written against the lab, and its writes arrive with the wire contract', async () => {
    const code = example()
    assert.match(code, /127\.0\.0\.1:19092/, 'the example writes to the lab\'s dc1')
    const dir = join(root, '.cache', 'readme-example')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'writer.ts')
    writeFileSync(file, code)
    const started = Date.now()
    try {
      const run = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
      assert.equal(run.status, 0, `the example failed:\n${run.stderr}`)
      assert.match(run.stdout, /^order-42 is order-42-dc1 in partition \d+, stamped \d+(:\d+)?\n$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // The writes of this run: the lab's `orders` is shared, and the example's keys may be there from an earlier run.
    const fresh = (rs: readonly ReadRecord[]): ReadRecord[] => rs.filter(r => Number(r.timestamp) >= started - 1_000)
    const keys = ['order-42-dc1', 'order-43-dc1', 'order-44-dc1']
    const records = lastByKey(fresh(await readUntil(settings.dcs[0].bootstrap, ['orders'], rs => {
      const last = lastByKey(fresh(rs))
      return keys.every(k => last.has(k))
    })))
    assert.deepEqual(decodeMsgpack(records.get('order-42-dc1')!.value!), { status: 'paid', total: 1250 })
    assert.equal(records.get('order-44-dc1')!.value, null)
    assert.equal(headerString(records.get('order-43-dc1')!.headers, H.originDc), 'dc1')
  })
})
