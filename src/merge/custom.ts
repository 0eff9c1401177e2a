import { ConfigError, PolicyError } from '../errors.ts'
import { compareStamps, compareUtf8, type Stamp } from '../model/stamp.ts'
import { Type } from '../schema/schema.ts'
import type { Absorbed, MergePolicy, Merger, Resolved, ValueCodec, Write } from './policy.ts'
import { readStamp, stampBytes, stampSize, writeStamp } from './stamp-codec.ts'
import { decodedView, stampView, toJson, type StateDescription } from './state-description.ts'

/**
 * A custom merge policy (`policy: { type: custom, module: ./config/policies/tags.js }`): a user module,
 * loaded at start-up (src/plugin/load-modules.ts), merges decoded values. It exports two functions:
 *
 *   absorb(state, write) -> state   state: S, or undefined for an entity's first write;
 *                                   write: { dc, ts, counter, eventId, value }, value the decoded value,
 *                                   or null for a delete
 *   resolve(state) -> value         the merged value (plain data the topic's codec encodes), or null
 *                                   for "deleted"
 *
 * and may export a third, for the state query (`GET /v1/state`, `concord inspect`):
 *
 *   describe(state) -> data         the state as people should read it (JSON data), pure like the others;
 *                                   without it (or when it throws or returns what JSON cannot hold) the
 *                                   query shows the state itself, as JSON when it can, else base64
 *
 * The module's contract, which concord cannot prove and `lawViolations` (laws.ts) tests on histories:
 *   - absorb is a join: commutative, associative and idempotent over writes (any order, duplication or
 *     batch split gives a state that resolves alike), deletes included; resolve is a function of the state;
 *   - both are pure: no clock, no I/O, no randomness, no module-level state; they do not mutate arguments;
 *   - S is plain data the topic's codec (msgpack or json) round-trips, built in a canonical order (sorted
 *     keys and lists), so that equal states encode to equal bytes and equal values resolve to equal bytes.
 *
 * What concord adds around it:
 *   - the state absorb receives is the one it returned, as the codec decodes it, deeply frozen: the same
 *     whether or not the entity was reloaded from the store in between, and a mutation throws;
 *   - a write is rejected (dead-lettered with the reason) when absorb throws or returns undefined, when its
 *     state cannot be encoded, when resolve fails on that state, or when its value decodes to null (a
 *     custom policy could not tell it from a delete). Resolving every new state as it is made keeps a
 *     module's failure on one write from stopping the partition: resolving at commit uses that result;
 *   - the state also holds the greatest stamp absorbed per DC (bounded by the DCs): the resolution's
 *     `sources`. A write that changes neither is a duplicate (same stamp) or stale (older);
 *   - the merged value is always a built one: no origin, and no conflicts are reported. A deleted entity
 *     has no tombstone stamp, so garbage collection never purges custom entities.
 * resolve fails at commit only on a state read from the store that resolved when it was stored: the module
 * changed or is impure. That throws PolicyError: the batch is not committed and is retried, so the partition
 * stops there, loudly, until the module is fixed, rather than emit a value the DCs may not agree on.
 * The store knows every custom module as state format `custom`: a new module on a topic with state must
 * read its predecessor's states.
 */
export interface CustomWrite<V = unknown> {
  readonly dc: string
  readonly ts: number
  readonly counter: number
  readonly eventId: string
  readonly value: V | null
}

/** What a custom policy module exports (a TypeScript module may declare itself as one). */
export interface CustomPolicyModule<S = unknown, V = unknown> {
  absorb (state: S | undefined, write: CustomWrite<V>): S
  resolve (state: S): unknown
  /** Optional: the state as JSON data for the state query; the state itself is shown without it. */
  describe? (state: S): unknown
}

/** The merger's state: the user's state and the greatest stamp absorbed per DC, in DC byte order. */
export interface CustomState {
  readonly user: unknown
  readonly sources: readonly Stamp[]
}

