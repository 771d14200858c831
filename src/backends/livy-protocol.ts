/**
 * What Livy and the backends that speak Livy's batch protocol (Azure Synapse) share: the
 * batch state words and their reading, and the shape of their logs (sections opened by a
 * `stdout:` / `stderr:` line).
 */
import type { Phase } from '../domain/ports/spark-backend.js'

export type LivyBatchState =
  | 'not_started'
  | 'starting'
  | 'recovering'
  | 'idle'
  | 'running'
  | 'busy'
  | 'shutting_down'
  | 'error'
  | 'dead'
  | 'killed'
  | 'success'

const PHASES: Record<LivyBatchState, Phase> = {
  not_started: 'pending',
  starting: 'pending',
  recovering: 'pending',
  idle: 'running',
  running: 'running',
  busy: 'running',
  shutting_down: 'running',
  success: 'succeeded',
  dead: 'failed',
  error: 'failed',
  killed: 'killed',
}

/** Our reading of a Livy batch state; an unknown word is still pending. */
export function livyPhase(state: string): Phase {
  return Object.hasOwn(PHASES, state) ? PHASES[state as LivyBatchState] : 'pending'
}

/** A log line worth keeping: not blank, not a section marker. */
export function livyLogLine(line: string): boolean {
  const l = line.trim()
  return l !== '' && l !== 'stdout:' && l !== 'stderr:'
}
