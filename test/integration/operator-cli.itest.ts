/**
 * The operator commands on the lab: concord runs in both DCs, writes go to both, MirrorMaker 2 carries them
 * across; then `concord verify` (reading both state folders while both processors hold them) says they
 * converged, `concord inspect` reads an entity's state beside its running processor, and a DC that missed
 * writes (its processor stopped) is found to diverge, the entities named. Over HTTP as well when the
 * processor serves the state routes (src/main.ts wires them).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startConcord, type ConcordProcess } from '../../lab/concord-process.ts'
import { createTopicPair, produce, waitConsumed } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { codecs } from '../../src/codec/value-codec.ts'
import type { OutRecord } from '../../src/model/record.ts'
import { H } from '../../src/wire/contract.ts'

const settings = labSettings()
const CLI = fileURLToPath(new URL('../../src/cli/concord.ts', import.meta.url))

interface Ended { readonly code: number | null, readonly stdout: string, readonly stderr: string }
function concord (args: readonly string[]): Promise<Ended> {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...args], { env: { ...process.env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  return new Promise(resolve => child.on('close', code => resolve({ code, stdout, stderr })))
}

const T = 1_700_000_000_000
const ENTITIES = 200

describe('the operator commands on the lab', { timeout: 300_000 }, () => {
  it('verify says two running DCs converged, inspect reads beside a running processor, and a DC that missed writes diverges', async () => {
    const topic = `it-ops-${Date.now().toString(36)}`
    await createTopicPair(settings, topic)
    const work = mkdtempSync(join(tmpdir(), 'concord-it-ops-'))
    const start = (i: 0 | 1): Promise<ConcordProcess> => startConcord({
      dc: settings.dcs[i].id,
      peers: [settings.dcs[1 - i]!.id],
      brokers: settings.dcs[i].bootstrap,
      topics: [{ name: topic, policy: 'lww' }],
      dir: join(work, settings.dcs[i].id),
      groupId: `concord-${settings.dcs[i].id}-${topic}`
    })
    const configOf = (i: 0 | 1): string => join(work, settings.dcs[i].id, 'concord.yaml')
    const procs: Array<ConcordProcess | undefined> = [await start(0), await start(1)]
    try {
      // Every entity written in both DCs, dc2's write 5 ms later: dc2's wins everywhere.
      const write = (i: 0 | 1, entity: string, ts: number, n: number): OutRecord => ({
        topic,
        key: `${entity}-${settings.dcs[i].id}`,
        value: codecs.msgpack.encode({ n, by: settings.dcs[i].id }),
        headers: { [H.originDc]: settings.dcs[i].id, [H.originTs]: String(ts), [H.eventId]: `${entity}-${i}` }
      })
      const entities = Array.from({ length: ENTITIES }, (_, k) => `e${k}`)
      await Promise.all([
        produce(settings.dcs[0].bootstrap, entities.map((e, k) => write(0, e, T + k, k))),
        produce(settings.dcs[1].bootstrap, entities.map((e, k) => write(1, e, T + k + 5, k)))
      ])
      await waitConsumed(procs as ConcordProcess[], [2 * ENTITIES, 2 * ENTITIES])

      const converged = await concord(['verify', configOf(0), configOf(1), '--attempts', '20', '--wait', '500'])
      assert.equal(converged.code, 0, `${converged.stdout}\n${converged.stderr}`)
      assert.match(converged.stdout, new RegExp(`^${topic}: converged \\(${ENTITIES} entities, digest [0-9a-f]{16}\\)`))

      const inspected = await concord(['inspect', topic, 'e7', '--config', configOf(0), '--json'])
      assert.equal(inspected.code, 0, inspected.stderr)
      const view = JSON.parse(inspected.stdout) as { value: unknown, origin: { dc: string }, state: { versions: Array<{ stamp: { dc: string }, live: boolean }> } }
      assert.deepEqual(view.value, { encoding: 'json', value: { n: 7, by: 'dc2' } })
      assert.equal(view.origin.dc, 'dc2')
      assert.deepEqual(view.state.versions.map(v => [v.stamp.dc, v.live]), [['dc1', true], ['dc2', true]])

      const http = await fetch(`http://127.0.0.1:${procs[0]!.port}/v1/topics`)
      const served = http.status === 200
      await http.body?.cancel()
      if (served) {
        const urls = procs.map(p => `http://127.0.0.1:${p!.port}`)
        const overHttp = await concord(['verify', urls[0]!, urls[1]!, '--attempts', '20', '--wait', '500'])
        assert.equal(overHttp.code, 0, `${overHttp.stdout}\n${overHttp.stderr}`)
        const one = await concord(['inspect', topic, 'e7', '--url', urls[1]!, '--json'])
        assert.deepEqual((JSON.parse(one.stdout) as { value: unknown }).value, view.value)
      }

      // dc2's processor stops; new writes reach dc2's Kafka but not its state.
      assert.equal(await procs[1]!.stop(), 0)
      procs[1] = undefined
      await produce(settings.dcs[0].bootstrap, ['late-1', 'late-2'].map((e, k) => write(0, e, T + 10_000 + k, k)))
      await waitConsumed([procs[0]!], [2 * ENTITIES + 2])
      const diverged = await concord(['verify', configOf(0), configOf(1), '--attempts', '10', '--wait', '500', '--json'])
      assert.equal(diverged.code, 1, `${diverged.stdout}\n${diverged.stderr}`)
      const report = JSON.parse(diverged.stdout) as { converged: boolean, topics: Array<{ differing: Array<{ entity: string, kind: string }> }> }
      assert.equal(report.converged, false)
      assert.deepEqual(report.topics[0]!.differing.map(d => `${d.entity} ${d.kind}`).sort(), ['late-1 only-a', 'late-2 only-a'])
      if (!served) console.log('# the processor serves no state routes yet (src/main.ts does not wire them): verify over HTTP was not run')
    } finally {
      for (const p of procs) if (p !== undefined) assert.equal(await p.stop(), 0)
    }
  })
})
