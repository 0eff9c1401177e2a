import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { startHttp } from '../../src/http/server.ts'
import { checkPolicies } from '../../src/main.ts'
import { policies } from '../../src/merge/index.ts'
import { readSrcGraph } from '../architecture/import-graph.ts'
import { assignments, execForm, finalStage, ignored, parseDockerfile, type Instruction } from './dockerfile.ts'
import {
  mebibytes, only, peakRssFigures, readManifests, selects,
  type ConfigMap, type Container, type PodDisruptionBudget, type Service, type StatefulSet
} from './manifests.ts'

/**
 * The deployment files against each other and against concord itself, with no cluster and no Docker daemon:
 * deploy/kubernetes/*.yaml, the Dockerfile and .dockerignore at the top of the repository.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string): string => readFileSync(join(root, path), 'utf8')

const manifests = readManifests(join(root, 'deploy/kubernetes'))
const sts = only<StatefulSet>(manifests, 'StatefulSet')
const configMap = only<ConfigMap>(manifests, 'ConfigMap')
const service = only<Service>(manifests, 'Service')
const pdb = only<PodDisruptionBudget>(manifests, 'PodDisruptionBudget')
const pod = sts.spec.template.spec
const container: Container = pod.containers.find(c => c.name === 'concord') ?? assert.fail('no container named concord')

const dockerfile = parseDockerfile(read('Dockerfile'))
const image = finalStage(dockerfile)
const one = (name: string, stage: readonly Instruction[] = image): Instruction => {
  const found = stage.filter(i => i.name === name)
  assert.equal(found.length, 1, `one ${name} in the Dockerfile's final stage, found ${found.length}`)
  return found[0]!
}
const imageEnv = new Map(image.filter(i => i.name === 'ENV').flatMap(i => [...assignments(i.args)]))

/** The --config path of a concord command line. */
const configPath = (args: readonly string[]): string => {
  const at = args.indexOf('--config')
  assert.ok(at >= 0 && args[at + 1] !== undefined, `--config <file> in ${JSON.stringify(args)}`)
  return args[at + 1]!
}

/** The config concord reads in the pod: the ConfigMap's file under the image's and the container's environment. */
function podConfig (): Config {
  const file = posix.basename(configPath(container.args))
  const text = configMap.data[file] ?? assert.fail(`ConfigMap ${configMap.metadata.name} has no key ${file}`)
  const dir = mkdtempSync(join(tmpdir(), 'concord-deploy-'))
  writeFileSync(join(dir, file), text)
  const env = { ...Object.fromEntries(imageEnv), ...Object.fromEntries((container.env ?? []).map(e => [e.name, e.value])) }
  return loadConfig({ file: join(dir, file), env, policies })
}
const config = podConfig()

/** A probe's or Service's port, by number or by the container port's name, as a number. */
const portNumber = (port: number | string): number =>
  typeof port === 'number' ? port : container.ports.find(p => p.name === port)?.containerPort ?? assert.fail(`no container port named ${port}`)

