import type { Config } from '../config/schema.ts'
import { StoreError } from '../errors.ts'
import { loadPolicyModules } from '../plugin/load-modules.ts'
import { planTopics } from '../processor/plan.ts'
import { StateQuery } from '../query/state-query.ts'
import { openReadOnly } from '../store/read-only-store.ts'

export interface OpenQuery {
  readonly query: StateQuery
  close (): void
}

/**
 * The state query over a state folder opened read-only (no owner lock, no migration: it may belong to a
 * running processor), with the configuration's topics bound to their policies as the processor binds them.
 * A topic the store holds no state of reads as empty; one whose stored layout is not its policy's is refused.
 */
export async function openFolderQuery (config: Config, dir: string): Promise<OpenQuery> {
  const modules = await loadPolicyModules(config)
  const reader = openReadOnly(dir)
  try {
    const plans = planTopics(config, (name, format) => {
      const stored = reader.topic(name)
      if (stored === undefined) return -1
      if (stored.stateFormat !== format) {
        throw new StoreError(`topic "${name}" has state in the "${stored.stateFormat}" layout in ${dir}, and its configured policy keeps "${format}": is this the configuration the folder was written with?`)
      }
      return stored.id
    }, modules)
    return { query: new StateQuery(plans.topics, reader), close: () => reader.close() }
  } catch (err) {
    reader.close()
    throw err
  }
}
