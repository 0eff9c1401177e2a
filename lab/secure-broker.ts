import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LabError } from './errors.ts'
import { writeLog4j } from './configs.ts'
import { ensureJars } from './jars.ts'
import { runJava, startJava, stopProcess, waitForLog, type JavaProcess } from './processes.ts'
import type { LabSettings } from './settings.ts'

/** A running single-node broker with a SASL_SSL listener, and what a client needs to reach it. */
export interface SecureBroker {
  /** host:port of the SASL_SSL listener (TLS, then SCRAM-SHA-512). */
  readonly bootstrap: string
  /** host:port of a PLAINTEXT listener, for the test's own setup (topics, records). */
  readonly plainBootstrap: string
  /** PEM file of the CA that signed the broker's certificate. */
  readonly caFile: string
  /** PEM file of another CA, which did not sign it (an untrusted certificate, seen from a client trusting it). */
  readonly otherCaFile: string
  readonly username: string
  readonly password: string
  stop (): Promise<void>
}

export interface SecureBrokerOptions {
  /** Folder for its certificates, config, data and log; emptied first. */
  readonly dir: string
  readonly port: number
  readonly plainPort: number
  readonly controllerPort: number
}

function openssl (dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: Buffer, message: string }
    throw new LabError(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message} (Debian: apt-get install -y openssl)`, { cause: err })
  }
}

/**
 * Makes a CA and a broker certificate for 127.0.0.1 signed by it (PKCS#12 keystore for Kafka), plus a second,
 * unrelated CA; returns the keystore password.
 */
function makeCertificates (dir: string): string {
  const pass = randomBytes(12).toString('hex')
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=concord lab ${ca}`])
  }
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(dir, ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.ext'])
  openssl(dir, ['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker', '-out', 'broker.p12', '-passout', `pass:${pass}`])
  return pass
}

/**
 * Starts a single-node KRaft broker beside the lab's two, with a SASL_SSL listener: TLS with a certificate
 * signed by a CA made at start, and SCRAM-SHA-512 with a user created at start (bootstrapped into the
 * metadata when the storage is formatted). A PLAINTEXT listener serves the test's own setup. Stop it with
 * `stop()`; the lab's `down` does not know it.
 */
export async function startSecureBroker (settings: LabSettings, options: SecureBrokerOptions, log: (line: string) => void): Promise<SecureBroker> {
  const libs = ensureJars(settings, log)
  const { dir } = options
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'data'), { recursive: true })
  const keystorePass = makeCertificates(dir)
  const username = 'concord'
  const password = randomBytes(12).toString('hex')
  const file = join(dir, 'server.properties')
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${options.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${options.plainPort},SASL_SSL://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.plainPort},SASL_SSL://127.0.0.1:${options.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': join(dir, 'broker.p12'),
    'ssl.keystore.password': keystorePass,
    'ssl.key.password': keystorePass,
    'ssl.client.auth': 'none',
    'log.dirs': join(dir, 'data'),
    'auto.create.topics.enable': false,
    'num.partitions': settings.partitions,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 2,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 2
  }
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${String(v).replaceAll('\\', '\\\\')}`).join('\n') + '\n')
  const log4j = writeLog4j({ ...settings, dir })
  const tag = dir
  const id = randomBytes(16).toString('base64url').replace(/^-/, 'A')
  await runJava({
    name: 'format secure broker',
    libs,
    mainClass: 'kafka.tools.StorageTool',
    args: ['format', '-t', id, '-c', file, '--add-scram', `SCRAM-SHA-512=[name=${username},password=${password}]`],
    heap: '256m',
    log4j,
    tag
  })
  const broker: JavaProcess = startJava({ name: 'secure broker', libs, mainClass: 'kafka.Kafka', args: [file], heap: settings.brokerHeap, log4j, log: join(dir, 'broker.log'), tag })
  const stop = async (): Promise<void> => { await stopProcess(broker.pid, tag) }
  try {
    await waitForLog(broker, tag, /Kafka Server started/, settings.readyTimeoutMs)
  } catch (err) {
    await stop()
    throw err
  }
  log(`secure broker up: SASL_SSL 127.0.0.1:${options.port}, PLAINTEXT 127.0.0.1:${options.plainPort}`)
  return {
    bootstrap: `127.0.0.1:${options.port}`,
    plainBootstrap: `127.0.0.1:${options.plainPort}`,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    username,
    password,
    stop
  }
}