export const custom: MergePolicy = {
  name: 'custom',
  options: Type.Object({
    module: Type.String({
      expected: 'a path to a JavaScript or TypeScript module',
      description: 'the module exporting `absorb` and `resolve`, relative to the working directory'
    })
  }),
  bind (options, context): Merger<CustomState> {
    const name = String(options.module)
    const problems: string[] = []
    if (context.codec.name === 'raw') {
      problems.push(`"${context.path.replace(/\.policy$/, '')}.codec" must be msgpack or json for policy custom (it decodes values and encodes its state), got raw`)
    }
    const loaded = context.modules.get(name)
    const mod = context.modules.has(name) ? shapeOf(loaded) : undefined
    if (mod === undefined || typeof mod === 'string') {
      const got = mod === undefined ? `"${name}", which was not loaded at start-up` : `"${name}", ${mod}`
      problems.push(`"${context.path}.module" must be a module exporting the functions absorb(state, write) and resolve(state), got ${got}`)
    }
    if (problems.length > 0 || mod === undefined || typeof mod === 'string') throw new ConfigError(problems)
    return customMerger(name, mod, context.codec)
  }
}

/** The module as a policy module, or what it exports instead. */
function shapeOf (mod: unknown): CustomPolicyModule | string {
  if (mod === null || typeof mod !== 'object') return `which is ${mod === null ? 'null' : typeof mod}, not a module`
  const m = mod as Record<string, unknown>
  if (m.describe !== undefined && typeof m.describe !== 'function') return `exporting describe (${typeof m.describe}), which must be a function when exported`
  if (typeof m.absorb === 'function' && typeof m.resolve === 'function') return m as unknown as CustomPolicyModule
  const exported = Object.keys(m).map(k => `${k} (${typeof m[k]})`)
  const byDefault = m.default !== null && typeof m.default === 'object' && 'absorb' in m.default
  return `exporting ${exported.length === 0 ? 'nothing' : exported.join(', ')}` +
    (byDefault ? ' (export absorb and resolve by name, not in a default object)' : '')
}

function customMerger (name: string, mod: CustomPolicyModule, codec: ValueCodec): Merger<CustomState> {
  const fail = (what: string, err: unknown): string => `custom policy ${name}: ${what}: ${err instanceof Error ? err.message : String(err)}`
  /** Per state object (never changed once made): the user state's bytes and, once known, its resolution. */
  const known = new WeakMap<CustomState, { bytes: Buffer, resolved?: Resolved }>()
  const userBytes = (s: CustomState): Buffer => {
    let k = known.get(s)
    if (k === undefined) known.set(s, k = { bytes: codec.encode(s.user) })
    return k.bytes
  }
  /** The user's resolution of a state; throws what resolve threw or a description of what it returned. */
  const resolveUser = (s: CustomState): Resolved => {
    const v = mod.resolve(s.user)
    if (v === undefined) throw new PolicyError('resolve returned undefined (it must return the merged value, or null for deleted)')
    const sources = [...s.sources].sort(compareStamps)
    return { value: v === null ? null : codec.encode(v), origin: undefined, sources, tombstone: undefined }
  }

  return {
    policy: 'custom',
    stateFormat: 'custom',
    decodesValues: true,
    absorb (state, write: Write): Absorbed<CustomState> {
      let value: unknown = null
      try {
        if (write.value !== null) value = write.decoded !== undefined ? write.decoded : codec.decode(write.value)
      } catch (err) {
        return { outcome: 'rejected', reason: fail(`the value is not valid ${codec.name}`, err) }
      }
      if (write.value !== null && value === null) return { outcome: 'rejected', reason: `custom policy ${name}: the value decodes to null, which a custom policy cannot tell from a delete` }
      let next: unknown
      try {
        const { dc, ts, counter, eventId } = write.stamp
        next = mod.absorb(state?.user, Object.freeze({ dc, ts, counter, eventId, value }))
      } catch (err) {
        return { outcome: 'rejected', reason: fail('absorb threw', err) }
      }
      if (next === undefined) return { outcome: 'rejected', reason: `custom policy ${name}: absorb returned undefined (it must return the new state)` }
      let bytes: Buffer
      let user: unknown
      try {
        bytes = codec.encode(next)
        user = deepFreeze(codec.decode(bytes))
      } catch (err) {
        return { outcome: 'rejected', reason: fail(`absorb returned a state the ${codec.name} codec cannot encode`, err) }
      }
      const sources = withSource(state?.sources ?? [], write.stamp)
      if (state !== undefined && sources === state.sources && bytes.equals(userBytes(state))) {
        const held = state.sources.find(s => s.dc === write.stamp.dc)
        return { outcome: held !== undefined && compareStamps(write.stamp, held) === 0 ? 'duplicate' : 'stale' }
      }
      const made: CustomState = { user, sources }
      try {
        known.set(made, { bytes, resolved: resolveUser(made) })
      } catch (err) {
        return { outcome: 'rejected', reason: fail('resolve failed on the state after this write', err) }
      }
      return { outcome: 'applied', state: made, conflicts: [] }
    },
    resolve (state): Resolved {
      const k = known.get(state)
      if (k?.resolved !== undefined) return k.resolved
      try {
        const resolved = resolveUser(state)
        known.set(state, { bytes: k?.bytes ?? codec.encode(state.user), resolved })
        return resolved
      } catch (err) {
        throw new PolicyError(fail('resolve failed on a stored state that resolved when it was stored (has the module changed, or is it impure?)', err), { cause: err })
      }
    },
    encodeState: state => encodeCustomState(state.sources, userBytes(state)),
    decodeState (bytes) {
      const { sources, user } = decodeCustomState(bytes)
      const state: CustomState = { user: deepFreeze(codec.decode(user)), sources }
      known.set(state, { bytes: user })
      return state
    },
    describeState (state): StateDescription {
      const sources = [...state.sources].sort((a, b) => compareUtf8(a.dc, b.dc)).map(stampView)
      let describeError: string | undefined
      if (mod.describe !== undefined) {
        try {
          const described = toJson(mod.describe(state.user))
          if (described !== undefined) return { layout: 'custom', sources, state: { encoding: 'json', value: described }, describedBy: 'module' }
          describeError = `custom policy ${name}: describe returned what JSON cannot hold (bytes, a bigint, NaN, undefined or a class instance)`
        } catch (err) {
          describeError = fail('describe threw', err)
        }
      }
      const shown = decodedView(state.user, codec)
      return describeError === undefined
        ? { layout: 'custom', sources, state: shown, describedBy: 'state' }
        : { layout: 'custom', sources, state: shown, describedBy: 'state', describeError }
    }
  }
}

