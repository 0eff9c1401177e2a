import { ConcordError } from '../src/errors.ts'
import { down, status, up } from './lab.ts'
import { labSettings } from './settings.ts'

const USAGE = `usage: npm run lab -- <up|down|status|reset>
  up      fetch the jars if needed, start dc1, dc2 and MirrorMaker 2, create the demo topics, wait for replication
  down    stop everything the lab started and remove its run folder
  status  show the lab's processes; exit 1 when it is not fully up
  reset   down, then up (fresh, empty clusters)
settings come from LAB_* environment variables; see lab/settings.ts or the README`

const log = (line: string): void => { console.log(`lab: ${line}`) }

async function main (command: string | undefined): Promise<number> {
  const settings = labSettings()
  switch (command) {
    case 'up': await up(settings, log); return 0
    case 'down': await down(settings, log); return 0
    case 'reset': await down(settings, log); await up(settings, log); return 0
    case 'status': {
      const s = status(settings)
      for (const line of s.lines) console.log(line)
      return s.up ? 0 : 1
    }
    default:
      console.error(command === undefined ? USAGE : `unknown lab command "${command}"\n${USAGE}`)
      return 2
  }
}

main(process.argv[2]).then(code => { process.exitCode = code }, (err: unknown) => {
  console.error(err instanceof ConcordError ? `lab: ${err.message} [${err.code}]` : err)
  process.exitCode = 1
})
