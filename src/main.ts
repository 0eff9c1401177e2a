import { readKafkaSecurity } from './config/kafka-security.ts'
import type { Config } from './config/schema.ts'
import { startHttp } from './http/server.ts'
import { connectAdmin } from './kafka/admin.ts'
import type { ClientOptions } from './kafka/client.ts'
import { connectConsumer } from './kafka/consumer.ts'
import { connectProducer } from './kafka/producer.ts'
import { createLogger, type Logger } from './log/logger.ts'
import { Metrics } from './metrics/metrics.ts'
import { loadPolicyModules } from './plugin/load-modules.ts'
import { MAX_UNSENT_RECORDS } from './processor/background-flush.ts'
import { Engine } from './processor/engine.ts'
import { OutboxFlusher } from './processor/outbox.ts'
import { planTopics } from './processor/plan.ts'
import { Processor } from './processor/processor.ts'
import { StateQuery } from './query/state-query.ts'
import { SentAccounting } from './processor/sent-accounting.ts'
import { openDatabase } from './store/open.ts'
import { SqliteStateStore } from './store/sqlite-state-store.ts'

export interface Running {
  readonly httpPort: number
  /** Finishes the batch in progress, commits, flushes output, closes everything. */
  stop (): Promise<void>
}

/**
 * Loads the custom policy modules and binds every topic's policy, and reads the TLS and SASL files: the checks
 * beyond the file's own that `check-config` makes (a dc-priority order that misses a DC, a counter on raw
 * values, a bad module, a CA file that cannot be read).
 */
export async function checkPolicies (config: Config): Promise<void> {
  planTopics(config, () => 0, await loadPolicyModules(config))
  readKafkaSecurity(config.kafka)
}

/**
 * Retries of the first connection to the cluster (about 3 s against a refusing broker): an unreachable
 * cluster at start-up fails the start quickly, for the operator or the orchestrator to see.
 */
const STARTUP_RETRIES = 5

/**
 * The composition root: config -> store -> http -> kafka -> processor. The HTTP port is taken before Kafka is
 * reached, so a port in use fails at once. If any step fails, what the earlier steps opened is closed again,
 * newest first, and the error goes to the caller: no process is left running half-started.
 */
export async function run (config: Config, log: Logger = createLogger(config.log.level, { dc: config.dc })): Promise<Running> {
  const opened: Array<() => unknown> = []
  const closeOpened = async (): Promise<void> => {
    for (const close of opened.reverse()) await Promise.resolve().then(close).catch(() => {})
  }
  try {
    const modules = await loadPolicyModules(config)
    const store = new SqliteStateStore(openDatabase(config.store))
    opened.push(() => store.close())
    const plans = planTopics(config, (name, format) => store.topicId(name, format), modules)
    // A full commit window fits under the bound twice, so that producing one overlaps absorbing the next.
    const maxUnsentRecords = Math.max(MAX_UNSENT_RECORDS, 2 * config.store.windowRecords)
    const maxLagRecords = config.readiness.maxLagRecords
    const metrics = new Metrics({ maxUnsentRecords, maxLagRecords })
    // Until the processor exists; then its readiness (partitions assigned, state restored, lag within bound).
    let ready = (): boolean => false
    const http = await startHttp(config.http.host, config.http.port, {
      metrics: async () => ({ body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
      ready: () => ready(),
      state: new StateQuery(plans.topics, store)
    })
    opened.push(() => new Promise<void>(resolve => http.server.close(() => resolve())))
    const kafkaLog = log.child({ component: 'kafka' })
    const client: ClientOptions = {
      ...readKafkaSecurity(config.kafka),
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      onLog: (level, message, extra) => kafkaLog[level](extra, message)
    }
    const admin = await connectAdmin({ ...client, retries: STARTUP_RETRIES })
    opened.push(() => admin.close())
    const producer = await connectProducer(client)
    opened.push(() => producer.close())
    const sent = new SentAccounting(metrics, plans)
    const processor = new Processor({
      plans,
      engine: new Engine(store, plans),
      store,
      outbox: new OutboxFlusher(store, producer, records => sent.sent(records)),
      admin,
      newConsumer: () => connectConsumer({ ...client, groupId: config.kafka.groupId }),
      metrics,
      maxUnsentRecords,
      commitWindow: { intervalMs: config.store.commitIntervalMs, maxRecords: config.store.windowRecords },
      readiness: { maxLagRecords, lagIntervalMs: config.metrics.lagIntervalMs },
      skew: config.skew,
      log: log.child({ component: 'processor' })
    })
    ready = () => processor.ready
    opened.push(() => processor.stop())
    await processor.start()
    log.info({ peers: config.peers, topics: [...plans.inputs.keys()], http: http.port, store: config.store.dir }, 'concord running')
    return {
      httpPort: http.port,
      async stop () {
        // Whatever the processor's stop says (Kafka refusing the last output), everything else is closed, so
        // that no open server or socket keeps the process alive.
        try {
          await processor.stop()
        } finally {
          await Promise.allSettled([producer.close(), admin.close()])
          await new Promise<void>(resolve => http.server.close(() => resolve()))
          store.close()
        }
        log.info({}, 'concord stopped')
      }
    }
  } catch (err) {
    await closeOpened()
    throw err
  }
}
