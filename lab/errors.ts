import { ConcordError } from '../src/errors.ts'

/** The two-datacenter lab could not be set up, started or stopped. A development tool's error, not concord's. */
export class LabError extends ConcordError {
  static override readonly code = 'CONCORD_ERR_LAB'
}
