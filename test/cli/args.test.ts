import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseCommandLine, USAGE } from '../../src/cli/args.ts'
import { UsageError } from '../../src/errors.ts'

const refused = (argv: string[], reason: RegExp): void => {
  assert.throws(() => parseCommandLine(argv), (err: unknown) => {
    assert.ok(err instanceof UsageError)
    assert.equal(err.code, 'CONCORD_ERR_USAGE')
    assert.match(err.message, reason)
    assert.ok(err.message.endsWith(USAGE), 'the usage follows the reason')
    return true
  })
}

describe('the concord command line', () => {
  it('reads the command and the config file in every spelling', () => {
    for (const argv of [['run', '--config', 'a.yaml'], ['run', '--config=a.yaml'], ['run', '-c', 'a.yaml'], ['--config', 'a.yaml', 'run']]) {
      assert.deepEqual(parseCommandLine(argv), { command: 'run', config: 'a.yaml' }, argv.join(' '))
    }
    assert.deepEqual(parseCommandLine(['check-config', '-c', 'b.yaml']), { command: 'check-config', config: 'b.yaml' })
  })

  it('answers --help and -h with the usage, for the tool or a command', () => {
    assert.deepEqual(parseCommandLine(['--help']), { command: 'help', text: USAGE })
    assert.deepEqual(parseCommandLine(['-h']), { command: 'help', text: USAGE })
    const run = parseCommandLine(['run', '--help'])
    assert.equal(run.command, 'help')
    assert.match((run as { text: string }).text, /^concord run: consume, merge and emit/)
  })

  it('lists every command and the exit codes in the usage', () => {
    for (const word of ['run', 'check-config', '--config', '--help', 'exit codes: 0']) assert.ok(USAGE.includes(word), word)
  })

  it('refuses a missing or unknown command, an unknown option, an extra argument and a missing config by name', () => {
    refused([], /^missing command/)
    refused(['serve', '-c', 'a.yaml'], /^unknown command "serve"/)
    refused(['run', '-c', 'a.yaml', '--verbose'], /Unknown option '--verbose'/)
    refused(['run', '-c', 'a.yaml', 'extra'], /^unexpected argument "extra"/)
    refused(['run'], /^missing --config <file>/)
    refused(['run', '--config='], /^missing --config <file>/)
    refused(['run', '--config'], /--config/)
  })
})
