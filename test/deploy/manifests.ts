import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

/** The fields of the Kubernetes objects in deploy/kubernetes/ that the tests read (a missing one fails them). */
export interface Labels { readonly [name: string]: string }
export interface HttpProbe { readonly httpGet: { readonly path: string, readonly port: number | string } }
export interface Container {
  readonly name: string
  readonly image: string
  readonly command?: readonly string[]
  readonly args: readonly string[]
  readonly env?: ReadonlyArray<{ readonly name: string, readonly value: string }>
  readonly ports: ReadonlyArray<{ readonly name: string, readonly containerPort: number }>
  readonly resources: { readonly requests: Readonly<Record<string, string>>, readonly limits: Readonly<Record<string, string>> }
  readonly startupProbe: HttpProbe
  readonly livenessProbe: HttpProbe
  readonly readinessProbe: HttpProbe
  readonly volumeMounts: ReadonlyArray<{ readonly name: string, readonly mountPath: string, readonly readOnly?: boolean }>
  readonly securityContext: { readonly readOnlyRootFilesystem: boolean, readonly allowPrivilegeEscalation: boolean }
}
export interface StatefulSet {
  readonly metadata: { readonly name: string }
  readonly spec: {
    readonly serviceName: string
    readonly replicas: number
    readonly selector: { readonly matchLabels: Labels }
    readonly template: {
      readonly metadata: { readonly labels: Labels }
      readonly spec: {
        readonly terminationGracePeriodSeconds: number
        readonly securityContext: { readonly runAsNonRoot: boolean, readonly runAsUser: number, readonly runAsGroup: number, readonly fsGroup: number }
        readonly containers: readonly Container[]
        readonly volumes: ReadonlyArray<{ readonly name: string, readonly configMap?: { readonly name: string }, readonly emptyDir?: object }>
      }
    }
    readonly volumeClaimTemplates: ReadonlyArray<{
      readonly metadata: { readonly name: string }
      readonly spec: { readonly accessModes: readonly string[], readonly resources: { readonly requests: { readonly storage: string } } }
    }>
  }
}
export interface ConfigMap { readonly metadata: { readonly name: string }, readonly data: Readonly<Record<string, string>> }
export interface Service {
  readonly metadata: { readonly name: string }
  readonly spec: { readonly clusterIP: string, readonly selector: Labels, readonly ports: ReadonlyArray<{ readonly name: string, readonly port: number, readonly targetPort: number | string }> }
}
export interface PodDisruptionBudget {
  readonly metadata: { readonly name: string }
  readonly spec: { readonly maxUnavailable?: number, readonly minAvailable?: number, readonly selector: { readonly matchLabels: Labels } }
}

export interface Manifest {
  readonly file: string
  readonly apiVersion: string
  readonly kind: string
  readonly metadata?: { readonly name?: string }
  readonly [field: string]: unknown
}

/** Every YAML document of every .yaml file in `dir`, parse errors thrown with the file named. */
export function readManifests (dir: string): Manifest[] {
  return readdirSync(dir).filter(f => f.endsWith('.yaml')).sort().flatMap(file => {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
    if (!Array.isArray(docs)) throw new Error(`${file}: not YAML documents`)
    return docs.map(doc => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map(e => e.message).join('; ')}`)
      return { ...(doc.toJS() as Record<string, unknown>), file } as Manifest
    })
  })
}

/** The one object of `kind` among the manifests (throws when there is none or several). */
export function only<T> (manifests: readonly Manifest[], kind: string): T {
  const found = manifests.filter(m => m.kind === kind)
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`)
  return found[0] as unknown as T
}

/** A Kubernetes memory quantity (`512Mi`, `1Gi`, `1536Mi`) in MiB. */
export function mebibytes (quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity)
  if (m === null) throw new Error(`not a quantity in Mi or Gi: ${quantity}`)
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1)
}

/** Whether every label `selector` asks for is on `labels`. */
export function selects (selector: Labels, labels: Labels): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)
}

/**
 * The peak RSS figures (MiB) in the tables of the README's Performance section, with the first cell of
 * their row: every table column headed "peak RSS" or "peak RSS MiB".
 */
export function peakRssFigures (readme: string): Array<{ readonly row: string, readonly mib: number }> {
  const section = readme.split('\n## ').find(s => s.startsWith('Performance'))
  if (section === undefined) throw new Error('README has no "## Performance" section')
  const figures: Array<{ row: string, mib: number }> = []
  let column = -1
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) {
      column = -1
      continue
    }
    const cells = line.split('|').slice(1, -1).map(c => c.trim())
    if (column < 0) {
      column = cells.findIndex(c => /^peak RSS( MiB)?$/.test(c))
      if (column < 0) column = Number.POSITIVE_INFINITY // a table without the column: skip its rows
      continue
    }
    const m = /^([\d,]+)( MiB)?$/.exec(cells[column] ?? '')
    if (m !== null) figures.push({ row: cells.slice(0, column).join(' | '), mib: Number(m[1]!.replaceAll(',', '')) })
  }
  return figures
}
