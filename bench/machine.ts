import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

/** What every figure is reported with: the machine, the runtime, and the time of the run. */
export function machine (): Record<string, string | number> {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString()
  }
}

export function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Nearest-rank percentile of a sorted array. */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** Columns right-aligned, but those named in `left` (text that reads better from the left). */
export function table (rows: ReadonlyArray<Record<string, string | number>>, left: readonly string[] = []): string {
  if (rows.length === 0) return ''
  const cols = Object.keys(rows[0]!)
  const cell = (v: string | number | undefined): string => typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : String(v ?? '')
  const widths = cols.map(c => Math.max(c.length, ...rows.map(r => cell(r[c]).length)))
  const line = (vals: string[]): string => vals.map((v, i) => left.includes(cols[i]!) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)).join('  ').trimEnd()
  return [line(cols), line(widths.map(w => '-'.repeat(w))), ...rows.map(r => line(cols.map(c => cell(r[c]))))].join('\n')
}

/** Peak resident set size (VmHWM) of a process, MiB; NaN when it cannot be read. */
export function peakRssMiB (pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1]) / 1024
  } catch {
    return NaN
  }
}

let clockTicks: number | undefined
/** USER_HZ, the unit of /proc/<pid>/stat times: `getconf CLK_TCK`, 100 on Linux as a fallback. */
function ticksPerSecond (): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    const n = Number(out.stdout?.trim())
    clockTicks = out.status === 0 && Number.isInteger(n) && n > 0 ? n : 100
  }
  return clockTicks
}

/** utime + stime of a process, all its threads, in seconds; NaN when it cannot be read. */
export function cpuSeconds (pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name, field 2, is in parentheses and may hold spaces: count fields after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond()
  } catch {
    return NaN
  }
}
