import { loadConfig } from '../config/load.ts'
import { policies } from '../merge/index.ts'
import type { Options } from './args.ts'
import { describeDeadLetter, dlqList, dlqReplay, type DeadLetter } from './dlq.ts'
import { describeProgress, rebuild } from './rebuild.ts'
import { describeReset, parseResetTarget, resetOffsets } from './reset-offsets.ts'

type Out = (text: string) => void

/** A dead letter as JSON: bytes as UTF-8 text where they are valid UTF-8, else base64. */
function letterJson (d: DeadLetter): unknown {
  const text = (b: Buffer | null): unknown => {
    if (b === null) return null
    const s = b.toString('utf8')
    return Buffer.from(s, 'utf8').equals(b) ? s : { base64: b.toString('base64') }
  }
  return { dlq: d.dlq, source: d.source ?? null, stage: d.stage ?? null, errorClass: d.errorClass ?? null, reason: d.reason ?? null, dc: d.dc ?? null, key: text(d.key), value: text(d.value) }
}

/** `concord dlq list|replay`. */
export async function dlq (action: string, options: Options, out: Out): Promise<number> {
  const config = loadConfig({ file: options.config!, policies })
  if (action === 'list') {
    const letters = await dlqList(config, options.topics)
    out(options.json ? JSON.stringify(letters.map(letterJson), null, 2) : [...letters.map(describeDeadLetter), `${letters.length} dead letters`].join('\n'))
    return 0
  }
  const { replayable, refused } = await dlqReplay(config, options.topics, options.execute)
  if (options.json) {
    out(JSON.stringify({ executed: options.execute, replayed: replayable.map(letterJson), refused }, null, 2))
  } else {
    const lines = [...replayable.map(d => `${describeDeadLetter(d)}  -> ${d.source!.topic}:${d.source!.partition}`), ...refused.map(r => `skipped: ${r}`)]
    lines.push(options.execute
      ? `replayed ${replayable.length} dead letters to their input topics`
      : `dry run: ${replayable.length} dead letters would be replayed; run again with --execute to send them`)
    out(lines.join('\n'))
  }
  return 0
}

/** `concord reset-offsets`. */
export async function resetOffsetsCommand (options: Options, out: Out): Promise<number> {
  const target = parseResetTarget(options.to!)
  const config = loadConfig({ file: options.config!, policies })
  const { changes, missing } = await resetOffsets(config, target, options.execute)
  out(options.json ? JSON.stringify({ executed: options.execute, changes, missing }, null, 2) : describeReset(changes, missing, options.execute))
  return 0
}

/** `concord rebuild`: progress on stderr (a bar on a terminal), the summary on stdout. */
export async function rebuildCommand (options: Options, out: Out, progress: NodeJS.WriteStream = process.stderr): Promise<number> {
  const config = loadConfig({ file: options.config!, policies })
  const tty = progress.isTTY === true
  const result = await rebuild(config, p => { progress.write(describeProgress(p, tty) + (tty ? '' : '\n')) })
  if (tty) progress.write(describeProgress(result, true) + '\n')
  out(options.json
    ? JSON.stringify(result, null, 2)
    : [`rebuilt ${config.store.dir}: ${result.records.toLocaleString('en-US')} records in ${result.seconds.toFixed(1)} s, ${result.entities.toLocaleString('en-US')} entities`,
        ...result.digests.map(d => `  ${d.topic}: ${d.entities.toLocaleString('en-US')} entities, digest ${d.digest}`)].join('\n'))
  return 0
}
