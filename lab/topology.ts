import type { Datacenter, LabSettings } from './settings.ts'

/**
 * The lab's replication topology, a full mesh: every DC replicates its source topics straight to every other
 * DC, so each DC holds one remote copy (`dc2.orders`) per peer and never a copy of a copy. MirrorMaker 2
 * runs one flow per ordered pair: 2 for two DCs, 6 for three.
 */
export type Flow = readonly [source: Datacenter, target: Datacenter]

/** Every DC but `dc`, in the lab's order. */
export function peersOf (settings: LabSettings, dc: Datacenter): Datacenter[] {
  return settings.dcs.filter(d => d.id !== dc.id)
}

/** Every ordered pair of distinct DCs, by source then target: dc1->dc2, dc1->dc3, dc2->dc1, ... */
export function flows (settings: LabSettings): Flow[] {
  return settings.dcs.flatMap(source => peersOf(settings, source).map(target => [source, target] as const))
}

/** `dc1->dc2, dc2->dc1`, for log lines. */
export function describeFlows (settings: LabSettings): string {
  return flows(settings).map(([s, t]) => `${s.id}->${t.id}`).join(', ')
}
