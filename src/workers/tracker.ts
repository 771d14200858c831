/**
 * The tracker: follows every live job of a backend with ONE status call per tick (Livy:
 * one paged GET /batches), never one call per job, and reconciles the backend's state
 * with ours — the only place that does.
 *
 * Each backend has a BullMQ job scheduler on the tracker queue; whichever replica's
 * tracker worker takes a tick does it, so exactly one polls per tick, and a restarted
 * gateway simply picks the live jobs up again from Redis.
 *
 * Per tick and job: raw state recorded; submitted → running; success → succeeded;
 * dead/error → failed with the last log lines, or back to the queue while attempts remain;
 * killed → cancelled when asked for, else failed; past `timeoutSeconds` → killed and
 * failed with code TIMEOUT; unknown to the backend for 3 ticks in a row → BACKEND_LOST.
 * Every tick it also drains the enqueue outbox: queued jobs whose queue entry was not made
 * (a crash between recording and enqueueing) get it. Its transitions name the attempt they
 * read, so a tick that outlived the job's attempt changes nothing.
 */
import { Queue, Worker } from 'bullmq'
import type { Job, JobError, JobRecord } from '../domain/job-schema.js'
import type { TransitionOptions } from '../domain/job-store.js'
import { rankOf } from '../domain/job-service.js'
import { StaleTransitionError, TRACKED_STATES } from '../domain/job-state.js'
import {
  batchKey,
  type BatchStatus,
  type ConfiguredBackend,
  type SparkBackend,
} from '../domain/ports/spark-backend.js'
import { batchName } from './submit-worker.js'
import {
  bullPrefix,
  closeWorker,
  TRACKER_QUEUE,
  type TickPayload,
  type WorkerContext,
} from './queues.js'

/** What happens around a job's success (the model registry); errors are logged only. */
export interface SuccessSteps {
  /** runs before the job is marked succeeded: a client that sees it sees its model */
  beforeSucceeded(job: Job): Promise<unknown>
  /** the repair pass for jobs whose step was lost (a crash in between) */
  repair(): Promise<unknown>
  /** the outcome the job's own output shows, when its backend forgot the batch */
  outcome?(job: Job): Promise<'succeeded' | undefined>
}

export interface TrackerOptions extends WorkerContext {
  intervalMs: number
  failureLogLines: number
  success?: SuccessSteps
  /** ticks between two repair passes of success steps */
  reconcileEvery?: number
  /** how long a job may sit in the enqueue outbox before a tick enqueues it */
  outboxGraceMs?: number
  /**
   * How long a job may stay in staging/submitting, and a backend unseen by every tracker,
   * before the job fails (SUBMIT_TIMEOUT, BACKEND_REMOVED). Default 30 min.
   */
  submitDeadlineMs?: number
}

export interface TickReport {
  backend: string
  tracked: number
  backendCalls: number
  transitions: number
}

type Fields = NonNullable<TransitionOptions['set']>

const MISSING_TICKS_BEFORE_LOST = 3
const REPORTED = 'SPARKGATE_ERROR: '
/** how far back in a failed application's log its SPARKGATE_ERROR line is looked for */
const REPORT_SCAN_LINES = 2000

function findReported(lines: string[]): string | undefined {
  const line = lines.findLast((l) => l.includes(REPORTED))
  return line?.slice(line.indexOf(REPORTED) + REPORTED.length).trim()
}

export class Tracker {
  private queue?: Queue<TickPayload>
  private worker?: Worker<TickPayload>
  /** backends with a tick under way in this process */
  private readonly ticking = new Set<string>()
  private ticks = 0
  private started?: Promise<void>

  constructor(private readonly o: TrackerOptions) {}

