import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConcordError, ConfigError, errorClasses } from '../src/errors.ts'

const src = fileURLToPath(new URL('../src/', import.meta.url))
const files = (readdirSync(src, { recursive: true }) as string[]).filter(f => f.endsWith('.ts')).map(f => join(src, f))

describe('the error model', () => {
  it('gives every error class a distinct stable code and a retriable flag', () => {
    const codes = errorClasses.map(c => c.code)
    assert.equal(new Set(codes).size, codes.length)
    for (const cls of errorClasses) {
      assert.match(cls.code, /^CONCORD_ERR_[A-Z_]+$/)
      const err = cls === ConfigError ? new ConfigError(['x']) : new (cls as new (m: string) => ConcordError)('x')
      assert.ok(err instanceof ConcordError)
      assert.equal(err.code, cls.code)
      assert.equal(err.name, cls.name)
      assert.equal(typeof err.retriable, 'boolean')
    }
  })

  it('has src/ throw only the coded errors of src/errors.ts (or rethrow what it caught)', () => {
    const coded = new Set(errorClasses.map(c => c.name))
    const bad: string[] = []
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, i) => {
        for (const m of line.matchAll(/\bthrow\s+(new\s+(\w+)|\w+)/g)) {
          const thrown = m[2]
          if (thrown === undefined ? m[1] === 'err' : coded.has(thrown)) continue
          bad.push(`${relative(src, file)}:${i + 1}: ${line.trim()}`)
        }
      })
    }
    assert.deepEqual(bad, [], `uncoded throws:\n${bad.join('\n')}`)
  })
})
