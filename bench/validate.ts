import { checkMsgpack } from '../src/codec/msgpack-check.ts'
import { decodeMsgpack, encodeMsgpack } from '../src/codec/msgpack.ts'
import { machine, median, table } from './machine.ts'

/**
 * What `validateValues` costs per record: the msgpack structural check against a full msgpack-lite decode
 * (what the check replaced) and against JSON.parse of the same document as JSON (what the json validator
 * does, from the bytes). One ~150-byte order document (a map of 8 fields, one an array of two small maps); each candidate runs ITERATIONS
 * times per round after a warm-up, and the median round is reported.
 *
 *   node_modules/.bin/node bench/validate.ts [iterations]
 */

const ITERATIONS = Number(process.argv[2] ?? 200_000)
const ROUNDS = 3

const order = {
  orderId: 'ord-000123',
  customer: 'cust-88412',
  status: 'confirmed',
  currency: 'EUR',
  total: 1234.5,
  lines: [{ sku: 'A-4411', qty: 2 }, { sku: 'B-0093', qty: 1 }],
  updatedAt: 1718000000123,
  region: 'eu-west'
}
const msgpackBytes = encodeMsgpack(order)
const jsonBytes = Buffer.from(JSON.stringify(order))
if (checkMsgpack(msgpackBytes) !== undefined) throw new Error('the order document does not pass the check')

// Results are kept in a sink so that no candidate's work can be optimised away.
let sink = 0
const candidates: Record<string, () => void> = {
  checkMsgpack: () => { sink += checkMsgpack(msgpackBytes) === undefined ? 1 : 0 },
  'msgpack-lite decode': () => { sink += decodeMsgpack(msgpackBytes) === null ? 0 : 1 },
  'JSON.parse (from bytes)': () => { sink += JSON.parse(jsonBytes.toString('utf8')) === null ? 0 : 1 }
}

function round (run: () => void): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) run()
  return Number(process.hrtime.bigint() - start) / 1000 / ITERATIONS
}

const rows = Object.entries(candidates).map(([name, run]) => {
  round(run)
  const us = median(Array.from({ length: ROUNDS }, () => round(run)))
  return { candidate: name, bytes: name.startsWith('JSON') ? jsonBytes.length : msgpackBytes.length, 'µs per value': us }
})
const fastest = Math.min(...rows.map(r => r['µs per value']))

console.log(Object.entries(machine()).map(([k, v]) => `${k}: ${v}`).join(', '))
console.log(`${ITERATIONS.toLocaleString('en-US')} iterations per round, median of ${ROUNDS} rounds\n`)
console.log(table(rows.map(r => ({ ...r, 'µs per value': r['µs per value'].toFixed(3), 'vs fastest': `${(r['µs per value'] / fastest).toFixed(1)}x` }))))
if (sink < 0) console.log(sink)
