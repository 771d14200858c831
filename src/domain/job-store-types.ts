/** What the job store takes and answers (src/domain/job-store.ts). */
import type { Fields } from './job-codec.js'
import type { JobRecord } from './job-schema.js'
import type { JobState } from './job-state.js'

export type CreateResult =
  | {
      job: JobRecord
      created: boolean
      /** set when an Idempotency-Key matched a job created from a different body */
      conflict?: boolean
      /** when created: the tenant's jobs that had not ended before it */
      active?: number
    }
  /** the tenant has `active` jobs that have not ended: its quota */
  | { overQuota: number }
  /** a dataset the job reads is gone (deleted meanwhile) */
  | { missingDataset: string }

export interface ListQuery {
  /** one tenant's jobs; none: every tenant's (the platform admin) */
  tenant?: string
  state?: JobState
  backend?: string
  name?: string
  limit: number
  cursor?: string
}

export interface TransitionOptions {
  reason?: string
  /**
   * Move the job only while it is on this attempt (its `attempts`): an actor that read an
   * earlier attempt (a slow tracker tick, a worker's late retry) then changes nothing.
   */
  attempt?: number
  /** record an intermediate state (failed → queued for a retry) in the same update */
  via?: JobState
  set?: Fields
}