  /**
   * Starts the tick worker and, in the background, the per-backend schedulers and a first
   * reconciliation: boot never waits on Redis, which may be down (then /readyz says so and
   * the schedulers are registered once it returns).
   */
  start() {
    const opts = { connection: this.o.connection, prefix: bullPrefix(this.o.prefix) }
    this.queue = new Queue<TickPayload>(TRACKER_QUEUE, opts)
    this.queue.on('error', (error) => this.o.log.warn({ err: error }, 'tracker queue error'))
    this.worker = new Worker<TickPayload>(
      TRACKER_QUEUE,
      async (job) => this.tick(job.data.backend),
      {
        ...opts,
        concurrency: Math.max(1, this.o.backends.byName.size),
      },
    )
    this.worker.on('error', (error) => this.o.log.warn({ err: error }, 'tracker worker error'))
    this.worker.on('failed', (job, error) =>
      this.o.log.warn({ backend: job?.data.backend, err: error.message }, 'tracker tick failed'),
    )
    const queue = this.queue
    this.started = (async () => {
      for (const name of this.o.backends.byName.keys()) {
        await queue.upsertJobScheduler(
          `track-${name}`,
          { every: this.o.intervalMs },
          {
            name: 'tick',
            data: { backend: name },
            opts: { removeOnComplete: true, removeOnFail: 100 },
          },
        )
      }
      await this.repairPass()
      await this.drainOutbox()
    })().catch((error: unknown) =>
      this.o.log.warn({ err: error }, 'tracker could not register its schedulers'),
    )
  }

  /** Resolves once the schedulers are registered (tests wait on it). */
  whenStarted(): Promise<void> {
    return this.started ?? Promise.resolve()
  }

  async close(deadlineMs: number, redisUp: boolean) {
    if (this.worker) await closeWorker(this.worker, deadlineMs, redisUp)
    await this.queue?.close()
  }

  /**
   * One tick for one backend. Public for tests and benchmarks. A tick that outlasts the
   * interval is not overlapped by the next one (the worker runs one tick per backend at
   * once): two would act on the same jobs, e.g. read a timeout's own kill as a kill from
   * outside, and double the backend calls of a loaded cluster.
   */
  async tick(backendName: string): Promise<TickReport> {
    const configured = this.o.backends.byName.get(backendName)
    const report: TickReport = { backend: backendName, tracked: 0, backendCalls: 0, transitions: 0 }
    if (!configured || this.ticking.has(backendName)) return report
    this.ticking.add(backendName)
    const started = performance.now()
    try {
      return await this.tickOnce(backendName, configured, report)
    } finally {
      this.ticking.delete(backendName)
      this.onTick?.(backendName, (performance.now() - started) / 1000)
    }
  }

  /** told how long each tick took, in seconds (the metrics' histogram) */
  onTick?: (backend: string, seconds: number) => void

  private async tickOnce(
    backendName: string,
    configured: ConfiguredBackend,
    report: TickReport,
  ): Promise<TickReport> {
    // the slow sweeps (deadlines of 30 min, lost success steps) every few ticks; the
    // outbox every tick, as its grace is seconds
    if (++this.ticks % (this.o.reconcileEvery ?? 15) === 0) {
      await this.repairPass()
      await this.o.store.sawBackends([backendName])
      await this.enforceDeadlines(backendName, configured.backend)
    }
    await this.drainOutbox()
    const live = await this.o.store.getMany(await this.o.store.liveIds(backendName))
    const tracked = live.filter((j) => TRACKED_STATES.includes(j.state) && j.backendRef)
    report.tracked = tracked.length
    if (tracked.length === 0) return report
    const statuses = await configured.backend.statusMany(tracked.map((j) => j.backendRef!))
    report.backendCalls = 1
    // one read of the missing counts per tick (nearly always empty), not a write per job
    const missing = await this.o.store.missingCounts()
    for (const job of tracked) {
      try {
        const status = statuses.get(batchKey(job.backendRef!))
        if (status && missing.has(job.id)) await this.o.store.clearMissing(job.id)
        if (await this.reconcile(job, status, configured.backend)) report.transitions++
      } catch (error) {
        if (error instanceof StaleTransitionError) continue // the API got there first (a cancel)
        this.o.log.error({ err: error, jobId: job.id }, 'tracker could not reconcile a job')
      }
    }
    return report
  }

