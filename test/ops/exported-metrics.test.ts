import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { parse } from 'yaml'
import { Metrics } from '../../src/metrics/metrics.ts'

/**
 * The dashboard and the rules may use only what concord exports: every `concord_*` metric they name, and
 * every label they select or group it by, is read from a real Metrics registry (not a list kept by hand);
 * every `concord:*` recording rule the alerts or the dashboard use is defined in the rules file.
 */
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

interface Rule { readonly record?: string, readonly alert?: string, readonly expr: string }
const rules: Rule[] = (parse(read('deploy/prometheus/concord-rules.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(g => g.rules)

interface Panel { readonly type: string, readonly title: string, readonly datasource?: unknown, readonly targets?: Array<{ expr: string }> }
const dashboard = JSON.parse(read('deploy/grafana/concord.json')) as { panels: Panel[] }
const panels = dashboard.panels.filter(p => p.type !== 'row')

const sources: Array<{ where: string, expr: string }> = [
  ...rules.map(r => ({ where: `rule ${r.record ?? r.alert}`, expr: r.expr })),
  ...panels.flatMap(p => (p.targets ?? []).map(t => ({ where: `panel "${p.title}"`, expr: t.expr })))
]

/** Labels every scraped series has, or a histogram's buckets have, besides the metric's own. */
const SCRAPE_LABELS = ['job', 'instance']

async function exported (): Promise<Map<string, readonly string[]>> {
  const metrics = new Metrics({ maxUnsentRecords: 10, maxLagRecords: 10 })
  const names = new Map<string, readonly string[]>()
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string, type: string, labelNames?: readonly string[] }>) {
    const labels = [...(m.labelNames ?? []), ...SCRAPE_LABELS]
    if (m.type === 'histogram') {
      names.set(`${m.name}_bucket`, [...labels, 'le'])
      names.set(`${m.name}_sum`, labels)
      names.set(`${m.name}_count`, labels)
    } else {
      names.set(m.name, labels)
    }
  }
  return names
}

/** Each `concord_*` metric an expression names, with the label names of its selector (`{a="x", b=~"y"}`). */
function selectors (expr: string): Array<{ name: string, labels: string[] }> {
  return [...expr.matchAll(/\b(concord_[a-z0-9_]+)(\{([^}]*)\})?/g)].map(m => ({
    name: m[1]!,
    labels: [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map(l => l[1]!)
  }))
}

describe('the dashboard and the rules', () => {
  it('name only metrics concord exports, with labels those metrics have', async () => {
    const names = await exported()
    assert.ok(names.has('concord_replication_latency_seconds_bucket'), 'the registry is read, histograms included')
    const problems: string[] = []
    let seen = 0
    for (const { where, expr } of sources) {
      for (const { name, labels } of selectors(expr)) {
        seen++
        const known = names.get(name)
        if (known === undefined) problems.push(`${where}: ${name} is not exported`)
        for (const l of labels) if (known !== undefined && !known.includes(l)) problems.push(`${where}: ${name} has no label ${l}`)
      }
    }
    assert.deepEqual(problems, [])
    assert.ok(seen >= 20, `found ${seen} metric references`)
  })

  it('group each metric only by labels it has', async () => {
    const names = await exported()
    const problems: string[] = []
    for (const { where, expr } of sources) {
      // `sum by (a, b) (... concord_x ...)`: each concord_ metric inside must have a and b (or they come from a recording rule).
      for (const m of expr.matchAll(/by \(([^)]*)\) \((.*)$/g)) {
        const by = m[1]!.split(',').map(s => s.trim())
        for (const { name } of selectors(m[2]!)) {
          for (const l of by) if (!names.get(name)?.includes(l)) problems.push(`${where}: groups ${name} by ${l}, which it does not have`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })

  it('use only recording rules the rules file defines', () => {
    const defined = new Set(rules.flatMap(r => r.record === undefined ? [] : [r.record]))
    const used = sources.flatMap(({ where, expr }) => [...expr.matchAll(/\b(concord:[a-z0-9_:]+)/g)].map(m => ({ where, name: m[1]! })))
    assert.ok(used.length > 0)
    assert.deepEqual(used.filter(u => !defined.has(u.name)), [])
  })

  it('have the panels an operator looks for, each with a Prometheus query', () => {
    const titles = panels.map(p => p.title)
    for (const wanted of [/replication latency p99 by source DC/i, /lag/i, /by outcome/i, /dead letters/i, /conflicts/i, /batch duration/i, /outbox/i, /ready/i]) {
      assert.ok(titles.some(t => wanted.test(t)), `a panel matching ${wanted}`)
    }
    for (const p of panels) assert.ok((p.targets ?? []).length > 0 && p.datasource !== undefined, `panel "${p.title}" queries a data source`)
  })

  it('alert on each threshold the issue names', () => {
    const alerts = new Map(rules.flatMap(r => r.alert === undefined ? [] : [[r.alert, r.expr] as const]))
    assert.match(alerts.get('ConcordReplicationLatencyHigh') ?? '', /> 1$/)
    assert.match(alerts.get('ConcordConsumerLagHigh') ?? '', /> 10000$/)
    assert.match(alerts.get('ConcordRateBelowExpected') ?? '', /< 0\.5 \*/)
    for (const name of ['ConcordDeadLettersGrowing', 'ConcordOutboxNearBound', 'ConcordNotReady']) assert.ok(alerts.has(name), name)
  })
})
