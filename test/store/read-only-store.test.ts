/**
 * The read-only store that `concord inspect` and `concord verify` open beside a running processor: no owner
 * lock, no migration, refusal of another schema version, and reads that work while the processor's store
 * writes (in this process and from another one).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import BetterSqlite3 from 'better-sqlite3'
import { StoreError } from '../../src/errors.ts'
import { compareUtf8 } from '../../src/model/stamp.ts'
import { currentSchemaVersion, migrate, MIGRATIONS_DIR } from '../../src/store/migrate.ts'
import { openDatabase } from '../../src/store/open.ts'
import { openReadOnly } from '../../src/store/read-only-store.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'
import type { EntityWrite } from '../../src/store/state-store.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const temps: string[] = []
after(() => { for (const dir of temps) rmSync(dir, { recursive: true, force: true }) })
function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-read-only-test-'))
  temps.push(dir)
  return dir
}

const processorStore = (dir: string): SqliteStateStore => new SqliteStateStore(openDatabase({ dir, synchronous: 'normal', cacheMb: 16 }))
const entity = (topicId: number, name: string, state = name): EntityWrite =>
  ({ topicId, entity: name, partition: 0, state: Buffer.from(state), deletedTs: undefined })
const put = (store: SqliteStateStore, ...entities: EntityWrite[]): void =>
  store.commit({ entities, outbox: [], offsets: [], watermarks: [] })

const refusal = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof StoreError, `a StoreError, got ${String(err)}`)
    return err.message
  }
  assert.fail('opened')
}

describe('the read-only store', () => {
  test('reads what a processor in this process committed while it runs, and what it commits next', () => {
    const dir = tempDir()
    const store = processorStore(dir)
    const id = store.topicId('orders', 'siblings')
    put(store, entity(id, 'o-1'))
    // The processor's store is open (normal locking) while the reader reads.
    assert.equal(store.getEntity(id, 'o-1')?.state.toString(), 'o-1')
    const reader = openReadOnly(dir)
    try {
      assert.deepEqual(reader.topic('orders'), { id, stateFormat: 'siblings' })
      assert.equal(reader.topic('nope'), undefined)
      assert.equal(reader.getEntity(id, 'o-1')?.state.toString(), 'o-1')
      put(store, entity(id, 'o-2'), entity(id, 'o-1', 'o-1 again'))
      assert.equal(reader.getEntity(id, 'o-1')?.state.toString(), 'o-1 again')
      assert.equal(reader.getEntity(id, 'o-2')?.state.toString(), 'o-2')
      assert.equal(store.getEntity(id, 'o-2')?.state.toString(), 'o-2')
      // The owner lock is still the processor's.
      assert.equal(readFileSync(join(dir, 'concord.lock'), 'utf8'), `${process.pid}\n`)
    } finally {
      reader.close()
      store.close()
    }
  })

  test('reads while a processor in another process holds the store open and commits', async () => {
    const dir = tempDir()
    const script = `
      import { openDatabase } from ${JSON.stringify(join(root, 'src/store/open.ts'))}
      import { SqliteStateStore } from ${JSON.stringify(join(root, 'src/store/sqlite-state-store.ts'))}
      import { createInterface } from 'node:readline'
      const store = new SqliteStateStore(openDatabase({ dir: ${JSON.stringify(dir)}, synchronous: 'normal', cacheMb: 16 }))
      const id = store.topicId('orders', 'siblings')
      const put = name => store.commit({ entities: [{ topicId: id, entity: name, partition: 0, state: Buffer.from(name), deletedTs: undefined }], outbox: [], offsets: [], watermarks: [] })
      put('a')
      store.getEntity(id, 'a')
      console.log('ready')
      for await (const line of createInterface({ input: process.stdin })) {
        if (line === 'put') { put('b'); store.getEntity(id, 'b'); console.log('put') }
        if (line === 'exit') { store.close(); process.exit(0) }
      }`
    const child = spawn(join(root, 'node_modules/.bin/node'), ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const next = async (): Promise<string> => String((await lines.next()).value)
    try {
      assert.equal(await next(), 'ready')
      const reader = openReadOnly(dir)
      try {
        const id = reader.topic('orders')!.id
        assert.deepEqual(reader.entityPage(id, undefined, 10).map(e => e.entity), ['a'])
        child.stdin.write('put\n')
        assert.equal(await next(), 'put')
        assert.deepEqual(reader.entityPage(id, undefined, 10).map(e => e.entity), ['a', 'b'])
      } finally {
        reader.close()
      }
      child.stdin.write('exit\n')
      assert.equal(await new Promise(resolve => child.on('exit', resolve)), 0)
    } finally {
      child.kill()
    }
  })

  test('pages through a topic in UTF-8 byte order of the entity ids', () => {
    const dir = tempDir()
    const store = processorStore(dir)
    const id = store.topicId('orders', 'siblings')
    const names = ['b', 'a', 'é', 'dc-\uFF21', 'dc-\u{1D400}', 'a2', 'Z']
    put(store, ...names.map(n => entity(id, n)))
    store.close()
    const reader = openReadOnly(dir)
    try {
      const seen: string[] = []
      let after: string | undefined
      for (;;) {
        const page = reader.entityPage(id, after, 2)
        if (page.length === 0) break
        seen.push(...page.map(e => e.entity))
        after = page[page.length - 1]!.entity
      }
      assert.deepEqual(seen, [...names].sort(compareUtf8))
    } finally {
      reader.close()
    }
  })

  test('a snapshot reads one moment while the processor commits, until it ends', () => {
    const dir = tempDir()
    const store = processorStore(dir)
    const id = store.topicId('orders', 'siblings')
    put(store, entity(id, 'a'), entity(id, 'b'))
    const reader = openReadOnly(dir)
    try {
      const end = reader.snapshot()
      assert.deepEqual(reader.entityPage(id, undefined, 1).map(e => e.entity), ['a'])
      put(store, entity(id, 'c'), entity(id, 'b', 'b changed'))
      const rest = reader.entityPage(id, 'a', 10)
      assert.deepEqual(rest.map(e => [e.entity, e.state.toString()]), [['b', 'b']], 'the commit after the snapshot began is not seen')
      assert.equal(reader.snapshot()(), undefined, 'a nested snapshot shares the outer one')
      assert.equal(reader.getEntity(id, 'c'), undefined)
      end()
      assert.deepEqual(reader.entityPage(id, undefined, 10).map(e => [e.entity, e.state.toString()]), [['a', 'a'], ['b', 'b changed'], ['c', 'c']])
    } finally {
      reader.close()
      store.close()
    }
  })

  test('takes no owner lock and writes nothing: the folder holds no lock file after it', () => {
    const dir = tempDir()
    processorStore(dir).close()
    const reader = openReadOnly(dir)
    assert.equal(existsSync(join(dir, 'concord.lock')), false)
    reader.close()
    // A processor can take the folder at once.
    processorStore(dir).close()
  })

  test('refuses a folder without a state store, naming it', () => {
    const dir = tempDir()
    assert.match(refusal(() => openReadOnly(dir)), new RegExp(`^no state store in ${dir} \\(.*concord\\.db does not exist\\)$`))
  })

  test('refuses a SQLite file that is no concord store', () => {
    const dir = tempDir()
    new BetterSqlite3(join(dir, 'concord.db')).exec('CREATE TABLE t (x)').close()
    assert.match(refusal(() => openReadOnly(dir)), /concord\.db is no concord state store \(it has no schema_migrations table\)$/)
  })

  test('refuses an older schema version without migrating it, naming both versions', () => {
    const dir = tempDir()
    const v1 = join(tempDir(), 'migrations')
    mkdirSync(v1)
    cpSync(join(MIGRATIONS_DIR, '001-initial.sql'), join(v1, '001-initial.sql'))
    const db = new BetterSqlite3(join(dir, 'concord.db'))
    migrate(db, v1)
    db.close()
    const current = currentSchemaVersion()
    assert.ok(current > 1)
    assert.match(refusal(() => openReadOnly(dir)),
      new RegExp(`has schema version 1, this concord reads version ${current}: start this concord's processor on it once to migrate it`))
    const after = new BetterSqlite3(join(dir, 'concord.db'), { readonly: true })
    assert.deepEqual(after.prepare('SELECT version FROM schema_migrations').all(), [{ version: 1 }], 'not migrated')
    after.close()
  })

  test('refuses a newer schema version, naming both versions', () => {
    const dir = tempDir()
    const newer = join(tempDir(), 'migrations')
    cpSync(MIGRATIONS_DIR, newer, { recursive: true })
    const next = currentSchemaVersion() + 1
    writeFileSync(join(newer, `${String(next).padStart(3, '0')}-later.sql`), 'CREATE TABLE later (x);\n')
    const db = new BetterSqlite3(join(dir, 'concord.db'))
    migrate(db, newer)
    db.close()
    assert.match(refusal(() => openReadOnly(dir)),
      new RegExp(`has schema version ${next}, newer than version ${next - 1} that this concord reads: use the concord that wrote it`))
  })

  test('a store held under exclusive locking (a concord before read-only access) is refused with what to do', () => {
    const dir = tempDir()
    processorStore(dir).close()
    const owner = new BetterSqlite3(join(dir, 'concord.db'))
    owner.pragma('locking_mode = EXCLUSIVE')
    owner.pragma('journal_mode = WAL')
    owner.exec('CREATE TABLE IF NOT EXISTS x (y)')
    try {
      assert.match(refusal(() => openReadOnly(dir)), /is locked by the process that owns it, which holds it exclusively .*query that process over HTTP/)
    } finally {
      owner.close()
    }
  })
})
