import type { StampView, ValueView } from '../merge/state-description.ts'
import type { EntityView } from '../query/entity-view.ts'

/** How `concord inspect` prints an entity's view for people (`--json` prints the view itself). */

export const showValue = (v: ValueView | null | undefined): string =>
  v === null || v === undefined ? '-' : v.encoding === 'json' ? JSON.stringify(v.value) : `base64:${v.value}`

export function showStamp (s: StampView | null): string {
  if (s === null) return 'none'
  const time = Number.isFinite(s.ts) && Math.abs(s.ts) <= 8.64e15 ? new Date(s.ts).toISOString() : String(s.ts)
  return `${s.dc}  ${time}  counter ${s.counter}  event ${s.eventId}`
}

export function viewText (v: EntityView): string {
  const lines = [
    `${v.topic} ${JSON.stringify(v.entity)}   policy ${v.policy}, codec ${v.codec}, home partition ${v.partition}`,
    `value      ${v.deleted ? '(deleted)' : showValue(v.value)}`,
    `origin     ${v.origin === null ? 'none (a built value)' : showStamp(v.origin)}`,
    ...v.sources.map((s, i) => `${i === 0 ? 'sources' : ''.padEnd(7)}    ${showStamp(s)}`),
    `tombstone  ${showStamp(v.tombstone)}`,
    `digest     ${v.digest ?? 'none (deleted entities count as absent)'}`
  ]
  if (v.error !== undefined) lines.push(`error      ${v.error}`)
  const s = v.state
  switch (s.layout) {
    case 'siblings':
      lines.push(`state      latest version per writer DC (tombstone: ${showStamp(s.tombstone)})`)
      for (const x of s.versions) lines.push(`  ${showStamp(x.stamp)}  ${x.deleted ? 'delete' : x.live ? 'live  ' : 'hidden'}  ${showValue(x.value)}`)
      break
    case 'fields':
      lines.push(`state      latest entry per field and writer DC (tombstone: ${showStamp(s.tombstone)})`)
      for (const f of s.fields) {
        lines.push(`  ${JSON.stringify(f.name)}`)
        for (const e of f.entries) lines.push(`    ${showStamp(e.stamp)}  ${e.deleted ? 'deleted' : showValue(e.value)}`)
      }
      break
    case 'custom':
      lines.push(`state      described by the ${s.describedBy === 'module' ? 'module\'s describe' : 'module\'s state itself'}: ${showValue(s.state)}`)
      if (s.describeError !== undefined) lines.push(`           (${s.describeError})`)
      for (const x of s.sources) lines.push(`  source ${showStamp(x)}`)
      break
  }
  return lines.join('\n')
}
