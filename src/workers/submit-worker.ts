/**
 * The submit worker: takes a queued job to `submitted`, exactly once.
 *
 *   queued ──(a live slot of the backend is free)──► staging ──► submitting ──► submitted
 *
 * - Priority: BullMQ hands out waiting jobs by priority (1 first).
 * - Cap: a job that finds its backend at its cap goes back to the queue, and the
 *   backend's queue pauses briefly (BullMQ's manual rate limit), so jobs wait in the
 *   queue, not on the cluster.
 * - Transient backend faults (refused, timeouts, 5xx, 429) throw: BullMQ retries with
 *   capped exponential backoff, practically forever; the job keeps its state. A 4xx fails
 *   the job with the backend's message.
 * - No duplicate submissions: the batch name is the job id (plus the attempt after the
 *   first). A worker that re-enters `submitting` — because it crashed, or a submit timed
 *   out — first looks the name up on the backend and adopts what it finds; the backend's
 *   duplicate-name refusal is a second guard.
 */
import { DelayedError, Worker, type Job as BullJob } from 'bullmq'
import type { JobKinds } from '../domain/job-kinds.js'
import type { BackendRef, JobRecord } from '../domain/job-schema.js'
import { rankOf } from '../domain/job-service.js'
import type { EnginePool } from '../domain/ports/engine-pool.js'
import { StaleTransitionError } from '../domain/job-state.js'
import {
  BackendError,
  type BatchSubmission,
  type ConfiguredBackend,
  type SparkBackend,
} from '../domain/ports/spark-backend.js'
import { StoreError } from '../storage/file-store.js'
import {
  bullPrefix,
  closeWorker,
  submitQueueName,
  type SubmitPayload,
  type WorkerContext,
} from './queues.js'

export interface SubmitWorkerOptions extends WorkerContext {
  backoffMs: number
  backoffMaxMs: number
  lockMs: number
  failpoints: Set<string>
  /** the job kinds: what each stages and how its spec becomes a batch */
  kinds: JobKinds
  /** how long a backend at its cap pauses its queue (a tenant at its cap: its job waits) */
  capPauseMs?: number
  /** a tenant's cap of live jobs (its maxLiveJobs quota) */
  tenantCap: (tenant: string) => Promise<number>
  /** the warm engines: a job that runs in one takes no live slot of its own */
  engines?: EnginePool
}

/** The batch name of a job's attempt: the job id itself on the first attempt. */
export function batchName(jobId: string, attempt: number) {
  return attempt <= 1 ? jobId : `${jobId}.${attempt}`
}

/**
 * The batch of a job's attempt: what its kind runs (a user's file, or a staged script),
 * under the attempt's name, in the job's YARN queue, as the tenant's cluster user, with the
 * job's resources.
 */
export function toSubmission(job: JobRecord, attempt: number, kinds: JobKinds): BatchSubmission {
  const of = kinds.of(job)
  if (!of) throw new Error(`job ${job.id} is of no kind this gateway has`)
  const proxyUser = job.internals?.clusterUser
  return {
    name: batchName(job.id, attempt),
    ...of.kind.batch(job, of.spec),
    ...(job.queue ? { queue: job.queue } : {}),
    ...(proxyUser ? { proxyUser } : {}),
    ...job.spec.resources,
  }
}

export class SubmitWorkers {
  private readonly workers: Worker<SubmitPayload>[] = []

  constructor(private readonly o: SubmitWorkerOptions) {}

  start() {
    for (const [name, configured] of this.o.backends.byName) {
      const worker = new Worker<SubmitPayload>(
        submitQueueName(name),
        async (bullJob, token) => this.process(configured, bullJob, token),
        {
          connection: this.o.connection,
          prefix: bullPrefix(this.o.prefix),
          // One submission at a time per process and backend: a job that finds the backend
          // at its cap goes back in its priority place and the next fetch is again the
          // highest priority, so priority holds strictly (more processes add throughput).
          concurrency: 1,
          lockDuration: this.o.lockMs,
          stalledInterval: Math.max(1000, Math.floor(this.o.lockMs / 2)),
          // processing is idempotent (adoption by name), so a stalled job may be retried often
          maxStalledCount: 1_000_000,
          settings: {
            backoffStrategy: (attemptsMade: number) => {
              const base = Math.min(
                this.o.backoffMs * 2 ** Math.max(0, attemptsMade - 1),
                this.o.backoffMaxMs,
              )
              return Math.round(base * (0.8 + Math.random() * 0.4))
            },
          },
        },
      )
      worker.on('error', (error) =>
        this.o.log.warn({ err: error, backend: name }, 'submit worker error'),
      )
      worker.on('failed', (job, error) =>
        this.o.log.info(
          { jobId: job?.data.jobId, backend: name, err: error.message },
          'submit will be retried',
        ),
      )
      this.workers.push(worker)
    }
  }

