/**
 * Every state has an owner and a deadline: the tracker's slow sweep (every few ticks).
 */
import type { JobStore } from '../domain/job-store.js'
import { StaleTransitionError } from '../domain/job-state.js'
import type { Backends, SparkBackend } from '../domain/ports/spark-backend.js'
import type { WorkerContext } from './queues.js'
import { batchName } from './submit-worker.js'

export interface DeadlineContext {
  store: JobStore
  backends: Backends
  log: Pick<WorkerContext['log'], 'warn'>
  /** how long a job may stay in staging/submitting (default 30 min) */
  submitDeadlineMs?: number
}

/**
 * Every state has an owner and a deadline. `staging`/`submitting` belong to a submit
 * worker, which retries transient faults; past the submit deadline the job fails with
 * SUBMIT_TIMEOUT (a batch found under its name is adopted instead), freeing its slot.
 * Jobs of a backend no tracker has had for that long (removed from every config) fail
 * with BACKEND_REMOVED instead of waiting forever.
 */
export async function enforceDeadlines(
  o: DeadlineContext,
  backendName: string,
  backend: SparkBackend,
) {
  const { store, log } = o
  const deadline = o.submitDeadlineMs ?? 30 * 60_000
  const now = await store.clock.fresh()
  for (const state of ['staging', 'submitting'] as const) {
    const ids = await store.idsInState(state, 1000)
    for (const job of await store.getMany(ids)) {
      if (job.backend !== backendName || job.state !== state) continue
      if (now - Date.parse(job.updatedAt) <= deadline) continue
      try {
        const ref =
          state === 'submitting'
            ? await backend.findByName(batchName(job.id, Math.max(1, job.attempts)))
            : undefined
        if (ref) {
          await store.transition(job, ['submitting'], 'submitted', {
            attempt: job.attempts,
            reason: `${backend.name} batch ${ref.batchId} (adopted at the submit deadline)`,
            set: { backendRef: ref, backendState: 'submitted' },
          })
          continue
        }
        await store.transition(job, [state], 'failed', {
          attempt: job.attempts,
          reason: 'SUBMIT_TIMEOUT',
          set: {
            error: {
              code: 'SUBMIT_TIMEOUT',
              message: `the job stayed ${state} longer than the submit deadline (${Math.round(deadline / 1000)} s): ${backend.name} kept failing or no worker took it`,
              logLines: [],
            },
          },
        })
        log.warn({ jobId: job.id, state }, 'job failed at the submit deadline')
      } catch (error) {
        if (!(error instanceof StaleTransitionError)) throw error
      }
    }
  }
  for (const removed of await store.marks.backendsUnseenSince(now - deadline)) {
    if (o.backends.byName.has(removed)) continue
    const live = await store.getMany(await store.liveIds(removed))
    const queued = (await store.getMany(await store.idsInState('queued', 1000))).filter(
      (j) => j.backend === removed,
    )
    for (const job of [...live, ...queued]) {
      await store
        .transition(job, [job.state], 'failed', {
          reason: 'BACKEND_REMOVED',
          set: {
            error: {
              code: 'BACKEND_REMOVED',
              message: `backend ${removed} is configured in no running gateway (unseen for ${Math.round(deadline / 1000)} s)`,
              logLines: [],
            },
          },
        })
        .catch((error: unknown) => {
          if (!(error instanceof StaleTransitionError)) throw error
        })
    }
  }
}
