import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { stringify } from 'yaml'
import { freePort, type ConcordProcess } from '../../lab/concord-process.ts'
import { createTopicPair, produce, startDc, waitConsumed } from '../../lab/scenario.ts'
import { labSettings } from '../../lab/settings.ts'
import { entityPartition } from '../../src/wire/partitioner.ts'
import { encodeMsgpack } from '../../src/codec/msgpack.ts'
import type { OutRecord } from '../../src/model/record.ts'
import { originHeaders, suffixedKey } from '../../src/wire/contract.ts'

/**
 * A real Prometheus (Debian's `prometheus` binary, started here as the lab starts its brokers: its own temp
 * folder and a free port) scrapes the concord of each lab DC, under jobs concord-dc1 and concord-dc2, with
 * concord's rules loaded. Each DC writes a known workload; the test then asks Prometheus's HTTP API and
 * checks the counters equal what was sent (the oracle is counted here) and the latency histograms are
 * populated per source DC.
 */
const settings = labSettings()
const [dc1, dc2] = settings.dcs
const RULES = fileURLToPath(new URL('../../deploy/prometheus/concord-rules.yml', import.meta.url))

interface Prometheus {
  readonly url: string
  readonly log: string
  stop (): Promise<void>
}

/** Starts prometheus scraping `targets` (job name -> host:port) every second; resolves once it is ready. */
async function startPrometheus (dir: string, targets: ReadonlyMap<string, string>): Promise<Prometheus> {
  const port = await freePort()
  const config = join(dir, 'prometheus.yml')
  writeFileSync(config, stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [RULES],
    scrape_configs: [...targets].map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] }))
  }))
  const log = join(dir, 'prometheus.log')
  const fd = openSync(log, 'a')
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`
  ], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const spawnError = new Promise<Error>(resolve => child.once('error', resolve))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    child.kill('SIGTERM')
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killed)
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(200).then(() => undefined)])
    if (failed !== undefined) throw new Error(`cannot start prometheus (apt-get install prometheus): ${failed.message}`)
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${readFileSync(log, 'utf8').slice(-2000)}`)
    const ready = await fetch(`${url}/-/ready`).then(r => r.ok, () => false)
    if (ready) return { url, log, stop }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus not ready within 30 s; see ${log}`)
    }
  }
}

interface Sample { readonly metric: Record<string, string>, readonly value: number }

async function query (prom: Prometheus, promql: string): Promise<Sample[]> {
  const res = await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: promql })}`)
  const body = await res.json() as { status: string, error?: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
  assert.equal(body.status, 'success', `${promql}: ${body.error}`)
  return body.data.result.map(r => ({ metric: r.metric, value: Number(r.value[1]) }))
}

/** `sum by (labels) (expr)` as a map "a=x,b=y" -> value. */
async function byLabels (prom: Prometheus, expr: string, labels: readonly string[]): Promise<Record<string, number>> {
  const samples = await query(prom, `sum by (${labels.join(', ')}) (${expr})`)
  return Object.fromEntries(samples.map(s => [labels.map(l => `${l}=${s.metric[l] ?? ''}`).join(','), s.value]))
}

/** Polls until `read` deep-equals `expected` (Prometheus scrapes once a second); then asserts it. */
async function eventually<T> (read: () => Promise<T>, expected: T, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let got = await read()
  while (!isDeepEqual(got, expected) && Date.now() < deadline) {
    await sleep(500)
    got = await read()
  }
  assert.deepEqual(got, expected, what)
}

const isDeepEqual = (a: unknown, b: unknown): boolean => {
  try {
    assert.deepEqual(a, b)
    return true
  } catch {
    return false
  }
}