  /** Lets in-flight submissions finish (up to `deadlineMs`), then stops. */
  async close(deadlineMs: number, redisUp: boolean) {
    await Promise.all(this.workers.map((w) => closeWorker(w, deadlineMs, redisUp)))
  }

  private async process(
    configured: ConfiguredBackend,
    bullJob: BullJob<SubmitPayload>,
    token?: string,
  ): Promise<string> {
    const { store, log } = this.o
    const id = bullJob.data.jobId
    let job = await store.get(id)
    if (!job) return 'gone'
    const backend = configured.backend

    if (job.state === 'queued') {
      if (job.cancelRequested) return this.cancelUnsubmitted(job)
      // a warm engine of its tenant runs it (its engine holds the live slot), or it runs cold
      const choice = this.o.engines ? await this.o.engines.choose(job) : 'cold'
      if (choice === 'wait') {
        // `warm`, and no engine can start yet (the backend or the tenant at its cap)
        await bullJob.moveToDelayed(Date.now() + 2 * (this.o.capPauseMs ?? 500), token)
        throw new DelayedError()
      }
      const viaEngine = choice === 'engine'
      const slot = viaEngine
        ? 'ok'
        : await store.reserveSlot(job, configured.maxLive, await this.o.tenantCap(job.tenant))
      if (slot === 'backend') {
        // At the cap: the job goes back to the queue in its priority place, and this
        // backend's queue (only it) pauses for a moment; another job's end frees a slot.
        await this.o.queues.get(job.backend).rateLimit(this.o.capPauseMs ?? 500)
        throw Worker.RateLimitError()
      }
      if (slot === 'tenant') {
        // Its tenant is at its own cap: this job waits a moment, the queue goes on with
        // other tenants' jobs (no pause: one tenant at its cap holds up nobody else).
        await bullJob.moveToDelayed(Date.now() + (this.o.capPauseMs ?? 500), token)
        throw new DelayedError()
      }
      try {
        await store.transition(job, ['queued'], 'staging', {
          reason: viaEngine
            ? `picked by a worker for a warm engine on ${job.backend}`
            : `picked by a worker for ${job.backend}`,
          set: { internals: { ...job.internals, viaEngine } },
        })
      } catch (error) {
        await store.releaseSlot(job)
        if (error instanceof StaleTransitionError) return 'moved on'
        throw error
      }
      job = (await store.get(id))!
    }

    if (job.state === 'staging') {
      if (job.cancelRequested) return this.cancelUnsubmitted(job)
      // Batches name cluster URIs already (dataset:// resolved at accept time); a training
      // job gets train.py and its spec.json staged here (idempotent, so safe to redo).
      let staged: Record<string, unknown> | undefined
      try {
        staged = await this.stage(job)
      } catch (error) {
        // the store refusing for good (HDFS: permission denied, a bad path; a storage
        // account: the gateway's credential refused): retrying changes nothing
        if (!(error instanceof StoreError) || error.transient) throw error
        return this.failSubmission(job, 'staging', 'STAGING_FAILED', error.message)
      }
      await store.transition(job, ['staging'], 'submitting', {
        reason: `submitting attempt ${job.attempts + 1}`,
        set: {
          attempts: job.attempts + 1,
          ...(staged ? { internals: { ...job.internals, ...staged } } : {}),
        },
      })
      job = (await store.get(id))!
      return this.submit(job, backend, false)
    }

    if (job.state === 'submitting') {
      // Re-entered: a previous run may have reached the backend before dying.
      return this.submit(job, backend, true)
    }

    // submitted, running or terminal: this delivery is a duplicate; nothing to do
    log.debug({ jobId: id, state: job.state }, 'submit: job already past submission')
    return 'already submitted'
  }

  /** What the job's kind stages (train.py and spec.json, say); undefined when nothing. */
  private async stage(job: JobRecord) {
    const of = this.o.kinds.of(job)
    return of?.kind.stage?.(job, of.spec)
  }

