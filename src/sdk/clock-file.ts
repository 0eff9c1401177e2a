import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { WriterError } from '../errors.ts'
import type { HlcTime } from '../model/hlc.ts'
import { formatTs, parseOriginTs } from '../wire/contract.ts'

/**
 * A writer's clock high-water mark on disk: the greatest time it stamped a write with, in the `x-origin-ts`
 * form and a newline. Written (to a temporary file, synced, renamed over) before each request goes out, so a
 * restarted writer, even after a crash, never stamps a write at or before one it sent.
 */
export function readClockMark (file: string): HlcTime | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new WriterError(`cannot read the clock file "${file}": ${(err as Error).message}`, { cause: err })
  }
  const time = parseOriginTs(text.trim())
  if (typeof time === 'string') throw new WriterError(`the clock file "${file}" does not hold a clock time: ${time}`)
  return time
}

export function writeClockMark (file: string, time: HlcTime): void {
  const temp = `${file}.tmp`
  try {
    const fd = openSync(temp, 'w')
    try {
      writeSync(fd, formatTs(time) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, file)
  } catch (err) {
    throw new WriterError(`cannot write the clock file "${file}": ${(err as Error).message}`, { cause: err })
  }
}
