import type { Config } from './config/schema.ts'
import { startHttp } from './http/server.ts'
import { connectAdmin } from './kafka/admin.ts'
import type { ClientOptions } from './kafka/client.ts'
import { connectConsumer } from './kafka/consumer.ts'
import { connectProducer } from './kafka/producer.ts'
import { createLogger, type Logger } from './log/logger.ts'
import { Metrics } from './metrics/metrics.ts'
import { MAX_UNSENT_RECORDS } from './processor/background-flush.ts'
import { Engine } from './processor/engine.ts'
import { OutboxFlusher } from './processor/outbox.ts'
import { planTopics } from './processor/plan.ts'
import { Processor } from './processor/processor.ts'
import { openDatabase } from './store/open.ts'
import { SqliteStateStore } from './store/sqlite-state-store.ts'

export interface Running {
  readonly httpPort: number
  /** Finishes the batch in progress, commits, flushes output, closes everything. */
  stop (): Promise<void>
}

/** The composition root: config -> store -> kafka -> processor -> http. */
export async function run (config: Config, log: Logger = createLogger(config.log.level, { dc: config.dc })): Promise<Running> {
  const store = new SqliteStateStore(openDatabase(config.store))
  const plans = planTopics(config, name => store.topicId(name))
  const kafkaLog = log.child({ component: 'kafka' })
  const client: ClientOptions = {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    onLog: (level, message, extra) => kafkaLog[level](extra, message)
  }
  const metrics = new Metrics({ maxUnsentRecords: MAX_UNSENT_RECORDS })
  const admin = await connectAdmin(client)
  const producer = await connectProducer(client)
  const processor = new Processor({
    plans,
    engine: new Engine(store, plans),
    store,
    outbox: new OutboxFlusher(store, producer, records => metrics.countEmitted(records)),
    admin,
    newConsumer: () => connectConsumer({ ...client, groupId: config.kafka.groupId }),
    metrics,
    log: log.child({ component: 'processor' })
  })
  const http = await startHttp(config.http.host, config.http.port, {
    metrics: async () => ({ body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
    ready: () => processor.ready
  })
  await processor.start()
  log.info({ dc: config.dc, peers: config.peers, topics: [...plans.inputs.keys()], http: http.port, store: config.store.dir }, 'concord running')
  return {
    httpPort: http.port,
    async stop () {
      await processor.stop()
      await Promise.all([producer.close(), admin.close()])
      await new Promise<void>(resolve => http.server.close(() => resolve()))
      store.close()
      log.info({}, 'concord stopped')
    }
  }
}
