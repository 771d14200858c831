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
 * Every few ticks it also re-enqueues queued jobs whose queue entry was lost (a crash
 * between recording and enqueueing).
 */
import { Queue, Worker } from 'bullmq'
import type { Job, JobError } from '../domain/job-schema.js'
import { rankOf } from '../domain/job-service.js'
import { StaleTransitionError, TRACKED_STATES } from '../domain/job-state.js'
import type { BatchStatus, ConfiguredBackend, SparkBackend } from '../domain/ports/spark-backend.js'
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
}

export interface TrackerOptions extends WorkerContext {
  intervalMs: number
  failureLogLines: number
  success?: SuccessSteps
  /** ticks between two reconciliations of the queue */
  reconcileEvery?: number
}

export interface TickReport {
  backend: string
  tracked: number
  backendCalls: number
  transitions: number
}

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
  private readonly missing = new Map<string, number>()
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
    if (++this.ticks % (this.o.reconcileEvery ?? 15) === 0) await this.repairPass()
    const live = await this.o.store.getMany(await this.o.store.liveIds(backendName))
    const tracked = live.filter((j) => TRACKED_STATES.includes(j.state) && j.backendRef)
    report.tracked = tracked.length
    if (tracked.length === 0) return report
    const statuses = await configured.backend.statusMany(tracked.map((j) => j.backendRef!))
    report.backendCalls = 1
    for (const job of tracked) {
      try {
        if (await this.reconcile(job, statuses.get(job.backendRef!.batchId), configured.backend))
          report.transitions++
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
    if (!status) {
      const misses = (this.missing.get(job.id) ?? 0) + 1
      this.missing.set(job.id, misses)
      if (misses < MISSING_TICKS_BEFORE_LOST) return false
      this.missing.delete(job.id)
      await this.failOrRetry(job, {
        code: 'BACKEND_LOST',
        message: `${backend.name} no longer knows batch ${ref.batchId} (restarted, or its retention expired)`,
        logLines: [],
      })
      return true
    }
    this.missing.delete(job.id)

    const refUpdate = {
      ...ref,
      ...(status.appId ? { appId: status.appId } : {}),
      ...(status.driverLogUrl ? { driverLogUrl: status.driverLogUrl } : {}),
      ...(status.sparkUiUrl ? { sparkUiUrl: status.sparkUiUrl } : {}),
    }
    const changedRef = JSON.stringify(refUpdate) !== JSON.stringify(ref)
    const set = { backendState: status.rawState, ...(changedRef ? { backendRef: refUpdate } : {}) }

    const started = Date.parse(job.startedAt ?? job.submittedAt ?? job.createdAt)
    if (
      job.timeoutSeconds &&
      (status.phase === 'pending' || status.phase === 'running') &&
      Date.now() - started > job.timeoutSeconds * 1000
    ) {
      await backend.cancel(ref)
      await store.transition(job, ['submitted', 'running'], 'failed', {
        reason: `timed out after ${job.timeoutSeconds}s`,
        set: {
          ...set,
          error: {
            code: 'TIMEOUT',
            message: `the application ran longer than timeoutSeconds=${job.timeoutSeconds} and was killed`,
            logLines: await this.logTail(backend, job, this.o.failureLogLines),
          },
        },
      })
      return true
    }

    switch (status.phase) {
      case 'pending':
        if (status.rawState !== job.backendState || changedRef) await store.update(job.id, set)
        return false
      case 'running':
        if (job.state === 'submitted') {
          await store.transition(job, ['submitted'], 'running', {
            reason: `${backend.name}: ${status.rawState}`,
            set,
          })
          return true
        }
        if (status.rawState !== job.backendState || changedRef) await store.update(job.id, set)
        return false
      case 'succeeded': {
        // the model is registered first: whoever sees the job succeeded sees its model
        // (a failure here is logged; the repair pass registers it later)
        await this.o.success
          ?.beforeSucceeded(job)
          .catch((error: unknown) =>
            this.o.log.warn({ err: error, jobId: job.id }, 'success step failed; repaired later'),
          )
        await store.transition(job, ['submitted', 'running'], 'succeeded', {
          reason: `${backend.name}: ${status.rawState}`,
          set,
        })
        return true
      }
      case 'killed':
        if (job.cancelRequested) {
          await store.transition(job, ['submitted', 'running'], 'cancelled', {
            reason: 'killed on request',
            set,
          })
          return true
        }
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

  /** Fails the job, or (attempts left) sends it back to the queue in the same update. */
  private async failOrRetry(job: Job, error: JobError, set: Record<string, unknown> = {}) {
    const { store, queues } = this.o
    if (job.attempts < job.maxAttempts && !job.cancelRequested) {
      await store.transition(job, ['submitted', 'running'], 'queued', {
        via: 'failed',
        reason: `attempt ${job.attempts} failed: ${error.code}`,
        set: { ...set, error, backendRef: undefined, backendState: undefined },
      })
      await queues.enqueue(job.backend, job.id, job.attempts + 1, rankOf(job))
      return
    }
    await store.transition(job, ['submitted', 'running'], 'failed', {
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

  /** The periodic repairs: lost queue entries, then lost success steps. */
  private async repairPass() {
    await this.reconcileQueue()
    await this.o.success
      ?.repair()
      .catch((error: unknown) => this.o.log.warn({ err: error }, 'success repair pass failed'))
  }

  /** Queued jobs whose queue entry is missing (crash between record and enqueue) get one again. */
  private async reconcileQueue() {
    const { store, queues, log } = this.o
    for (const id of await store.idsInState('queued', 1000)) {
      const job = await store.get(id)
      if (!job || job.state !== 'queued' || !this.o.backends.byName.has(job.backend)) continue
      const attempt = job.attempts + 1
      if (!(await queues.has(job.backend, id, attempt))) {
        log.warn({ jobId: id }, 'queued job had no queue entry: enqueued again')
        await queues.enqueue(job.backend, id, attempt, rankOf(job))
      }
    }
  }
}
