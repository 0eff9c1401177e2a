import { runEngineCase, VARIANTS, type EngineCase } from './engine.ts'

/**
 * One engine benchmark case in a process of its own (started by runEngineCaseInChild in engine.ts), so that
 * the peak RSS it reports is the case's: the store, the engine and its commit window, with the workload
 * generated batch by batch. Log lines go to stdout as they come; the last stdout line is the result as JSON.
 *
 *   node bench/engine-case.ts '<EngineCase as JSON>'
 */
const c = JSON.parse(process.argv[2] ?? 'null') as EngineCase | null
if (c === null || typeof c !== 'object' || !Object.hasOwn(VARIANTS, c.variant)) {
  console.error(`usage: node bench/engine-case.ts '<EngineCase as JSON>' (see bench/engine.ts), got ${JSON.stringify(process.argv[2])}`)
  process.exit(2)
}
const result = runEngineCase(c, line => { console.log(line) })
console.log(JSON.stringify(result))
