import { down, isUp, up } from '../../lab/lab.ts'
import { labSettings } from '../../lab/settings.ts'

/**
 * The real-Kafka suite runs against the lab: dc1 and dc2 brokers and MirrorMaker 2 both ways. A lab that is
 * already up (`npm run lab -- up`) is reused and left running; otherwise this starts one and stops it after.
 */
const settings = labSettings()
let startedHere = false

export async function globalSetup (): Promise<void> {
  if (isUp(settings)) return
  await up(settings, line => { console.log(`lab: ${line}`) })
  startedHere = true
}

export async function globalTeardown (): Promise<void> {
  if (startedHere) await down(settings, line => { console.log(`lab: ${line}`) })
}