  private async submit(job: JobRecord, backend: SparkBackend, reentered: boolean): Promise<string> {
    const { store, log } = this.o
    const attempt = Math.max(1, job.attempts)
    let submission: BatchSubmission
    try {
      submission = toSubmission(job, attempt, this.o.kinds)
    } catch (error) {
      // a job without its staged files (or of no known kind): no retry can submit it
      return this.failSubmission(job, 'submitting', 'NOT_STAGED', (error as Error).message)
    }

    if (job.internals?.viaEngine && this.o.engines)
      return this.toEngine(job, attempt, submission.name, this.o.engines)

    // Re-entered (a crash, a timed-out submit): the batch may exist. It is looked up before
    // the cancel flag is honoured — a batch found is adopted (and then killed, below), so a
    // job never ends `cancelled` while its batch runs on.
    let ref: BackendRef | undefined
    if (reentered) {
      ref = await backend.findByName(submission.name)
      if (ref)
        log.warn(
          { jobId: job.id, batchId: ref.batchId },
          'adopted a batch submitted before a crash',
        )
    }
    if (!ref) {
      if (job.cancelRequested) return this.cancelUnsubmitted(job)
      try {
        ref = await backend.submit(submission)
      } catch (error) {
        if (error instanceof BackendError && error.kind === 'duplicate') {
          ref = await backend.findByName(submission.name)
          if (!ref)
            throw new Error(`backend reports ${submission.name} as a duplicate but cannot find it`)
        } else if (error instanceof BackendError && error.kind === 'rejected') {
          await store.transition(job, ['submitting'], 'failed', {
            reason: 'the backend rejected the batch',
            set: { error: { code: 'BACKEND_REJECTED', message: error.message, logLines: [] } },
          })
          return 'rejected'
        } else {
          throw error // transient: BullMQ retries with backoff
        }
      }
    }

    if (this.o.failpoints.has('crash-after-submit')) {
      log.fatal({ jobId: job.id, batchId: ref.batchId }, 'failpoint crash-after-submit: SIGKILL')
      process.kill(process.pid, 'SIGKILL')
      await new Promise(() => undefined)
    }

    try {
      await store.transition(job, ['submitting'], 'submitted', {
        attempt: job.attempts,
        reason: `${backend.name} batch ${ref.batchId}`,
        set: { backendRef: ref, backendState: 'submitted' },
      })
    } catch (error) {
      // the job moved on while this submission was under way (cancelled, or failed at the
      // submit deadline): the batch just made belongs to nothing — kill it, never run it
      if (!(error instanceof StaleTransitionError)) throw error
      // (another worker that took the job over may have recorded this very batch: keep it)
      const now = await store.get(job.id)
      if (now?.backendRef?.batchId === ref.batchId) return 'recorded by another worker'
      log.warn({ jobId: job.id, batchId: ref.batchId }, 'job moved on during submit: batch killed')
      await backend.cancel(ref)
      return 'orphan killed'
    }
    log.info({ jobId: job.id, backend: backend.name, batchId: ref.batchId }, 'job submitted')

    // A cancel that came while the batch was being submitted: the batch is recorded now,
    // so the kill cannot be lost — if it fails here, the tracker repeats it every tick.
    const now = await store.get(job.id)
    if (now?.cancelRequested && now.state === 'submitted') {
      try {
        await backend.cancel(ref)
        await store.transition(job, ['submitted', 'running'], 'cancelled', {
          attempt: job.attempts,
          reason: 'cancelled by client',
        })
      } catch (error) {
        if (!(error instanceof StaleTransitionError))
          log.warn(
            { jobId: job.id, err: error },
            'cancel after submit failed; the tracker retries it',
          )
      }
    }
    return `batch ${ref.batchId}`
  }

  /**
   * A job for a warm engine: its ref recorded first, then its place in its tenant's engine
   * queue (an engine takes only a `submitted` job; the tracker makes a missing place again).
   */
  private async toEngine(
    job: JobRecord,
    attempt: number,
    name: string,
    engines: EnginePool,
  ): Promise<string> {
    if (job.cancelRequested) return this.cancelUnsubmitted(job)
    try {
      await this.o.store.transition(job, ['submitting'], 'submitted', {
        attempt: job.attempts,
        reason: `waiting for a warm engine on ${job.backend}`,
        set: { backendRef: engines.assign(name), backendState: 'engine: waiting' },
      })
    } catch (error) {
      if (error instanceof StaleTransitionError) return 'moved on'
      throw error
    }
    await engines.enqueue(job, attempt, rankOf(job))
    return 'engine queue'
  }

  /** Fails a job that no retry can submit; its live slot is given back with the state. */
  private async failSubmission(
    job: JobRecord,
    from: 'staging' | 'submitting',
    code: string,
    message: string,
  ): Promise<string> {
    try {
      await this.o.store.transition(job, [from], 'failed', {
        attempt: job.attempts,
        reason: code,
        set: { error: { code, message, logLines: [] } },
      })
    } catch (error) {
      if (!(error instanceof StaleTransitionError)) throw error
    }
    return code
  }

  private async cancelUnsubmitted(job: JobRecord): Promise<string> {
    try {
      await this.o.store.transition(job, ['queued', 'staging', 'submitting'], 'cancelled', {
        reason: 'cancelled by client before submission',
      })
    } catch (error) {
      if (!(error instanceof StaleTransitionError)) throw error
    }
    return 'cancelled'
  }
}
