import { loadConfig } from '../config/load.ts'
import { QueryError } from '../errors.ts'
import { policies } from '../merge/index.ts'
import type { EntityView } from '../query/entity-view.ts'
import type { Options } from './args.ts'
import { errorOf, getJson } from './http-client.ts'
import { openFolderQuery } from './state-folder.ts'
import { viewText } from './view-text.ts'

/**
 * `concord inspect <topic> <entityId>`: one entity's state view, from a state folder opened read-only
 * (`--config`, `--state-dir`) or from a running processor (`--url`). Prints it; throws QueryError when
 * there is no such topic or entity.
 */
export async function inspect (topic: string, entity: string, options: Options, out: (text: string) => void): Promise<number> {
  const view = options.url !== undefined ? await overHttp(options.url, topic, entity) : await fromFolder(topic, entity, options)
  out(options.json ? JSON.stringify(view, null, 2) : viewText(view))
  return 0
}

async function fromFolder (topic: string, entity: string, options: Options): Promise<EntityView> {
  const config = loadConfig({ file: options.config!, policies })
  const { query, close } = await openFolderQuery(config, options.stateDir ?? config.store.dir)
  try {
    const found = query.entity(topic, entity)
    if (!found.found) throw new QueryError(found.reason)
    return found.value
  } finally {
    close()
  }
}

async function overHttp (url: string, topic: string, entity: string): Promise<EntityView> {
  const { status, body } = await getJson(url, `/v1/state/${encodeURIComponent(topic)}/${encodeURIComponent(entity)}`)
  if (status === 404) throw new QueryError(errorOf(body) ?? `${url} has no entity ${JSON.stringify(entity)} in topic "${topic}"`)
  return body as EntityView
}
