import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ClockError } from '../../src/errors.ts'
import { HybridClock, type HlcTime } from '../../src/model/hlc.ts'

// The oracle's order on times, written apart from src/model/hlc.ts's compareHlc.
const after = (a: HlcTime, b: HlcTime): boolean => a.ts > b.ts || (a.ts === b.ts && a.counter > b.counter)

type Step =
  | { readonly kind: 'tick', readonly deltaMs: number }
  | { readonly kind: 'now' }
  | { readonly kind: 'observe', readonly aheadMs: number, readonly counter: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  // Mostly forward, sometimes backwards, sometimes by more than the maximum offset.
  fc.record({ kind: fc.constant('tick' as const), deltaMs: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: -1500, max: 1500 })) }),
  fc.constant({ kind: 'now' as const }),
  fc.constant({ kind: 'now' as const }),
  fc.record({ kind: fc.constant('observe' as const), aheadMs: fc.integer({ min: -2000, max: 900 }), counter: fc.integer({ min: 0, max: 5 }) })
)

const MAX = 500

/** Runs the steps; returns every time given, with the physical reading at the time, and every time observed. */
function run (steps: readonly Step[]): { given: Array<{ t: HlcTime, pt: number }>, observed: HlcTime[], refused: number } {
  let pt = 1_700_000_000_000
  const clock = new HybridClock({ physical: () => pt, maxOffsetMs: MAX })
  const given: Array<{ t: HlcTime, pt: number }> = []
  const observed: HlcTime[] = []
  let refused = 0
  for (const s of steps) {
    const before = clock.last
    try {
      if (s.kind === 'tick') pt += s.deltaMs
      else if (s.kind === 'now') given.push({ t: clock.now(), pt })
      else {
        const remote = { ts: pt + s.aheadMs, counter: s.counter }
        clock.observe(remote)
        observed.push(remote)
      }
    } catch (err) {
      assert.ok(err instanceof ClockError, `only ClockError is thrown, got ${String(err)}`)
      assert.deepEqual(clock.last, before, 'a refused call leaves the clock as it was')
      refused++
    }
  }
  return { given, observed, refused }
}

describe('the hybrid logical clock', () => {
  it('gives each time later than every time it gave or observed before, whatever the physical clock does', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), steps => {
      let pt = 1_700_000_000_000
      const clock = new HybridClock({ physical: () => pt, maxOffsetMs: MAX })
      let greatest: HlcTime = { ts: 0, counter: 0 }
      for (const s of steps) {
        try {
          if (s.kind === 'tick') pt += s.deltaMs
          else if (s.kind === 'now') {
            const t = clock.now()
            assert.ok(after(t, greatest), `${t.ts}:${t.counter} is not after ${greatest.ts}:${greatest.counter}`)
            greatest = t
          } else {
            const remote = { ts: pt + s.aheadMs, counter: s.counter }
            clock.observe(remote)
            if (after(remote, greatest)) greatest = remote
          }
        } catch (err) {
          if (!(err instanceof ClockError)) throw err
        }
      }
    }), { numRuns: 500 })
  })

  it('never gives a time behind its physical clock or more than the maximum offset ahead of it', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), steps => {
      for (const { t, pt } of run(steps).given) {
        assert.ok(t.ts >= pt, `${t.ts} is behind the physical clock ${pt}`)
        assert.ok(t.ts <= pt + MAX, `${t.ts} is ${t.ts - pt} ms ahead of the physical clock`)
        assert.ok(Number.isSafeInteger(t.counter) && t.counter >= 0)
      }
    }), { numRuns: 500 })
  })

  it('counts up within one millisecond and starts the counter again when the physical clock moves on', () => {
    let pt = 1000
    const clock = new HybridClock({ physical: () => pt })
    assert.deepEqual([clock.now(), clock.now(), clock.now()], [{ ts: 1000, counter: 0 }, { ts: 1000, counter: 1 }, { ts: 1000, counter: 2 }])
    pt = 1001
    assert.deepEqual(clock.now(), { ts: 1001, counter: 0 })
  })

  it('rides out a step backwards within the maximum offset on the counter', () => {
    let pt = 10_000
    const clock = new HybridClock({ physical: () => pt, maxOffsetMs: 500 })
    clock.now()
    pt = 9_600
    assert.deepEqual(clock.now(), { ts: 10_000, counter: 1 })
    pt = 10_002
    assert.deepEqual(clock.now(), { ts: 10_002, counter: 0 })
  })

  it('refuses to stamp once the physical clock stepped back further than the maximum offset, and recovers when it catches up', () => {
    let pt = 10_000
    const clock = new HybridClock({ physical: () => pt, maxOffsetMs: 500 })
    clock.now()
    pt = 9_000
    assert.throws(() => clock.now(), (err: unknown) => err instanceof ClockError && err.retriable &&
      /1000 ms ahead of the physical clock \(9000\), more than the maximum offset of 500 ms/.test(err.message))
    pt = 9_600
    assert.deepEqual(clock.now(), { ts: 10_000, counter: 1 })
  })

  it('refuses to observe a time further ahead than the maximum offset, and follows one within it', () => {
    const pt = 10_000
    const clock = new HybridClock({ physical: () => pt, maxOffsetMs: 500 })
    assert.throws(() => clock.observe({ ts: 10_501, counter: 0 }), ClockError)
    clock.observe({ ts: 10_400, counter: 7 })
    assert.deepEqual(clock.now(), { ts: 10_400, counter: 8 })
  })

  it('continues after the high-water mark of an earlier run, and refuses one further ahead than the bound', () => {
    let pt = 5_000
    const first = new HybridClock({ physical: () => pt })
    first.now()
    first.now()
    const mark = first.last
    const second = new HybridClock({ physical: () => pt, start: mark })
    assert.ok(after(second.now(), mark))
    pt = 4_000
    assert.throws(() => new HybridClock({ physical: () => pt, start: mark, maxOffsetMs: 500 }),
      (err: unknown) => err instanceof ClockError && /high-water mark of an earlier run/.test(err.message))
  })

  it('refuses exactly the calls that would break the bound in a mixed run', () => {
    const steps: Step[] = [{ kind: 'now' }, { kind: 'tick', deltaMs: -1000 }, { kind: 'now' }, { kind: 'observe', aheadMs: 600, counter: 0 }]
    assert.equal(run(steps).refused, 2)
  })
})
