import { lww } from './lww.ts'
import type { MergePolicy } from './policy.ts'

/** The registry of merge policies by the name used in configuration (`topics[].policy`). */
export const policies: ReadonlyMap<string, MergePolicy> = new Map([[lww.name, lww]])
