/**
 * A backend as the job core sees it once engines exist: a job's ref that names its place in
 * the engines (batchId "engine") is answered here, from Redis; everything else goes to the
 * backend itself. So the tracker, cancel and logs work alike for both, and the tracker's ONE
 * status call per tick also carries the backend's live engines (their batches), so an
 * engine that died is seen, with the jobs it held, within that tick.
 *
 *   engine job's attempt                        status
 *   ──────────────────────────────────────────────────────────────────────────────────
 *   ended in its engine (engine-run record)     succeeded / failed / killed (cancelled)
 *   claimed by an engine that is alive          running
 *   claimed by an engine that ended or died     failed, engineLost (it goes back to the queue)
 *   waiting, the tenant has a serving engine    pending (its queue entry made again if missing)
 *   waiting, no engine of the tenant serves     failed, engineLost
 */
import type { BackendRef } from '../domain/job-schema.js'
import type { JobStore } from '../domain/job-store.js'
import { isEngineRef } from '../domain/ports/engine-pool.js'
import {
  BackendError,
  batchKey,
  type BatchStatus,
  type BatchSubmission,
  type LogPage,
  type SparkBackend,
} from '../domain/ports/spark-backend.js'
import { rankOf } from '../domain/job-service.js'
import { SERVING_ENGINE_STATES, engineEnded } from './engine-schema.js'
import type { EngineRecord, EngineStore } from './engine-store.js'

/** The job id and attempt of a batch name (`<job id>` on the first attempt, `<job id>.<n>`). */
export function attemptOf(name: string): { jobId: string; attempt: number } {
  const m = /^(.*)\.(\d+)$/.exec(name)
  return m ? { jobId: m[1]!, attempt: Number(m[2]) } : { jobId: name, attempt: 1 }
}

const LIVE_PHASES = new Set(['pending', 'running'])

export class EngineBackend implements SparkBackend {
  constructor(
    private readonly backend: SparkBackend,
    private readonly engines: EngineStore,
    private readonly jobs: JobStore,
  ) {}

  get name() {
    return this.backend.name
  }
  get kind() {
    return this.backend.kind
  }
  get capabilities() {
    return this.backend.capabilities
  }
  get endpoint() {
    return this.backend.endpoint
  }
  get auth() {
    return this.backend.auth
  }

  submit(batch: BatchSubmission) {
    return this.backend.submit(batch)
  }
  findByName(name: string) {
    return this.backend.findByName(name)
  }
  health() {
    return this.backend.health()
  }

  async statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>> {
    const engineJobs = refs.filter(isEngineRef)
    const others = refs.filter((r) => !isEngineRef(r))
    const live = await this.engines.live(this.name)
    const batches = live.flatMap((e) => (e.ref ? [e.ref] : []))
    const answer =
      others.length + batches.length > 0
        ? await this.backend.statusMany([...others, ...batches])
        : new Map<string, BatchStatus>()
    const byId = new Map(live.map((e) => [e.id, e]))
    for (const ref of engineJobs) answer.set(batchKey(ref), await this.engineJob(ref, byId, answer))
    return answer
  }

  /** An engine job's status, from its run record, its claim, its engine and its batch. */
  private async engineJob(
    ref: BackendRef,
    live: Map<string, EngineRecord>,
    batches: Map<string, BatchStatus>,
  ): Promise<BatchStatus> {
    const { jobId, attempt } = attemptOf(ref.batchName)
    const run = await this.engines.runOf(jobId)
    if (run && run.attempt === attempt) {
      const phase =
        run.outcome === 'succeeded'
          ? 'succeeded'
          : run.outcome === 'cancelled'
            ? 'killed'
            : 'failed'
      return {
        phase,
        rawState: `engine: ${run.outcome}`,
        engine: run.engine,
        ...(run.appId ? { appId: run.appId } : {}),
      }
    }
    const claim = await this.engines.claimOf(this.name, jobId)
    if (claim && claim.attempt === attempt) {
      const engine = live.get(claim.engine) ?? (await this.engines.get(claim.engine))
      const batch = engine?.ref ? batches.get(batchKey(engine.ref)) : undefined
      const gone = !engine || engineEnded(engine.state) || (batch && !LIVE_PHASES.has(batch.phase))
      if (gone)
        return {
          phase: 'failed',
          rawState: 'engine lost',
          engine: claim.engine,
          engineLost: `engine ${claim.engine} ended while running it`,
        }
      return {
        phase: 'running',
        rawState: `engine: running`,
        engine: claim.engine,
        ...(engine.appId ? { appId: engine.appId } : {}),
        ...(engine.sparkUiUrl ? { sparkUiUrl: engine.sparkUiUrl } : {}),
      }
    }
    const job = await this.jobs.get(jobId)
    if (!job) return { phase: 'failed', rawState: 'engine lost', engineLost: 'the job is gone' }
    // cancelled while it waited: out of the queue (cancel), so it ended there
    if (job.cancelRequested) return { phase: 'killed', rawState: 'engine: cancelled' }
    const serving = [...live.values()].some(
      (e) => e.tenant === job.tenant && SERVING_ENGINE_STATES.includes(e.state),
    )
    if (!serving)
      return {
        phase: 'failed',
        rawState: 'engine lost',
        engineLost: 'no engine of its tenant is left to run it',
      }
    // its queue entry, made again should a crash have come between its record and it
    await this.engines.enqueue(job.tenant, this.name, jobId, attempt, rankOf(job))
    return { phase: 'pending', rawState: 'engine: waiting' }
  }

  async cancel(ref: BackendRef): Promise<void> {
    if (!isEngineRef(ref)) return this.backend.cancel(ref)
    // waiting: out of the queue; running: its engine sees the job's cancel flag at its next
    // heartbeat and cancels the job's Spark jobs (an engine is never killed for one job)
    const { jobId, attempt } = attemptOf(ref.batchName)
    const job = await this.jobs.get(jobId)
    if (job) await this.engines.unqueue(job.tenant, this.name, jobId, attempt)
  }

  async logs(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    if (!isEngineRef(ref)) return this.backend.logs(ref, from, size)
    const lines = await this.engineLog(ref)
    return { from, total: lines.length, lines: lines.slice(from, from + size) }
  }

  async tail(ref: BackendRef, size: number): Promise<string[]> {
    if (!isEngineRef(ref)) return this.backend.tail(ref, size)
    return (await this.engineLog(ref)).slice(-size)
  }

  /** What the job printed in its engine (kept when it ended); nothing while it runs. */
  private async engineLog(ref: BackendRef): Promise<string[]> {
    const { jobId, attempt } = attemptOf(ref.batchName)
    const run = await this.engines.runOf(jobId)
    if (!run || run.attempt !== attempt) {
      if (!(await this.jobs.get(jobId))) throw new BackendError('not_found', `no job ${jobId}`)
      return []
    }
    return run.error && !run.log.some((l) => l.includes(run.error!))
      ? [...run.log, run.error]
      : run.log
  }
}
