import { loadConfig } from '../config/load.ts'
import { configSchema, redactSecrets, type Config } from '../config/schema.ts'
import { checkPolicies } from '../main.ts'
import { policies } from '../merge/index.ts'
import type { Options } from './args.ts'

/** The configuration as it may be shown: secrets redacted. */
export const shownConfig = (config: Config): unknown => redactSecrets(config, configSchema(policies))

/** `concord check-config`: validates the file and its overrides and binds every policy; a summary, or the resolved configuration with --json. */
export async function checkConfig (options: Options, out: (text: string) => void): Promise<number> {
  const config = loadConfig({ file: options.config!, policies })
  await checkPolicies(config)
  if (options.json) {
    out(JSON.stringify({ valid: true, file: options.config, config: shownConfig(config) }, null, 2))
  } else {
    const topics = config.topics.map(t => `${t.name} (${(t.policy as { type: string }).type}, ${t.codec})`).join(', ')
    out(`${options.config}: valid\n  dc ${config.dc}, peers ${config.peers.join(', ')}\n  topics ${topics}\n  state ${config.store.dir}, http ${config.http.host}:${config.http.port}`)
  }
  return 0
}

/** `concord print-config`: the resolved configuration, secrets redacted: `path: value` lines, or JSON with --json. */
export function printConfig (options: Options, out: (text: string) => void): number {
  const shown = shownConfig(loadConfig({ file: options.config!, policies }))
  out(options.json ? JSON.stringify(shown, null, 2) : keyLines(shown, '').join('\n'))
  return 0
}

/** One `path: value` line per leaf, with the paths of the README and of error messages (`topics[0].policy.type`). */
function keyLines (value: unknown, path: string): string[] {
  if (Array.isArray(value)) {
    if (value.every(v => v === null || typeof v !== 'object')) return [`${path}: ${JSON.stringify(value)}`]
    return value.flatMap((v, i) => keyLines(v, `${path}[${i}]`))
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => keyLines(v, path === '' ? k : `${path}.${k}`))
  }
  return [`${path}: ${typeof value === 'string' ? value : JSON.stringify(value)}`]
}
