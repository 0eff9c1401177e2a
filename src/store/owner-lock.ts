import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { StoreError } from '../errors.ts'

export interface OwnerLock {
  release (): void
}

/** The lock files this process holds: a lock naming this process's PID that it does not hold is stale. */
const held = new Set<string>()

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One process per state folder: `concord.lock` holds the owner's PID, created exclusively. A lock left by a
 * process that is gone (kill -9, crash) is taken over; one held by a live process is refused, naming it.
 * SQLite's own locking is not relied on for this: on this project's reference machine two processes could
 * both write the same WAL database (measured), which would corrupt it.
 */
export function acquireOwnerLock (dir: string): OwnerLock {
  const file = join(dir, 'concord.lock')
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' })
      held.add(file)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new StoreError(`cannot lock the state store in ${dir} (${file}): ${(err as Error).message}`, { cause: err })
      }
    }
    let owner = NaN
    try {
      owner = Number.parseInt(readFileSync(file, 'utf8'), 10)
    } catch {}
    // Our own PID in a lock we do not hold was left by an earlier process that had the same PID: in a
    // container the process has the same PID at each start (1 under `docker run`, tini's child under tini).
    if (Number.isInteger(owner) && owner > 0 && (owner === process.pid ? held.has(file) : alive(owner))) {
      throw new StoreError(`the state store in ${dir} is in use by process ${owner} (${file}): one concord process per state folder; if no such concord runs, delete the file`)
    }
    try {
      unlinkSync(file) // stale: its owner is gone
    } catch {}
  }
  return {
    release () {
      held.delete(file)
      try {
        if (readFileSync(file, 'utf8') === `${process.pid}\n`) unlinkSync(file)
      } catch {}
    }
  }
}