describe('concord scraped by a real Prometheus', () => {
  const topic = `it-prom-${Date.now().toString(36)}`
  const work = mkdtempSync(join(tmpdir(), 'concord-it-prom-'))
  // The oracle: each DC writes entities of its own (each applied once everywhere), plus a few records with
  // no x-origin-ts from dc1 (dead-lettered, in dc1 from its own topic and in dc2 from dc1's copy).
  const sent = { dc1: 700, dc2: 500 }
  const malformed = 3
  const records = (dc: 'dc1' | 'dc2'): OutRecord[] => Array.from({ length: sent[dc] }, (_, i) => {
    const entity = `${dc}-e${i}`
    const stamp = { dc, ts: Date.now(), counter: 0, eventId: `${topic}-${dc}-${i}` }
    return { topic, partition: entityPartition(entity, settings.partitions), key: suffixedKey(entity, dc), value: encodeMsgpack(`v${i}`), headers: originHeaders(stamp) }
  })
  const bad: OutRecord[] = Array.from({ length: malformed }, (_, i) => ({ topic, partition: 0, key: suffixedKey(`bad-${i}`, 'dc1'), value: encodeMsgpack('x'), headers: {} }))
  let pair: ConcordProcess[] = []
  let prom: Prometheus | undefined

  before(async () => {
    await createTopicPair(settings, topic)
    pair = await Promise.all([startDc(settings, 0, topic, work), startDc(settings, 1, topic, work)])
    prom = await startPrometheus(mkdtempSync(join(tmpdir(), 'concord-prometheus-')), new Map(pair.map(p => [`concord-${p.dc}`, `127.0.0.1:${p.port}`])))
    // Scraped once before anything is written: the counters' first samples are their zeros, so that
    // increase() sees what the workload adds (as it would for a concord scraped since its start).
    await eventually(() => byLabels(prom!, 'up', ['job']), { 'job=concord-dc1': 1, 'job=concord-dc2': 1 }, 'both concords scraped')
    await Promise.all([produce(dc1.bootstrap, [...records('dc1'), ...bad]), produce(dc2.bootstrap, records('dc2'))])
    const total = sent.dc1 + sent.dc2 + malformed
    await waitConsumed(pair, [total, total])
  })

  // Stopped whatever happened above: a failed start or assertion leaves no prometheus or concord running.
  after(async () => {
    await prom?.stop()
    await Promise.all(pair.map(p => p.stop()))
  })

  it('counts every record sent, by job, source DC and outcome', async () => {
    const expected: Record<string, number> = {}
    for (const job of ['concord-dc1', 'concord-dc2']) {
      expected[`job=${job},source_dc=dc1,outcome=applied`] = sent.dc1
      expected[`job=${job},source_dc=dc2,outcome=applied`] = sent.dc2
      expected[`job=${job},source_dc=dc1,outcome=dead_lettered`] = malformed
    }
    await eventually(() => byLabels(prom!, 'concord_records_total > 0', ['job', 'source_dc', 'outcome']), expected, 'concord_records_total in Prometheus equals what was sent')
    await eventually(() => byLabels(prom!, 'concord_emitted_total{topic=~".*merged"}', ['job']),
      { 'job=concord-dc1': sent.dc1 + sent.dc2, 'job=concord-dc2': sent.dc1 + sent.dc2 }, 'one merged record per entity in each DC')
  })

  it('has a replication latency histogram per source DC, one observation per applied record', async () => {
    const counts = await byLabels(prom!, 'concord_replication_latency_seconds_count', ['job', 'source_dc'])
    assert.deepEqual(counts, {
      'job=concord-dc1,source_dc=dc1': sent.dc1,
      'job=concord-dc1,source_dc=dc2': sent.dc2,
      'job=concord-dc2,source_dc=dc1': sent.dc1,
      'job=concord-dc2,source_dc=dc2': sent.dc2
    })
    // Every +Inf bucket holds the count, and the p99 over the run is a latency (finite, under the last bound).
    const inf = await byLabels(prom!, 'concord_replication_latency_seconds_bucket{le="+Inf"}', ['job', 'source_dc'])
    assert.deepEqual(inf, counts)
    const p99 = await query(prom!, 'histogram_quantile(0.99, sum by (job, source_dc, le) (increase(concord_replication_latency_seconds_bucket[5m])))')
    assert.equal(p99.length, 4)
    for (const s of p99) assert.ok(Number.isFinite(s.value) && s.value > 0 && s.value <= 60, `p99 of ${JSON.stringify(s.metric)}: ${s.value}`)
    const e2e = await byLabels(prom!, 'concord_end_to_end_latency_seconds_count', ['job'])
    assert.deepEqual(e2e, { 'job=concord-dc1': sent.dc1 + sent.dc2, 'job=concord-dc2': sent.dc1 + sent.dc2 }, 'each merged record observed once acknowledged')
  })

  it('reports the lag of every input partition, down to 0 once consumed, and both ready', async () => {
    const partitions = settings.partitions
    const expected: Record<string, number> = {}
    for (const [job, remote] of [['concord-dc1', `dc2.${topic}`], ['concord-dc2', `dc1.${topic}`]] as const) {
      for (const t of [topic, remote]) for (let p = 0; p < partitions; p++) expected[`job=${job},topic=${t},partition=${p}`] = 0
    }
    await eventually(() => byLabels(prom!, 'concord_consumer_lag_records', ['job', 'topic', 'partition']), expected, 'lag per input partition')
    assert.deepEqual(await byLabels(prom!, 'concord_ready', ['job']), { 'job=concord-dc1': 1, 'job=concord-dc2': 1 })
  })

  it('loads concord\'s rules, evaluates them without error, and the dead letters fire their alert', async () => {
    const res = await (await fetch(`${prom!.url}/api/v1/rules`)).json() as { data: { groups: Array<{ name: string, rules: Array<{ name: string, health: string, lastError?: string }> }> } }
    const rules = res.data.groups.flatMap(g => g.rules)
    assert.ok(rules.length >= 11, `${rules.length} rules loaded`)
    assert.deepEqual(rules.filter(r => r.health === 'err').map(r => `${r.name}: ${r.lastError}`), [])
    await eventually(async () => (await query(prom!, 'ALERTS{alertname="ConcordDeadLettersGrowing"}')).map(s => `${s.metric.job} ${s.metric.topic}`).sort(),
      [`concord-dc1 ${topic}`, `concord-dc2 dc1.${topic}`], 'ConcordDeadLettersGrowing for the input topics with dead letters')
  })
})