describe('the Kubernetes manifests', () => {
  it('parse, each object named, and the kustomization lists every file', () => {
    for (const m of manifests) assert.ok(m.apiVersion !== undefined && m.kind !== undefined, `${m.file}: apiVersion and kind`)
    const objects = manifests.filter(m => m.kind !== 'Kustomization')
    for (const m of objects) assert.match(m.metadata?.name ?? '', /^[a-z0-9-]+$/, `${m.file}: metadata.name`)
    const kustomization = only<{ resources: string[] }>(manifests, 'Kustomization')
    assert.deepEqual([...kustomization.resources].sort(), [...new Set(objects.map(m => m.file))].sort())
  })

  it('hold a concord config that concord\'s own validation accepts, policies bound as check-config does', async () => {
    assert.equal(config.topics.length >= 1, true)
    await checkPolicies(config)
  })

  it('run one pod per DC, with its own volume mounted at store.dir', () => {
    assert.equal(sts.spec.replicas, 1, 'one concord per DC: two pods in one group would split the partitions but not the state')
    const [claim, ...more] = sts.spec.volumeClaimTemplates
    assert.ok(claim !== undefined && more.length === 0, 'one volumeClaimTemplate')
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce'])
    assert.ok(!pod.volumes.some(v => v.name === claim.metadata.name), 'the claim is not shadowed by a pod volume')
    const mount = container.volumeMounts.find(m => m.name === claim.metadata.name) ?? assert.fail('the claim is mounted')
    assert.equal(mount.mountPath, config.store.dir)
    assert.notEqual(mount.readOnly, true)
  })

  it('probe /livez and /readyz on the port concord listens on, reachable on the pod\'s address', () => {
    const http = container.ports.find(p => p.name === 'http') ?? assert.fail('a container port named http')
    assert.equal(http.containerPort, config.http.port)
    assert.equal(config.http.host, '0.0.0.0', 'the kubelet probes the pod address, not its loopback')
    const probes = { startupProbe: '/livez', livenessProbe: '/livez', readinessProbe: '/readyz' } as const
    for (const [probe, path] of Object.entries(probes)) {
      const get = container[probe as keyof typeof probes].httpGet
      assert.equal(get.path, path, probe)
      assert.equal(portNumber(get.port), config.http.port, `${probe} port`)
    }
  })

  it('mount the ConfigMap where the container\'s --config points', () => {
    const path = configPath(container.args)
    const mount = container.volumeMounts.find(m => m.mountPath === posix.dirname(path)) ?? assert.fail(`a volume mounted at ${posix.dirname(path)}`)
    assert.equal(mount.readOnly, true)
    const volume = pod.volumes.find(v => v.name === mount.name)
    assert.equal(volume?.configMap?.name, configMap.metadata.name)
    assert.ok(Object.hasOwn(configMap.data, posix.basename(path)), `the ConfigMap has the key ${posix.basename(path)}`)
  })

  it('run concord with a read-only root, writable only on its volumes (the state folder and /tmp)', () => {
    assert.equal(container.securityContext.readOnlyRootFilesystem, true)
    assert.equal(container.securityContext.allowPrivilegeEscalation, false)
    const writable = container.volumeMounts.filter(m => m.readOnly !== true).map(m => m.mountPath).sort()
    assert.deepEqual(writable, [config.store.dir, '/tmp'].sort())
  })

  it('name a headless Service for the StatefulSet on the HTTP port, and cover the pod with the disruption budget', () => {
    const labels = sts.spec.template.metadata.labels
    assert.ok(selects(sts.spec.selector.matchLabels, labels), 'the StatefulSet selects its own pods')
    assert.equal(sts.spec.serviceName, service.metadata.name)
    assert.equal(service.spec.clusterIP, 'None', 'headless')
    assert.ok(selects(service.spec.selector, labels), 'the Service selects the pods')
    const port = service.spec.ports.find(p => p.name === 'http') ?? assert.fail('a Service port named http')
    assert.equal(portNumber(port.targetPort), config.http.port)
    assert.ok(selects(pdb.spec.selector.matchLabels, labels), 'the budget selects the pods')
    assert.ok((pdb.spec.maxUnavailable ?? 0) <= sts.spec.replicas, 'the budget allows no more than the pods there are')
  })

  it('ask for the memory the benchmarks measured (README, Performance) and leave time for the 10 s stop', () => {
    const figures = peakRssFigures(read('README.md'))
    assert.ok(figures.length >= 10, `peak RSS figures found in the README: ${JSON.stringify(figures)}`)
    // The request covers concord end to end and its engine under lww (the example config's policy); the limit
    // covers every figure, the heaviest policy (lww-fields) included.
    const lww = figures.filter(f => /\| concord \||^(LWW|`lww`),/.test(f.row))
    assert.ok(lww.length >= 5, `concord's own lww rows are among them: ${JSON.stringify(lww)}`)
    const request = mebibytes(container.resources.requests.memory!)
    const limit = mebibytes(container.resources.limits.memory!)
    for (const f of figures) assert.ok(limit >= f.mib, `limit ${limit} MiB under ${f.mib} MiB (${f.row})`)
    for (const f of lww) assert.ok(request >= f.mib, `request ${request} MiB under ${f.mib} MiB (${f.row})`)
    assert.ok(request < limit)
    assert.ok(container.resources.requests.cpu !== undefined, 'a CPU request (the benchmarks used about one core)')
    assert.ok(pod.terminationGracePeriodSeconds > 10, 'the grace period outlasts the 10 s stop')
  })

  it('use probe paths concord\'s HTTP server answers: /readyz', async () => {
    await assertAnswered(container.readinessProbe.httpGet.path)
  })

  it('use probe paths concord\'s HTTP server answers: /livez', async () => {
    await assertAnswered(container.livenessProbe.httpGet.path)
  })
})

/** GET `path` on concord's HTTP server (started here on a free port) answers 200 or 503, not 404. */
async function assertAnswered (path: string): Promise<void> {
  const http = await startHttp('127.0.0.1', 0, { metrics: async () => ({ body: '', contentType: 'text/plain' }), ready: () => false })
  try {
    const status = (await fetch(`http://127.0.0.1:${http.port}${path}`)).status
    assert.ok(status === 200 || status === 503, `GET ${path} answered ${status}`)
  } finally {
    await new Promise<void>(resolve => http.server.close(() => resolve()))
  }
}

