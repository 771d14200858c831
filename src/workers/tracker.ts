/**
 * The tracker: follows every live job of a backend with ONE status call per tick (Livy:
 * one paged GET /batches), never one call per job, and reconciles the backend's state
 * with ours — the only place that does.
 *
 * Each backend has a BullMQ job scheduler on the tracker queue; whichever replica's
 * tracker worker takes a tick does it, so exactly one polls per tick, and a restarted
 * gateway simply picks the live jobs up again from Redis.
 *
 * Per tick and job, what to do is decided by a pure function (src/domain/reconcile.ts:
 * raw state recorded; submitted → running; success → succeeded; dead/error → failed with
 * the job's own reason (its error file, else its log's SPARKGATE_ERROR line) and the last
 * log lines, or back to the queue while attempts remain; killed → cancelled when
 * asked for, else failed; past `timeoutSeconds` → killed and failed with code TIMEOUT;
 * unknown to the backend for 3 ticks in a row → BACKEND_LOST); this file schedules the
 * ticks, reads the world for it and applies what it decides.
 * Every tick it also drains the enqueue outbox: queued jobs whose queue entry was not made
 * (a crash between recording and enqueueing) get it. Its transitions name the attempt they
 * read, so a tick that outlived the job's attempt changes nothing.
 */
import { Queue, Worker } from 'bullmq'
import type { JobKinds } from '../domain/job-kinds.js'
import type { EnginePool } from '../domain/ports/engine-pool.js'
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
import {
  decide,
  lostDecision,
  MISSING_TICKS_BEFORE_LOST,
  retries,
  type Decision,
} from '../domain/reconcile.js'
import { enforceDeadlines } from './deadlines.js'
import { failure, logTail } from './failure-report.js'
import { drainOutbox } from './outbox.js'
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
  /** the reason a failed job wrote in its own output (its kind reads it) */
  kinds?: Pick<JobKinds, 'reportedError'>
  /** ticks between two repair passes of success steps */
  reconcileEvery?: number
  /** how long a job may sit in the enqueue outbox before a tick enqueues it */
  outboxGraceMs?: number
  /**
   * How long a job may stay in staging/submitting, and a backend unseen by every tracker,
   * before the job fails (SUBMIT_TIMEOUT, BACKEND_REMOVED). Default 30 min.
   */
  submitDeadlineMs?: number
  /** the warm engines: their batches ride on each tick's status call, and their lifecycle */
  engines?: EnginePool
}

/** How many times a job goes back to the queue because its warm engine was lost. */
export const ENGINE_LOSSES = 3

export interface TickReport {
  backend: string
  tracked: number
  backendCalls: number
  transitions: number
}

