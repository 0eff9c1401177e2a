import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

/** Only arguments that never reach a lab command: `up`, `down`, `reset` and `status` are not run here. */
const root = fileURLToPath(new URL('../..', import.meta.url))

function lab (args: readonly string[], env: Record<string, string> = {}): { code: number | null, stdout: string, stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAB_')))
  const r = spawnSync('node_modules/.bin/node', ['lab/cli.ts', ...args], { cwd: root, env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function assertUsage (text: string): void {
  assert.match(text, /^usage: npm run lab -- <up\|down\|status\|reset\|drill>$/m)
  for (const command of ['up', 'down', 'status', 'reset', 'drill', '--help, -h']) assert.match(text, new RegExp(`^  ${command} `, 'm'))
  for (const variable of ['LAB_DIR', 'LAB_CACHE', 'LAB_DC1_PORT', 'LAB_DC2_PORT', 'LAB_PARTITIONS', 'LAB_TOPICS', 'LAB_BROKER_HEAP', 'LAB_MM2_HEAP', 'LAB_READY_TIMEOUT_S']) {
    assert.match(text, new RegExp(`^  ${variable}=`, 'm'))
  }
}

test('--help and -h print the usage, with the commands and settings, and exit 0', () => {
  for (const flag of ['--help', '-h']) {
    const r = lab([flag])
    assert.equal(r.code, 0, r.stderr)
    assertUsage(r.stdout)
    assert.equal(r.stderr, '')
  }
})

test('--help works when a setting in the environment is bad', () => {
  const r = lab(['--help'], { LAB_PARTITIONS: '0' })
  assert.equal(r.code, 0, r.stderr)
  assertUsage(r.stdout)
})

test('no command prints the usage and exits 2', () => {
  const r = lab([])
  assert.equal(r.code, 2)
  assertUsage(r.stderr)
  assert.equal(r.stdout, '')
})

test('an unknown command is named, followed by the usage, with exit code 2', () => {
  const r = lab(['bogus'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^unknown lab command "bogus"\nusage: /)
  assertUsage(r.stderr)
  assert.equal(r.stdout, '')
})

test('an unknown option is named as given, followed by the usage, with exit code 2, before any command runs', () => {
  for (const [args, name] of [[['--bogus'], '--bogus'], [['up', '-x'], '-x'], [['down', '--force=1'], '--force']] as const) {
    const r = lab(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`)
    assert.ok(r.stderr.startsWith(`unknown option "${name}"\nusage: `), r.stderr)
    assert.equal(r.stdout, '')
  }
})

test('a second command is refused with exit code 2', () => {
  const r = lab(['status', 'reset'])
  assert.equal(r.code, 2)
  assert.ok(r.stderr.startsWith('unexpected argument "reset" after "status"\nusage: '), r.stderr)
})

test('a drill option given to another command is refused by name, with exit code 2', () => {
  const r = lab(['status', '--entities', '5'])
  assert.equal(r.code, 2)
  assert.ok(r.stderr.startsWith('option "--entities" is a drill option, not one of "status"\nusage: '), r.stderr)
})

test('a bad drill size is refused by name before the drill touches the lab, every problem at once', () => {
  const r = lab(['drill', '--entities', '0', '--seconds', 'ten'])
  assert.equal(r.code, 2)
  assert.ok(r.stderr.startsWith('"--entities" must be an integer 1..10000000, got "0"; "--seconds" must be an integer 1..3600, got "ten"\nusage: '), r.stderr)
  assert.equal(r.stdout, '')
})
