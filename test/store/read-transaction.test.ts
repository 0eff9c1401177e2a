/**
 * The processor's store holds one read transaction across its point reads between writes (so that normal
 * locking, which lets other processes read, costs no lock rounds per read), and ends it before every write.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/store/open.ts'
import { SqliteStateStore } from '../../src/store/sqlite-state-store.ts'

const row = (topicId: number, entity: string) => ({ topicId, entity, partition: 0, state: Buffer.from(entity), deletedTs: undefined })

describe('the shared read transaction', () => {
  test('opens at a point read, stays open across reads, and ends before each kind of write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-read-tx-'))
    const db = openDatabase({ dir, synchronous: 'normal', cacheMb: 16 })
    try {
      assert.equal(db.pragma('locking_mode', { simple: true }), 'normal')
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      const store = new SqliteStateStore(db)
      const id = store.topicId('orders', 'siblings')
      const writes: Array<[string, () => unknown]> = [
        ['commit', () => store.commit({ entities: [row(id, 'a')], outbox: [], offsets: [], watermarks: [] })],
        ['atomically', () => store.atomically(() => store.commit({ entities: [row(id, 'b')], outbox: [], offsets: [], watermarks: [] }))],
        ['acknowledge', () => store.acknowledge(0)],
        ['purgeDeleted', () => store.purgeDeleted(id, 0, 10)],
        ['topicId', () => store.topicId('stock', 'siblings')]
      ]
      for (const [name, write] of writes) {
        assert.equal(db.inTransaction, false, `no transaction before the read preceding ${name}`)
        store.getEntity(id, 'a')
        assert.equal(db.inTransaction, true, 'a point read opens the read transaction')
        store.getEntity(id, 'b')
        assert.equal(db.inTransaction, true, 'and it stays open across reads')
        write()
        assert.equal(db.inTransaction, false, `${name} ends it (and commits)`)
      }
      assert.equal(store.getEntity(id, 'b')?.state.toString(), 'b', 'the writes are committed and seen')
      store.atomically(() => {
        assert.equal(store.getEntity(id, 'a')?.state.toString(), 'a', 'a read inside a write transaction uses it')
      })
      assert.equal(db.inTransaction, false)
      store.getEntity(id, 'a')
      store.close()
      assert.equal(db.open, false, 'close ends the read transaction and closes')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
