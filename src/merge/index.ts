import { counter } from './counter.ts'
import { custom } from './custom.ts'
import { dcPriority } from './dc-priority.ts'
import { max, min } from './extremum.ts'
import { lww } from './lww.ts'
import { lwwFields } from './lww-fields.ts'
import type { MergePolicy } from './policy.ts'
import { union } from './union.ts'

/** The registry of merge policies by the name used in configuration (`topics[].policy`). */
export const policies: ReadonlyMap<string, MergePolicy> = new Map(
  [lww, lwwFields, counter, max, min, union, dcPriority, custom].map(p => [p.name, p]))