/** The sources with `stamp` taking its DC's slot if it is newer; the same array when it is not. */
function withSource (sources: readonly Stamp[], stamp: Stamp): readonly Stamp[] {
  const held = sources.find(s => s.dc === stamp.dc)
  if (held !== undefined && compareStamps(stamp, held) <= 0) return sources
  const { ts, counter, dc, eventId } = stamp
  return [...sources.filter(s => s !== held), { ts, counter, dc, eventId }].sort((a, b) => compareUtf8(a.dc, b.dc))
}

function deepFreeze (v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || Object.isFrozen(v)) return v
  Object.freeze(v)
  for (const x of Object.values(v)) deepFreeze(x)
  return v
}

/**
 * The encoded custom state, as the store keeps it:
 *
 *   u8 source count, then per source (in DC byte order):
 *     u8 dc length, dc (UTF-8), f64 ts (ms), f64 counter, u16 event id length, event id (UTF-8)
 *   then the user state encoded with the topic's codec, to the end;
 *   all big-endian.
 * The stamp layout is the sibling state's (stamp-codec.ts).
 */
export function encodeCustomState (sources: readonly Stamp[], user: Buffer): Buffer {
  const parts = sources.map(s => ({ s, bytes: stampBytes(s) }))
  const out = Buffer.allocUnsafe(1 + parts.reduce((n, p) => n + stampSize(p.bytes), 0) + user.length)
  let at = out.writeUInt8(parts.length, 0)
  for (const { s, bytes } of parts) at = writeStamp(out, at, s, bytes)
  user.copy(out, at)
  return out
}

export function decodeCustomState (bytes: Buffer): { sources: Stamp[], user: Buffer } {
  const count = bytes.readUInt8(0)
  let at = 1
  const sources: Stamp[] = []
  for (let i = 0; i < count; i++) {
    const read = readStamp(bytes, at)
    sources.push(read.stamp)
    at = read.at
  }
  return { sources, user: Buffer.from(bytes.subarray(at)) }
}
