/**
 * A job's lifecycle. Our state is separate from the backend's raw state (kept beside it
 * as `backendState`) and reconciled in one place, the tracker.
 *
 * ```
 * queued ─► staging ─► submitting ─► submitted ─► running ─► succeeded
 *   ▲  │        │  │         │  │          │  │        │  └──► failed ──(attempts left)──► queued
 *   │  │        │  │         │  └──────────┼──┼────────┼──────► failed (4xx from the backend, timeout)
 *   │  │        └──┴─────────┴─► queued    │  └────────┴──────► succeeded / failed (fast jobs)
 *   │  └────────┴──────────────┴───────────┴──────────┴──────► cancelled
 *   └── (transient backend fault while staging/submitting: back to the queue, retried with backoff)
 * ```
 * Terminal: succeeded, failed, cancelled. `failed → queued` is taken only in the same
 * atomic update that records the failure, so a client never sees a retried job as failed.
 */

export const JOB_STATES = [
  'queued',
  'staging',
  'submitting',
  'submitted',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const

export type JobState = (typeof JOB_STATES)[number]

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

/** States in which a job holds one of its backend's live slots (the per-backend cap). */
export const LIVE_STATES: readonly JobState[] = ['staging', 'submitting', 'submitted', 'running']

/** States in which the backend knows the job (the tracker follows these). */
export const TRACKED_STATES: readonly JobState[] = ['submitted', 'running']

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['staging', 'cancelled', 'failed'],
  staging: ['submitting', 'queued', 'failed', 'cancelled'],
  submitting: ['submitted', 'queued', 'failed', 'cancelled'],
  submitted: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: ['queued'],
  cancelled: [],
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state)
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to)
}

/** Thrown for a transition outside the table: a bug, never a client error. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`job ${jobId}: illegal transition ${from} → ${to}`)
    this.name = 'IllegalTransitionError'
  }
}

/** The transition was legal, but the job had already moved on (a lost race). */
export class StaleTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly expected: readonly JobState[],
    readonly actual: JobState | undefined,
  ) {
    super(`job ${jobId}: expected ${expected.join('|')}, found ${actual ?? 'nothing'}`)
    this.name = 'StaleTransitionError'
  }
}