type Fields = NonNullable<TransitionOptions['set']>

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
      await drainOutbox(this.o)
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
      if (this.again.delete(backendName)) this.nudge(backendName)
    }
  }

  /** backends asked for a tick while one was under way: another follows it */
  private readonly again = new Set<string>()

  /**
   * A tick of the backend now, in this process (a warm engine reported a job's end: its
   * client need not wait for the next scheduled tick). One under way: another follows it.
   */
  nudge(backendName: string) {
    if (this.ticking.has(backendName)) {
      this.again.add(backendName)
      return
    }
    void this.tick(backendName).catch((error: unknown) =>
      this.o.log.warn({ err: error, backend: backendName }, 'nudged tick failed'),
    )
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
      await this.o.store.marks.sawBackends([backendName])
      await enforceDeadlines(this.o, backendName, configured.backend)
    }
    await drainOutbox(this.o)
    const live = await this.o.store.getMany(await this.o.store.liveIds(backendName))
    const tracked = live.filter((j) => TRACKED_STATES.includes(j.state) && j.backendRef)
    report.tracked = tracked.length
    const engines = this.o.engines
    if (tracked.length === 0 && !(await engines?.hasLive(backendName))) {
      // nothing to ask the backend; the engines' tick still tops up tenants' minimums
      await engines?.tick(backendName, new Map()).catch(() => undefined)
      return report
    }
    // the backend's live engines ride on the same call (the wrapped backend adds them)
    const statuses = await configured.backend.statusMany(tracked.map((j) => j.backendRef!))
    report.backendCalls = 1
    await engines
      ?.tick(backendName, statuses)
      .catch((error: unknown) => this.o.log.warn({ err: error }, 'engine tick failed'))
    // one read of the missing counts per tick (nearly always empty), not a write per job
    const missing = await this.o.store.marks.missingCounts()
    // the clock once per tick, when a job has a deadline to check against it
    const now = tracked.some((j) => j.timeoutSeconds) ? await this.o.store.clock.fresh() : 0
    for (const job of tracked) {
      try {
        const status = statuses.get(batchKey(job.backendRef!))
        if (status && missing.has(job.id)) await this.o.store.marks.clearMissing(job.id)
        if (await this.reconcile(job, status, configured.backend, now)) report.transitions++
      } catch (error) {
        if (error instanceof StaleTransitionError) continue // the API got there first (a cancel)
        this.o.log.error({ err: error, jobId: job.id }, 'tracker could not reconcile a job')
      }
    }
    return report
  }

  /** Reads what the decision needs, asks it, applies it; true when the job moved. */
  private async reconcile(
    job: Job,
    status: BatchStatus | undefined,
    backend: SparkBackend,
    now: number,
  ): Promise<boolean> {
    const { store } = this.o
    let misses = 0
    if (!status) {
      // counted in Redis: whichever replica ticks, three misses in a row are three
      misses = await store.marks.countMissing(job.id)
      if (misses >= MISSING_TICKS_BEFORE_LOST) await store.marks.clearMissing(job.id)
    }
    let decision = decide(job, { status, misses, now, backend: backend.name })
    if (decision.do === 'lost') {
      // forgotten, but the job's own output may say how it ended
      const outcome = await this.o.success?.outcome?.(job).catch(() => undefined)
      decision = lostDecision(job, outcome, backend.name)
    }
    return this.apply(job, decision, backend)
  }

  /** Carries a decision out: the kill, the record, the transition. */
  private async apply(job: Job, d: Decision, backend: SparkBackend): Promise<boolean> {
    const { store } = this.o
    const has = (set: Fields) => Object.keys(set).length > 0
    switch (d.do) {
      case 'nothing':
      case 'lost':
        return false
      case 'update':
        await store.update(job.id, d.set)
        return false
      case 'kill':
        await backend.cancel(job.backendRef!)
        if (has(d.set)) await store.update(job.id, d.set)
        return false
      case 'timeout':
        // the reason first, then the kill, then the record (a crash in between: decide())
        if (d.recordReason)
          await store.update(job.id, {
            internals: { ...(job as JobRecord).internals, killReason: 'timeout' },
          })
        if (d.kill) await backend.cancel(job.backendRef!)
        return this.endTimedOut(
          job,
          d.set,
          d.log ? await logTail(backend, job, this.o.failureLogLines) : [],
        )
      case 'running':
        await store.transition(job, ['submitted'], 'running', {
          attempt: job.attempts,
          reason: d.reason,
          set: d.set,
        })
        return true
      case 'succeeded':
        return this.endSucceeded(job, d.reason, d.set)
      case 'cancelled':
        return this.endCancelled(job, d.reason, d.set)
      case 'fail':
        await this.failOrRetry(job, await failure(this.o, job, d, backend), d.set)
        return true
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

  /**
   * Fails the job, or (attempts left) sends it back to the queue in the same update. A job
   * whose warm engine was lost goes back whatever its attempts (up to ENGINE_LOSSES times):
   * nothing of its own failed, and it runs cold (auto) or on a fresh engine (warm).
   */
  private async failOrRetry(job: Job, error: JobError, set: Record<string, unknown> = {}) {
    const { store, queues } = this.o
    const internals = (job as JobRecord).internals ?? {}
    const losses = Number(internals.engineLost ?? 0)
    const engineLost = error.code === 'ENGINE_LOST' && losses < ENGINE_LOSSES
    if (error.code === 'ENGINE_LOST') await this.o.engines?.release(job)
    if (engineLost || retries(job)) {
      if (engineLost) set = { ...set, internals: { ...internals, engineLost: losses + 1 } }
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

  /** The periodic repair: success steps that were lost (a crash in between). */
  private async repairPass() {
    await this.o.success
      ?.repair()
      .catch((error: unknown) => this.o.log.warn({ err: error }, 'success repair pass failed'))
  }
}
