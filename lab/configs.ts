import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Datacenter, LabSettings } from './settings.ts'
import { flows } from './topology.ts'

/** Writes a Java properties file; values here never need escaping beyond backslashes. */
function writeProperties (file: string, entries: Record<string, string | number | boolean>): void {
  const body = Object.entries(entries).map(([k, v]) => `${k}=${String(v).replaceAll('\\', '\\\\')}`).join('\n')
  writeFileSync(file, body + '\n')
}

/** A single-node KRaft cluster (combined broker + controller), tuned for fast start on a small machine. */
export function writeBrokerConfig (settings: LabSettings, dc: Datacenter): string {
  const dir = join(settings.dir, dc.id)
  mkdirSync(join(dir, 'data'), { recursive: true })
  const file = join(dir, 'server.properties')
  writeProperties(file, {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${dc.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${dc.port},CONTROLLER://127.0.0.1:${dc.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${dc.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(dir, 'data'), // Kafka expands no variables: absolute path
    // Consumers of a missing topic must wait for it, not create it with the wrong partition count.
    'auto.create.topics.enable': false,
    'num.partitions': settings.partitions,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.retention.hours': 168,
    'log.segment.bytes': 256 * 1024 * 1024
  })
  return file
}

/**
 * MirrorMaker 2 in dedicated mode, one flow per ordered pair of DCs (dc1->dc2 and dc2->dc1; with three DCs
 * also dc1->dc3, dc3->dc1, dc2->dc3, dc3->dc2), DefaultReplicationPolicy (`orders` in dc1 is `dc1.orders`
 * elsewhere). Only source topics are replicated: never concord's outputs (`*.merged`, `*.dlq`, `*.conflicts`),
 * MM2's internal topics, or remote copies. The `dcN\..*` exclusions matter from three DCs on: MM2's cycle
 * check only stops `dc2.orders` going back to dc2, so without them flow dc1->dc3 would copy dc1's
 * `dc2.orders` into dc3 as `dc1.dc2.orders`, a second path for dc2's writes. MM2's `heartbeats` topics are
 * replicated by MM2 itself whatever the filter says: that is how it tracks its own liveness (with three DCs
 * this makes multi-hop copies such as `dc1.dc2.heartbeats`, which concord never reads).
 */
export function mirrorMakerProperties (settings: LabSettings): Record<string, string | number | boolean> {
  const rf = 1
  return {
    clusters: settings.dcs.map(d => d.id).join(','),
    ...Object.fromEntries(settings.dcs.map(d => [`${d.id}.bootstrap.servers`, d.bootstrap])),
    ...Object.fromEntries(flows(settings).map(([source, target]) => [`${source.id}->${target.id}.enabled`, true])),
    'replication.policy.class': 'org.apache.kafka.connect.mirror.DefaultReplicationPolicy',
    'replication.policy.separator': '.',
    topics: '.*',
    'topics.exclude': [
      '.*[\\-\\.]internal', '.*\\.replica', '__.*', 'mm2-.*',
      '.*\\.merged', '.*\\.dlq', '.*\\.conflicts',
      ...settings.dcs.map(d => `${d.id}\\..*`)
    ].join(','),
    'sync.topic.acls.enabled': false,
    'sync.group.offsets.enabled': false,
    'emit.checkpoints.enabled': false,
    'refresh.topics.interval.seconds': 2,
    'refresh.groups.interval.seconds': 600,
    'emit.heartbeats.interval.seconds': 1,
    'replication.factor': rf,
    'heartbeats.topic.replication.factor': rf,
    'checkpoints.topic.replication.factor': rf,
    'offset-syncs.topic.replication.factor': rf,
    'offset.storage.replication.factor': rf,
    'status.storage.replication.factor': rf,
    'config.storage.replication.factor': rf,
    'scheduled.rebalance.max.delay.ms': 0,
    'tasks.max': 2
  }
}

export function writeMirrorMakerConfig (settings: LabSettings): string {
  const file = join(settings.dir, 'mm2.properties')
  writeProperties(file, mirrorMakerProperties(settings))
  return file
}

/** reload4j configuration: INFO to stdout (the launcher sends stdout to the process's log file). */
export function writeLog4j (settings: LabSettings): string {
  const file = join(settings.dir, 'log4j.properties')
  writeProperties(file, {
    'log4j.rootLogger': 'INFO, stdout',
    'log4j.appender.stdout': 'org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout': 'org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern': '[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger': 'WARN',
    'log4j.logger.kafka.network.RequestChannel$': 'WARN',
    'log4j.logger.state.change.logger': 'WARN',
    'log4j.logger.kafka.log.LogCleaner': 'WARN',
    'log4j.logger.org.apache.kafka.common.config.AbstractConfig': 'WARN',
    'log4j.logger.org.apache.kafka.clients': 'WARN',
    'log4j.logger.org.reflections': 'ERROR'
  })
  return file
}
