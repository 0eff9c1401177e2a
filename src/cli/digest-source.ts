import { statSync } from 'node:fs'
import { loadConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { QueryError, UsageError } from '../errors.ts'
import { policies } from '../merge/index.ts'
import type { EntityView } from '../query/entity-view.ts'
import type { EntityDigests, Lookup, TopicDigest } from '../query/state-query.ts'
import { errorOf, getJson } from './http-client.ts'
import { openFolderQuery } from './state-folder.ts'

/** One side of `concord verify`: a running processor or a state folder, asked for digests. */
export interface DigestSource {
  /** As the operator named it (a URL, a file, a folder). */
  readonly label: string
  /** The topics it is configured with. */
  topics (): Promise<readonly string[]>
  digest (topic: string): Promise<TopicDigest>
  entityDigests (topic: string, buckets: readonly number[]): Promise<EntityDigests>
  /** One entity's state view, or undefined when the side has no such entity. */
  entity (topic: string, entity: string): Promise<EntityView | undefined>
  close (): void
}

const found = <T>(label: string, l: Lookup<T>): T => {
  if (!l.found) throw new QueryError(`${label}: ${l.reason}`)
  return l.value
}

function httpSource (url: string): DigestSource {
  const get = async <T>(path: string): Promise<T> => {
    const { status, body } = await getJson(url, path)
    if (status === 404) throw new QueryError(`${url}: ${errorOf(body) ?? `no ${path}`}`)
    return body as T
  }
  return {
    label: url,
    topics: async () => (await get<{ topics: string[] }>('/v1/topics')).topics,
    digest: topic => get(`/v1/digest/${encodeURIComponent(topic)}`),
    entityDigests: (topic, buckets) => get(`/v1/digest/${encodeURIComponent(topic)}?buckets=${buckets.join(',')}`),
    entity: async (topic, entity) => {
      const { status, body } = await getJson(url, `/v1/state/${encodeURIComponent(topic)}/${encodeURIComponent(entity)}`)
      return status === 200 ? body as EntityView : undefined
    },
    close: () => {}
  }
}

async function folderSource (label: string, config: Config, dir: string): Promise<DigestSource> {
  const { query, close } = await openFolderQuery(config, dir)
  return {
    label,
    topics: async () => query.topics(),
    digest: async topic => found(label, await query.digest(topic)),
    entityDigests: async (topic, buckets) => found(label, await query.entityDigests(topic, buckets)),
    entity: async (topic, entity) => {
      const l = query.entity(topic, entity)
      return l.found ? l.value : undefined
    },
    close
  }
}

/**
 * The source an argument names: `http(s)://...` a running processor; a file a DC's configuration, whose
 * state folder is read; a folder a state folder, read with the topics of `--config`.
 */
export async function openSource (arg: string, configFile: string | undefined): Promise<DigestSource> {
  if (/^https?:\/\//i.test(arg)) return httpSource(arg)
  let kind: 'file' | 'folder' | undefined
  try {
    const s = statSync(arg)
    kind = s.isDirectory() ? 'folder' : s.isFile() ? 'file' : undefined
  } catch {}
  if (kind === 'file') {
    const config = loadConfig({ file: arg, policies })
    return folderSource(arg, config, config.store.dir)
  }
  if (kind === 'folder') {
    if (configFile === undefined) throw new UsageError(`a state folder (${arg}) is read with the topics of a configuration: add --config <file>`)
    return folderSource(arg, loadConfig({ file: configFile, policies }), arg)
  }
  throw new UsageError(`"${arg}" must be a processor's URL (http://host:port), a configuration file or a state folder; no such file or folder`)
}
