import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { COMMANDS, commandHelp, parseCommandLine, USAGE, type Command } from '../../src/cli/args.ts'
import { UsageError } from '../../src/errors.ts'

const refused = (argv: string[], reason: RegExp, usage = USAGE): void => {
  assert.throws(() => parseCommandLine(argv), (err: unknown) => {
    assert.ok(err instanceof UsageError)
    assert.equal(err.code, 'CONCORD_ERR_USAGE')
    assert.match(err.message, reason)
    assert.ok(err.message.endsWith(usage), `the usage follows the reason:\n${err.message}`)
    return true
  }, argv.join(' '))
}

const defaults = { topics: [], limit: 20, attempts: 1, waitMs: 2000, execute: false, json: false }

describe('the concord command line', () => {
  it('reads the command and the config file in every spelling, before or after the command', () => {
    for (const argv of [['run', '--config', 'a.yaml'], ['run', '--config=a.yaml'], ['run', '-c', 'a.yaml'], ['--config', 'a.yaml', 'run']]) {
      assert.deepEqual(parseCommandLine(argv), { command: 'run', args: [], options: { ...defaults, config: 'a.yaml' } }, argv.join(' '))
    }
    assert.deepEqual(parseCommandLine(['print-config', '-c', 'b.yaml', '--json']), { command: 'print-config', args: [], options: { ...defaults, config: 'b.yaml', json: true } })
  })

  it('reads inspect\'s topic and entity id, from a folder or a URL', () => {
    assert.deepEqual(parseCommandLine(['inspect', 'orders', 'o-1', '-c', 'a.yaml', '--state-dir', '/copy']),
      { command: 'inspect', args: ['orders', 'o-1'], options: { ...defaults, config: 'a.yaml', stateDir: '/copy' } })
    assert.deepEqual(parseCommandLine(['inspect', '--url', 'http://h:1', 'orders', '--', '-odd-id']),
      { command: 'inspect', args: ['orders', '-odd-id'], options: { ...defaults, url: 'http://h:1' } })
  })

  it('reads verify\'s two sides, its repeated --topic and its counts', () => {
    assert.deepEqual(parseCommandLine(['verify', 'http://a:1', 'http://b:1', '--topic', 'orders', '--topic', 'stock', '--limit', '5', '--attempts', '3', '--wait', '0', '--json']),
      { command: 'verify', args: ['http://a:1', 'http://b:1'], options: { ...defaults, topics: ['orders', 'stock'], limit: 5, attempts: 3, waitMs: 0, json: true } })
  })

  it('answers --help and -h with the usage, for the tool or a command', () => {
    assert.deepEqual(parseCommandLine(['--help']), { command: 'help', text: USAGE })
    assert.deepEqual(parseCommandLine(['-h']), { command: 'help', text: USAGE })
    for (const command of Object.keys(COMMANDS) as Command[]) {
      assert.deepEqual(parseCommandLine([command, '--help']), { command: 'help', text: commandHelp(command) })
      const help = commandHelp(command)
      assert.match(help, new RegExp(`^usage: concord ${command} `))
      assert.match(help, /exit codes: 0 (done|converged), 1 .+, 2 bad command line$/)
      for (const option of ['--help', ...(command === 'verify' ? ['--topic', '--limit', '--attempts', '--wait', '--json'] : ['--config'])]) {
        assert.ok(help.includes(option), `${command} --help names ${option}`)
      }
    }
  })

  it('lists every command and the exit codes in the usage', () => {
    for (const word of [...Object.keys(COMMANDS), '--config', '--json', '--help', 'exit codes: 0']) assert.ok(USAGE.includes(word), word)
  })

  it('refuses a missing or unknown command, an unknown option, an extra argument and a missing config by name', () => {
    refused([], /^missing command/)
    refused(['serve', '-c', 'a.yaml'], /^unknown command "serve"/)
    refused(['run', '-c', 'a.yaml', '--verbose'], /Unknown option '--verbose'/, commandHelp('run'))
    refused(['run', '-c', 'a.yaml', 'extra'], /^unexpected argument "extra"/, commandHelp('run'))
    refused(['run'], /^missing --config <file>/, commandHelp('run'))
    refused(['run', '--config='], /^--config needs a value/, commandHelp('run'))
    refused(['run', '--config'], /--config/, commandHelp('run'))
  })

  it('refuses an option the command does not take, and bad counts, naming them', () => {
    refused(['run', '-c', 'a.yaml', '--json'], /^run takes no option --json/, commandHelp('run'))
    refused(['check-config', '-c', 'a.yaml', '--url', 'http://x'], /^check-config takes no option --url/, commandHelp('check-config'))
    refused(['verify', 'a', 'b', '--limit', '0'], /^--limit must be an integer of at least 1, got "0"/, commandHelp('verify'))
    refused(['verify', 'a', 'b', '--wait', 'soon'], /^--wait must be an integer of at least 0, got "soon"/, commandHelp('verify'))
  })

  it('refuses inspect without its arguments or its source, and with two sources', () => {
    refused(['inspect', 'orders', '-c', 'a.yaml'], /^missing <entityId>/, commandHelp('inspect'))
    refused(['inspect', '-c', 'a.yaml'], /^missing <topic> <entityId>/, commandHelp('inspect'))
    refused(['inspect', 'orders', 'o-1'], /^missing --config <file> \(or --url <url>\)/, commandHelp('inspect'))
    refused(['inspect', 'orders', 'o-1', '--url', 'http://x', '-c', 'a.yaml'], /^give --url, or --config \(and --state-dir\), not both/, commandHelp('inspect'))
    refused(['verify', 'http://a'], /^missing <b>/, commandHelp('verify'))
  })
})

describe('the repair commands', () => {
  it('parse rebuild, dlq list|replay and reset-offsets with their options', () => {
    assert.deepEqual(parseCommandLine(['rebuild', '-c', 'f.yaml']), { command: 'rebuild', args: [], options: { ...defaults, config: 'f.yaml' } })
    assert.deepEqual(parseCommandLine(['dlq', 'replay', '-c', 'f.yaml', '--topic', 'orders', '--execute']),
      { command: 'dlq', args: ['replay'], options: { ...defaults, config: 'f.yaml', topics: ['orders'], execute: true } })
    assert.deepEqual(parseCommandLine(['reset-offsets', '-c', 'f.yaml', '--to', 'earliest', '--json']),
      { command: 'reset-offsets', args: [], options: { ...defaults, config: 'f.yaml', to: 'earliest', json: true } })
  })

  it('refuse what they cannot do, by name, with the command\'s usage', () => {
    refused(['dlq', 'purge', '-c', 'f.yaml'], /^dlq takes list or replay, got "purge"/, commandHelp('dlq'))
    refused(['dlq', 'list', '-c', 'f.yaml', '--execute'], /^dlq list takes no option --execute \(it only reads\)/, commandHelp('dlq'))
    refused(['reset-offsets', '-c', 'f.yaml'], /^missing --to earliest\|latest\|<time>/, commandHelp('reset-offsets'))
    refused(['rebuild', '-c', 'f.yaml', '--execute'], /^rebuild takes no option --execute/, commandHelp('rebuild'))
  })
})
