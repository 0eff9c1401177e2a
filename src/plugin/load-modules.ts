import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Config } from '../config/schema.ts'
import { ConfigError } from '../errors.ts'

/**
 * Loads the user modules of custom merge policies (`policy: { type: custom, module: <path> }`) at start-up,
 * so that binding a policy (src/merge/custom.ts) stays pure. A path is relative to the working directory;
 * Node runs JavaScript (.js, .mjs) and TypeScript (.ts, by type stripping). The map is keyed by the path as
 * configured, each module loaded once however many topics name it. Every module that fails to load is
 * reported at once, each under its key.
 */
export async function loadPolicyModules (config: Config, cwd: string = process.cwd()): Promise<Map<string, unknown>> {
  const modules = new Map<string, unknown>()
  const problems: string[] = []
  const causes: unknown[] = []
  for (const [i, topic] of config.topics.entries()) {
    const policy = topic.policy as { readonly type: string, readonly module?: unknown }
    if (policy.type !== 'custom' || typeof policy.module !== 'string' || modules.has(policy.module)) continue
    const path = resolve(cwd, policy.module)
    try {
      modules.set(policy.module, await import(pathToFileURL(path).href))
    } catch (err) {
      causes.push(err)
      problems.push(`"topics[${i}].policy.module" must be a loadable module (JavaScript or TypeScript, relative to the working directory), got "${policy.module}": ${reasonOf(err, path)}`)
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems, { cause: causes.length === 1 ? causes[0] : new AggregateError(causes, 'custom policy modules failed to load') })
  }
  return modules
}

function reasonOf (err: unknown, path: string): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  // The module itself is missing (not a module it imports): say so without Node's "imported from <loader>".
  if (code === 'ERR_MODULE_NOT_FOUND' && err.message.startsWith(`Cannot find module '${path}'`)) return `no such file (${path})`
  return `${err.name}: ${err.message}`
}
