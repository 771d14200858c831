/**
 * What a warm engine's driver calls (jobs/sparkgate_jobs/engine.py), over HTTP(S) with its
 * own token — never a tenant's key — under /engine/v1/engines/{id}:
 *
 *   POST poll?wait=S                 its memory; held up to S s → 200 {job} | 204 | 200 {stop}
 *   POST jobs/{job}/heartbeat        while a job runs → {cancel}: the job's cancel flag
 *   POST jobs/{job}/done             how the attempt ended, its log → 204 | 409 (not its claim)
 *
 * A token opens only its own engine's calls, and an engine only ever gets jobs of its own
 * tenant on its own backend (its tenant's engine queue): it cannot see another tenant's
 * jobs, datasets or results.
 */
import type { JobRecord } from '../domain/job-schema.js'
import type { JobStore } from '../domain/job-store.js'
import { isTerminal } from '../domain/job-state.js'
import { isEngineRef } from '../domain/ports/engine-pool.js'
import type { WarmEngines } from './engine-pool.js'
import { EngineStore, type EngineRecord } from './engine-store.js'

/** What a poll or heartbeat tells of the driver's JVM. */
export interface EngineReport {
  appId?: string
  memory?: { usedBytes: number; maxBytes: number }
  jobsServed?: number
  /** the attempt a heartbeat is for */
  attempt?: number
}

/** A job handed to an engine: its kind's script's work and spec. */
export interface EngineWork {
  id: string
  attempt: number
  kind: string
  spec: string
}

export interface EngineDone {
  attempt: number
  outcome: 'succeeded' | 'failed' | 'cancelled'
  log: string[]
  error?: string
}

/** How long a finished attempt's record (its log) is kept: as long as the event log. */
const RUN_TTL_SECONDS = 7 * 24 * 3600

export class EngineProtocol {
  constructor(
    private readonly pool: WarmEngines,
    private readonly jobs: JobStore,
    /** the work an engine runs for a job (its kind and spec.json), undefined when none */
    private readonly workOf: (job: JobRecord) => Omit<EngineWork, 'attempt'> | undefined,
    /** told when an engine reported a job's end (the tracker ticks at once) */
    private readonly onDone: (backend: string) => void,
  ) {}

  /** The engine a token opens; undefined for a wrong token or an ended engine. */
  async authenticate(id: string, header: string | undefined): Promise<EngineRecord | undefined> {
    const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header ?? '')
    if (!m) return undefined
    const engine = await this.pool.store.get(id)
    return engine && EngineStore.tokenMatches(engine, m[1]!) ? engine : undefined
  }

  private async seen(engine: EngineRecord, report: EngineReport) {
    await this.pool.store.update(engine.id, {
      lastSeenAt: new Date().toISOString(),
      ...(report.appId && report.appId !== engine.appId ? { appId: report.appId } : {}),
      ...(report.memory
        ? { memoryUsed: report.memory.usedBytes, memoryMax: report.memory.maxBytes }
        : {}),
    })
  }

  /**
   * A poll: the next job of the engine's tenant, waiting up to `waitMs` for one; 'stop' when
   * the engine is to stop; undefined when none came. The first poll makes it ready.
   */
  async poll(
    engine: EngineRecord,
    report: EngineReport,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<EngineWork | 'stop' | undefined> {
    await this.seen(engine, report)
    if (engine.state === 'starting')
      await this.pool.store.transition(engine, ['starting'], 'ready', {
        readyAt: new Date().toISOString(),
        idleSince: Date.now(),
      })
    const deadline = Date.now() + waitMs
    for (;;) {
      const member = await this.pool.store.claim(engine)
      if (member === 'stop') return 'stop'
      if (member) {
        const work = await this.workFor(engine, member)
        if (work) return work
        continue
      }
      const left = deadline - Date.now()
      if (left <= 0 || signal?.aborted) return undefined
      // woken by a job joining the queue in this process; other processes' in ≤ 1 s
      await this.pool.waitForWork(engine.tenant, engine.backend, Math.min(left, 1000), signal)
    }
  }

  /** The work of a claimed job's attempt; a claim the job no longer fits is dropped. */
  private async workFor(engine: EngineRecord, member: string): Promise<EngineWork | undefined> {
    const cut = member.lastIndexOf('|')
    const jobId = member.slice(0, cut)
    const attempt = Number(member.slice(cut + 1))
    const job = await this.jobs.get(jobId)
    const fits =
      job &&
      job.tenant === engine.tenant &&
      job.backend === engine.backend &&
      (job.state === 'submitted' || job.state === 'running') &&
      job.attempts === attempt &&
      isEngineRef(job.backendRef) &&
      !job.cancelRequested
    const work = fits ? this.workOf(job) : undefined
    if (!work) {
      await this.pool.store.dropClaim(engine, jobId, member)
      return undefined
    }
    return { ...work, attempt }
  }

  /**
   * A running job's heartbeat: whether it is to be cancelled — asked to, or its attempt is
   * over for the gateway (timed out, or given up on).
   */
  async heartbeat(engine: EngineRecord, jobId: string, report: EngineReport) {
    await this.seen(engine, report)
    const job = await this.jobs.get(jobId)
    const over =
      !job ||
      job.tenant !== engine.tenant ||
      isTerminal(job.state) ||
      (report.attempt !== undefined && job.attempts !== report.attempt)
    return { cancel: over || job.cancelRequested === true }
  }

  /** How an attempt ended: false when the claim is not this engine's (a 409). */
  async done(engine: EngineRecord, jobId: string, done: EngineDone): Promise<boolean> {
    const ok = await this.pool.store.done(
      engine,
      jobId,
      {
        engine: engine.id,
        attempt: done.attempt,
        outcome: done.outcome,
        log: done.log,
        ...(done.error ? { error: done.error } : {}),
        ...(engine.appId ? { appId: engine.appId } : {}),
      },
      RUN_TTL_SECONDS,
    )
    if (ok) this.onDone(engine.backend)
    return ok
  }
}