  private async reconcile(
    job: Job,
    status: BatchStatus | undefined,
    backend: SparkBackend,
  ): Promise<boolean> {
    const { store } = this.o
    const ref = job.backendRef!
    const killReason = (job as JobRecord).internals?.killReason
    if (!status) {
      // counted in Redis: whichever replica ticks, three misses in a row are three
      const misses = await store.countMissing(job.id)
      if (misses < MISSING_TICKS_BEFORE_LOST) return false
      await store.clearMissing(job.id)
      // killed on purpose, then a crash before the record: the end it was killed for
      if (job.cancelRequested) return this.endCancelled(job, 'its batch is gone after a cancel')
      if (killReason === 'timeout') return this.endTimedOut(job, {}, [])
      // forgotten, but the job's own output says how it ended
      const outcome = await this.o.success?.outcome?.(job).catch(() => undefined)
      if (outcome === 'succeeded')
        return this.endSucceeded(
          job,
          `${backend.name} forgot batch ${ref.batchId}; its output shows it succeeded`,
          {},
        )
      await this.failOrRetry(job, {
        code: 'BACKEND_LOST',
        message: `${backend.name} no longer knows batch ${ref.batchId} (restarted, or its retention expired)`,
        logLines: [],
      })
      return true
    }

    const refUpdate = {
      ...ref,
      ...(status.appId ? { appId: status.appId } : {}),
      ...(status.driverLogUrl ? { driverLogUrl: status.driverLogUrl } : {}),
      ...(status.sparkUiUrl ? { sparkUiUrl: status.sparkUiUrl } : {}),
    }
    const changedRef = JSON.stringify(refUpdate) !== JSON.stringify(ref)
    const set = { backendState: status.rawState, ...(changedRef ? { backendRef: refUpdate } : {}) }

    const live = status.phase === 'pending' || status.phase === 'running'
    // A cancel whose kill failed, or whose process died after it: kill (again) until the
    // backend reports the batch ended; then it ends cancelled (below).
    if (job.cancelRequested && live) {
      await backend.cancel(ref)
      if (status.rawState !== job.backendState || changedRef) await store.update(job.id, set)
      return false
    }
    const started = Date.parse(job.startedAt ?? job.submittedAt ?? job.createdAt)
    if (
      job.timeoutSeconds &&
      live &&
      (killReason === 'timeout' ||
        (await store.clock.fresh()) - started > job.timeoutSeconds * 1000)
    ) {
      // the reason first, then the kill, then the record (a crash in between: see above)
      if (killReason !== 'timeout')
        await store.update(job.id, {
          internals: { ...(job as JobRecord).internals, killReason: 'timeout' },
        })
      await backend.cancel(ref)
      return this.endTimedOut(job, set, await this.logTail(backend, job, this.o.failureLogLines))
    }

    // Killed by us (a kill can also end as a failure, Livy: dead): the end it was killed for
    if (status.phase === 'killed' || status.phase === 'failed') {
      if (job.cancelRequested) return this.endCancelled(job, 'killed on request', set)
      if (killReason === 'timeout')
        return this.endTimedOut(job, set, await this.logTail(backend, job, this.o.failureLogLines))
    }

    switch (status.phase) {
      case 'pending':
        if (status.rawState !== job.backendState || changedRef) await store.update(job.id, set)
        return false
      case 'running':
        if (job.state === 'submitted') {
          await store.transition(job, ['submitted'], 'running', {
            attempt: job.attempts,
            reason: `${backend.name}: ${status.rawState}`,
            set,
          })
          return true
        }
        if (status.rawState !== job.backendState || changedRef) await store.update(job.id, set)
        return false
      case 'succeeded':
        return this.endSucceeded(job, `${backend.name}: ${status.rawState}`, set)
      case 'killed':
        await this.failOrRetry(
          job,
          {
            code: 'SPARK_APP_KILLED',
            message: `the application was killed outside Sparkgate (${backend.name} state ${status.rawState})`,
            logLines: await this.logTail(backend, job, this.o.failureLogLines),
          },
          set,
        )
        return true
      case 'failed': {
        // one read of the log's tail: the error's last lines, and the SPARKGATE_ERROR line
        // a job that explains itself (jobs/train.py) prints
        const tail = await this.logTail(backend, job, REPORT_SCAN_LINES)
        const logLines = this.o.failureLogLines === 0 ? [] : tail.slice(-this.o.failureLogLines)
        const reported = findReported(tail)
        await this.failOrRetry(
          job,
          {
            code: reported ? 'SPARK_JOB_ERROR' : 'SPARK_APP_FAILED',
            message:
              reported ?? `the Spark application failed (${backend.name} state ${status.rawState})`,
            logLines,
          },
          set,
        )
        return true
      }
    }
  }

