import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { StoreError } from '../../src/errors.ts'
import { openDatabase } from '../../src/store/open.ts'
import { acquireOwnerLock } from '../../src/store/owner-lock.ts'

const folder = (): string => mkdtempSync(join(tmpdir(), 'concord-lock-'))
const options = (dir: string) => ({ dir, synchronous: 'normal' as const, cacheMb: 8 })

/** A process that lives until killed, to own a lock file. */
function liveChild () {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
}

describe('owner lock', () => {
  it('refuses a second owner while the first holds the folder, naming the process and the file', () => {
    const dir = folder()
    const lock = acquireOwnerLock(dir)
    assert.throws(() => acquireOwnerLock(dir), (err: unknown) =>
      err instanceof StoreError && err.message.includes(`in use by process ${process.pid}`) && err.message.includes(join(dir, 'concord.lock')))
    lock.release()
    assert.equal(existsSync(join(dir, 'concord.lock')), false)
    acquireOwnerLock(dir).release()
  })

  it('refuses a folder locked by another live process', async () => {
    const dir = folder()
    const child = liveChild()
    try {
      writeFileSync(join(dir, 'concord.lock'), `${child.pid}\n`)
      assert.throws(() => openDatabase(options(dir)), new RegExp(`in use by process ${child.pid}`))
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('takes over a lock whose process is gone (kill -9) and releases it on close', async () => {
    const dir = folder()
    const child = liveChild()
    const exited = new Promise(resolve => child.once('exit', resolve))
    writeFileSync(join(dir, 'concord.lock'), `${child.pid}\n`)
    child.kill('SIGKILL')
    await exited
    const db = openDatabase(options(dir))
    assert.equal(readFileSync(join(dir, 'concord.lock'), 'utf8'), `${process.pid}\n`)
    assert.throws(() => openDatabase(options(dir)), StoreError, 'a second open in the same process is refused too')
    db.close()
    assert.equal(existsSync(join(dir, 'concord.lock')), false)
    openDatabase(options(dir)).close()
  })

  it('takes over a lock with its own PID that it does not hold (a container restarted after kill -9: same PID)', () => {
    const dir = folder()
    writeFileSync(join(dir, 'concord.lock'), `${process.pid}\n`)
    const lock = acquireOwnerLock(dir)
    assert.throws(() => acquireOwnerLock(dir), StoreError, 'while this process holds it, it is refused')
    lock.release()
  })

  it('takes over a lock file that holds no PID', () => {
    const dir = folder()
    writeFileSync(join(dir, 'concord.lock'), '')
    acquireOwnerLock(dir).release()
  })
})
