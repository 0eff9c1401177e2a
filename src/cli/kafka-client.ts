import { readKafkaSecurity } from '../config/kafka-security.ts'
import type { Config } from '../config/schema.ts'
import type { ClientOptions } from '../kafka/client.ts'

/**
 * The Kafka client of an operator command: the configured cluster, TLS and SASL, and few retries, so that a
 * command against an unreachable cluster fails within seconds.
 */
export const commandClient = (config: Config): ClientOptions =>
  ({ ...readKafkaSecurity(config.kafka), brokers: config.kafka.brokers, clientId: config.kafka.clientId, retries: 2 })
