import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LabError } from './errors.ts'
import type { LabSettings } from './settings.ts'

/** The folder holding the Kafka, MirrorMaker 2 and logging jars, for `java -cp '<libs>/*'`. */
export function libsDir (settings: LabSettings): string {
  return join(settings.cache, 'libs')
}

function requireTool (command: string, args: string[], what: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new LabError(`${what} is required but "${command} ${args.join(' ')}" failed: ${probe.error?.message ?? probe.stderr.trim()}. ` +
      'Install Java 17+ and Apache Maven (Debian: apt-get install -y openjdk-17-jdk-headless maven).')
  }
}

/**
 * Fetches the jars once with Maven into the git-ignored cache; a marker file records a complete fetch, so an
 * interrupted one is redone rather than trusted.
 */
export function ensureJars (settings: LabSettings, log: (line: string) => void): string {
  const libs = libsDir(settings)
  const marker = join(settings.cache, '.complete')
  requireTool('java', ['-version'], 'Java')
  if (existsSync(marker) && existsSync(libs)) return libs
  requireTool('mvn', ['-v'], 'Maven')
  log(`fetching Kafka and MirrorMaker 2 jars with Maven into ${libs} (once)`)
  const pom = join(settings.root, 'lab', 'pom.xml')
  const run = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime',
    `-DoutputDirectory=${libs}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (run.status !== 0) {
    throw new LabError(`Maven could not fetch the Kafka jars (exit ${run.status}):\n${(run.stdout + run.stderr).trim().split('\n').slice(-20).join('\n')}`)
  }
  if (!readdirSync(libs).some(f => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new LabError(`Maven finished but no kafka_2.13 jar is in ${libs}`)
  }
  writeFileSync(marker, new Date().toISOString() + '\n')
  return libs
}