describe('the Dockerfile', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>, devDependencies: Record<string, string> }

  it('builds every stage on the Node version the project pins (devDependency "node"), Debian slim', () => {
    const arg = dockerfile.find(i => i.name === 'ARG' && i.args.startsWith('NODE_VERSION=')) ?? assert.fail('ARG NODE_VERSION')
    assert.equal(assignments(arg.args).get('NODE_VERSION'), pkg.devDependencies.node)
    const froms = dockerfile.filter(i => i.name === 'FROM')
    assert.ok(froms.length >= 1)
    for (const from of froms) assert.match(from.args, /^node:\$\{NODE_VERSION\}-bookworm-slim(\s+AS\s+\S+)?$/, `line ${from.line}`)
  })

  it('runs as the non-root user and group the pod runs as, owning the state folder', () => {
    const user = one('USER').args
    assert.match(user, /^\d+:\d+$/, 'numeric, so that runAsNonRoot can check it')
    const [uid, gid] = user.split(':').map(Number)
    assert.notEqual(uid, 0)
    const sc = pod.securityContext
    assert.deepEqual([sc.runAsUser, sc.runAsGroup, sc.fsGroup, sc.runAsNonRoot], [uid, gid, gid, true])
    assert.ok(image.some(i => i.name === 'RUN' && i.args.includes(`chown ${user} ${config.store.dir}`)), `RUN ... chown ${user} ${config.store.dir}`)
  })

  it('keeps the state on a volume at store.dir, where the pod mounts its claim', () => {
    assert.deepEqual(execForm(one('VOLUME')), [config.store.dir])
  })

  it('starts concord under tini with the command line the pod gives, exposes http.port, and leaves the config to the file', () => {
    const entrypoint = execForm(one('ENTRYPOINT'))
    assert.deepEqual(entrypoint.slice(0, 3), ['/usr/bin/tini', '--', 'node'], 'tini as PID 1, node its child')
    assert.ok(image.some(i => i.name === 'RUN' && /apt-get install .*\btini\b/.test(i.args)), 'tini is installed')
    const script = entrypoint.find(a => a.endsWith('.ts')) ?? assert.fail('a script in the ENTRYPOINT')
    assert.equal(script, 'src/cli/concord.ts')
    assert.ok(existsSync(join(root, script)))
    assert.deepEqual(execForm(one('CMD')), [...container.args], 'the pod\'s args are the image\'s CMD')
    assert.equal(container.command, undefined, 'no command in the pod: it would replace tini')
    assert.equal(Number(one('EXPOSE').args), config.http.port)
    assert.deepEqual([...imageEnv.keys()].filter(k => k.startsWith('CONCORD_')), [], 'no variable that would override the mounted file')
  })

  it('copies from the build context only what .dockerignore lets in, which leaves out the rest', () => {
    const dockerignore = read('.dockerignore')
    const copies = dockerfile.filter(i => i.name === 'COPY' && !i.args.startsWith('--from='))
    const sources = copies.flatMap(i => i.args.split(/\s+/).slice(0, -1))
    assert.ok(sources.length >= 4)
    for (const s of sources) {
      assert.ok(existsSync(join(root, s)), `${s} exists`)
      assert.equal(ignored(dockerignore, s), false, `${s} is in the build context`)
      assert.equal(ignored(dockerignore, `${s}/x.ts`), false, `what is under ${s} is in the build context`)
    }
    for (const left of ['node_modules/pino/package.json', '.git/HEAD', '.cache/lab/dc1.log', 'data/dc1/concord.db', 'test/deploy/deploy.test.ts', 'bench/run.ts', 'lab/lab.ts', 'README.md', 'deploy/kubernetes/statefulset.yaml']) {
      assert.equal(ignored(dockerignore, left), true, `${left} is left out`)
    }
  })

  it('installs no devDependency and runs no install script, which concord needs neither of at run time', () => {
    const npmCi = dockerfile.find(i => i.name === 'RUN' && i.args.includes('npm ci')) ?? assert.fail('RUN npm ci')
    assert.match(npmCi.args, /--omit=dev/)
    assert.match(npmCi.args, /--ignore-scripts/)
    const runtime = new Set<string>()
    for (const imports of readSrcGraph(root).values()) {
      for (const i of imports) if (i.file === undefined && !i.typeOnly && !i.specifier.startsWith('node:')) runtime.add(i.specifier.split('/').slice(0, i.specifier.startsWith('@') ? 2 : 1).join('/'))
    }
    assert.ok(runtime.has('better-sqlite3') && runtime.has('kafkajs'))
    for (const name of runtime) assert.ok(Object.hasOwn(pkg.dependencies, name), `${name} (imported by src/) is a dependency, not a devDependency`)
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean, hasInstallScript?: boolean }> }
    const scripted = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev !== true && p.hasInstallScript === true)
    assert.deepEqual(scripted.map(([path]) => path), [], 'production packages with install scripts (--ignore-scripts would skip them)')
  })
})

describe('the test helpers for the Dockerfile', () => {
  it('join continuation lines and read .dockerignore as Docker does', () => {
    const parsed = parseDockerfile('FROM a\n# note\nRUN x \\\n  && y\nCOPY a b\n')
    assert.deepEqual(parsed.map(i => [i.name, i.args, i.line]), [['FROM', 'a', 1], ['RUN', 'x && y', 3], ['COPY', 'a b', 5]])
    const rules = '*\n!src\nsrc/secret\n'
    assert.deepEqual(['src', 'src/a.ts', 'src/secret', 'src/secret/k', 'lab/x', 'README.md'].map(p => ignored(rules, p)), [false, false, true, true, true, true])
  })

  it('parse the ConfigMap\'s YAML the way the container reads it', () => {
    assert.equal((parse(configMap.data['concord.yaml']!) as { dc: string }).dc, config.dc)
    assert.equal(dirname(config.store.dir), '/var/lib')
  })
})
