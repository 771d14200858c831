/**
 * The warm engine port: what the job core needs from the pool of warm engines (src/engines/).
 * An engine is one long-running Spark application of one tenant, on one backend, that takes
 * that tenant's declarative jobs (training, scoring) one after another in-process; a job run
 * there skips Spark's start.
 *
 *   submit worker ── choose (auto: an engine the tenant has; warm: one, started if need be)
 *                 ── assign (the job joins its tenant's engine queue: ref batchId "engine")
 *   tracker       ── statusMany answers an engine job's ref from the pool (claimed, ended,
 *                    its engine gone) and the engines' own batches in the same one call
 *                 ── tick (engines' ends, idle stops, minimums)
 */
import type { BackendRef, JobRecord } from '../job-schema.js'
import type { BatchStatus, SparkBackend } from './spark-backend.js'

/** How a job uses warm engines: auto (one if the tenant has one), warm (wait for one), cold (never). */
export type EngineMode = 'auto' | 'warm' | 'cold'
export const ENGINE_MODES: readonly EngineMode[] = ['auto', 'warm', 'cold']

/** The batch id an engine job's ref carries until (and after) an engine claims it. */
export const ENGINE_BATCH = 'engine'

/** Whether a ref is a job's place in an engine rather than a batch of its own. */
export function isEngineRef(ref: Pick<BackendRef, 'batchId'> | undefined): boolean {
  return ref?.batchId === ENGINE_BATCH
}

/** What choose() decided: the engines' queue, a cold run, or wait (an engine is not to be had yet). */
export type EngineChoice = 'engine' | 'cold' | 'wait'

export interface EnginePool {
  /** Where a queued job runs: in its tenant's engines, cold, or not yet (warm, none can start). */
  choose(job: JobRecord): Promise<EngineChoice>
  /** The ref a job's attempt named `name` records when it goes to the engines. */
  assign(name: string): BackendRef
  /**
   * Puts the attempt in its tenant's engine queue (by `rank`, lowest first), once the job
   * recorded its ref: an engine takes only a job that is `submitted`. Again: a no-op.
   */
  enqueue(job: JobRecord, attempt: number, rank: number): Promise<void>
  /** Takes a job's attempt out of the engines (its engine died, it goes back to the queue). */
  release(job: JobRecord): Promise<void>
  /** The backend as the core sees it: engine refs answered by the pool, the rest by `backend`. */
  wrap(backend: SparkBackend): SparkBackend
  /** Whether the backend has engines that have not ended (the tracker asks it even with no job). */
  hasLive(backend: string): Promise<boolean>
  /** One tracker tick: engines' ends seen in `statuses`, idle stops, tenants' minimums. */
  tick(backend: string, statuses: Map<string, BatchStatus>): Promise<void>
}