  private async endSucceeded(job: Job, reason: string, set: Fields) {
    // the model is registered first: whoever sees the job succeeded sees its model
    // (a failure here is logged; the repair pass registers it later)
    await this.o.success
      ?.beforeSucceeded(job)
      .catch((error: unknown) =>
        this.o.log.warn({ err: error, jobId: job.id }, 'success step failed; repaired later'),
      )
    await this.o.store.transition(job, ['submitted', 'running'], 'succeeded', {
      attempt: job.attempts,
      reason,
      set,
    })
    return true
  }

  private async endCancelled(job: Job, reason: string, set: Fields = {}) {
    await this.o.store.transition(job, ['submitted', 'running'], 'cancelled', {
      attempt: job.attempts,
      reason,
      set,
    })
    return true
  }

  private async endTimedOut(job: Job, set: Fields, logLines: string[]) {
    await this.o.store.transition(job, ['submitted', 'running'], 'failed', {
      attempt: job.attempts,
      reason: `timed out after ${job.timeoutSeconds}s`,
      set: {
        ...set,
        error: {
          code: 'TIMEOUT',
          message: `the application ran longer than timeoutSeconds=${job.timeoutSeconds} and was killed`,
          logLines,
        },
      },
    })
    return true
  }

  /** Fails the job, or (attempts left) sends it back to the queue in the same update. */
  private async failOrRetry(job: Job, error: JobError, set: Record<string, unknown> = {}) {
    const { store, queues } = this.o
    if (job.attempts < job.maxAttempts && !job.cancelRequested) {
      await store.transition(job, ['submitted', 'running'], 'queued', {
        attempt: job.attempts,
        via: 'failed',
        reason: `attempt ${job.attempts} failed: ${error.code}`,
        set: { ...set, error, backendRef: undefined, backendState: undefined },
      })
      await queues.enqueue(job.backend, job.id, job.attempts + 1, rankOf(job))
      await store.enqueued(job.id)
      return
    }
    await store.transition(job, ['submitted', 'running'], 'failed', {
      attempt: job.attempts,
      reason: error.code,
      set: { ...set, error },
    })
  }

  /** The last `size` lines of the application's log worth keeping (none when unreadable). */
  private async logTail(backend: SparkBackend, job: Job, size: number): Promise<string[]> {
    if (size === 0 || !job.backendRef) return []
    try {
      return await backend.tail(job.backendRef, size)
    } catch {
      return []
    }
  }

  /**
   * Every state has an owner and a deadline. `staging`/`submitting` belong to a submit
   * worker, which retries transient faults; past the submit deadline the job fails with
   * SUBMIT_TIMEOUT (a batch found under its name is adopted instead), freeing its slot.
   * Jobs of a backend no tracker has had for that long (removed from every config) fail
   * with BACKEND_REMOVED instead of waiting forever.
   */
  private async enforceDeadlines(backendName: string, backend: SparkBackend) {
    const { store, log } = this.o
    const deadline = this.o.submitDeadlineMs ?? 30 * 60_000
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
    for (const removed of await store.backendsUnseenSince(now - deadline)) {
      if (this.o.backends.byName.has(removed)) continue
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

  /** The periodic repair: success steps that were lost (a crash in between). */
  private async repairPass() {
    await this.o.success
      ?.repair()
      .catch((error: unknown) => this.o.log.warn({ err: error }, 'success repair pass failed'))
  }

  /**
   * Queued jobs whose queue entry was not made (a crash between recording and enqueueing)
   * get it; the entry's id makes a second one a no-op, so a race with the API is harmless.
   * A job of a backend this process does not have waits for a process that has it.
   */
  private async drainOutbox() {
    const { store, queues, log } = this.o
    for (const id of await store.outbox(this.o.outboxGraceMs ?? 2000)) {
      const job = await store.get(id)
      if (!job || job.state !== 'queued') {
        await store.enqueued(id) // moved on meanwhile: nothing to enqueue
        continue
      }
      if (!this.o.backends.byName.has(job.backend)) continue
      log.warn({ jobId: id }, 'queued job had no queue entry: enqueued')
      await queues.enqueue(job.backend, id, job.attempts + 1, rankOf(job))
      await store.enqueued(id)
    }
  }
}
