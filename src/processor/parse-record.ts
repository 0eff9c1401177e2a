import { isUtf8 } from 'node:buffer'
import { RecordError } from '../errors.ts'
import { classify } from '../provenance/classify.ts'
import { headerString, type InRecord } from '../model/record.ts'
import type { Write } from '../merge/policy.ts'
import {
  contentEventId, H, MAX_EVENT_ID_BYTES, originTsFromValue, parseOriginTs, parseSuffixedKey, type OriginTs
} from '../wire/contract.ts'
import type { InputPlan } from './plan.ts'

export type Parsed =
  | { readonly kind: 'version', readonly entity: string, readonly version: Write }
  | { readonly kind: 'loop' }
  | { readonly kind: 'invalid', readonly error: RecordError }

// Made only for invalid records, which are rare: the error travels to the dead-letter topic, never thrown.
const invalid = (reason: string): Parsed => ({ kind: 'invalid', error: new RecordError(reason) })

/**
 * Reads one record against the wire contract (README, "Wire contract"). Pure: the same bytes give the same
 * answer in every datacenter, which is what makes dead-lettering and loop dropping agree everywhere.
 */
export function parseRecord (record: InRecord, input: InputPlan, localDc: string, dcs: ReadonlySet<string>): Parsed {
  const tc = input.plan.config
  if (record.key === null) return invalid('record has no key')
  if (!isUtf8(record.key)) return invalid('key is not valid UTF-8')
  const key = record.key.toString('utf8')

  let entity: string
  let keyDc: string | undefined
  if (tc.keyFormat === 'suffixed') {
    const parsed = parseSuffixedKey(key, tc.keySeparator, dcs)
    if (typeof parsed === 'string') return invalid(parsed)
    entity = parsed.entity
    keyDc = parsed.dc
  } else {
    if (key === '') return invalid('key is empty')
    entity = key
  }

  const headerDc = headerString(record.headers, H.originDc)
  if (headerDc !== undefined && !dcs.has(headerDc)) return invalid(`${H.originDc} "${headerDc}" is not a configured DC (${[...dcs].join(', ')})`)
  if (headerDc !== undefined && keyDc !== undefined && headerDc !== keyDc) {
    return invalid(`${H.originDc} "${headerDc}" disagrees with the key's DC suffix "${keyDc}"`)
  }
  const writer = headerDc ?? keyDc
  if (writer === undefined) return invalid(`no writer DC: the key is plain and there is no ${H.originDc} header`)

  const provenance = classify(writer, input.sourceDc, localDc, input.topic)
  if (provenance === 'loop') return { kind: 'loop' }
  if (provenance !== 'accept') return invalid(provenance)

  const value = record.value
  if (value !== null && value.length > tc.maxValueBytes) {
    return invalid(`value of ${value.length} bytes exceeds maxValueBytes (${tc.maxValueBytes})`)
  }

  if (input.plan.validate !== undefined && value !== null) {
    const reason = input.plan.validate(value)
    if (reason !== undefined) return invalid(`value is not valid ${tc.codec}: ${reason}`)
  }

  let decoded: unknown
  if (input.plan.decode !== undefined && value !== null) {
    try {
      decoded = input.plan.decode(value)
    } catch (err) {
      return invalid(`value is not valid ${tc.codec}: ${(err as Error).message}`)
    }
  }

  let time: OriginTs | string
  const headerTs = headerString(record.headers, H.originTs)
  switch (tc.timestampSource) {
    case 'header':
      time = headerTs === undefined ? `no ${H.originTs} header` : parseOriginTs(headerTs)
      break
    case 'value':
      if (value === null) {
        // A tombstone has no fields: its time must come from the header.
        time = headerTs === undefined ? `a delete needs an ${H.originTs} header when timestamps come from the value` : parseOriginTs(headerTs)
      } else if (decoded === null || typeof decoded !== 'object') {
        time = `value is not a ${tc.codec} map, so it has no "${tc.timestampField}" field`
      } else {
        time = originTsFromValue((decoded as Record<string, unknown>)[tc.timestampField])
      }
      break
    case 'kafka': {
      // -1 is Kafka's "no timestamp".
      const ts = Number(record.timestamp)
      time = Number.isSafeInteger(ts) && ts >= 0 ? { ts, counter: 0 } : `Kafka record timestamp ${record.timestamp} is not a time`
      break
    }
  }
  if (typeof time === 'string') return invalid(time)

  const eventId = headerString(record.headers, H.eventId) ?? contentEventId(record.key, value)
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short ids skip the byte count.
  if (eventId.length > MAX_EVENT_ID_BYTES / 3 && Buffer.byteLength(eventId) > MAX_EVENT_ID_BYTES) {
    return invalid(`${H.eventId} of ${Buffer.byteLength(eventId)} bytes exceeds ${MAX_EVENT_ID_BYTES}`)
  }

  const stamp = { ts: time.ts, counter: time.counter, dc: writer, eventId }
  return { kind: 'version', entity, version: decoded === undefined ? { stamp, value } : { stamp, value, decoded } }
}
