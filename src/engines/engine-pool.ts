/**
 * The pool of warm engines (the EnginePool port): which engine a job runs in, starting and
 * stopping engines, and their lifecycle at each tracker tick.
 *
 * - A job chooses with `engine`: auto (the default) joins its tenant's engines on its
 *   backend when it has one (starting counts), else runs cold; warm joins them, starting
 *   one when there is none (and waits in the submit queue while none can start); cold never.
 *   Only kinds that run in engines (training, scoring) do; a user's own file never.
 * - An engine is a batch of the tenant's on the backend: its cluster user, its queue, a
 *   live slot of the backend's cap, one of the tenant's `engines.max`.
 * - At each tick of its backend (the tracker's one status call answers for engines too): an
 *   engine whose application ended is stopped (asked to) or failed (not asked: its jobs go
 *   back to the queue, see engine-backend.ts); an engine idle past its policy's
 *   `idleSeconds` is told to stop at its next poll, and killed if it has not ended a minute
 *   later; tenants whose policy asks for a minimum get their engines started.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { JobRecord } from '../domain/job-schema.js'
import type { JobStore } from '../domain/job-store.js'
import {
  ENGINE_BATCH,
  type EngineChoice,
  type EngineMode,
  type EnginePool,
} from '../domain/ports/engine-pool.js'
import {
  batchKey,
  type Backends,
  type BatchStatus,
  type SparkBackend,
} from '../domain/ports/spark-backend.js'
import type { RunArea } from '../runs/run-area.js'
import type { Stores } from '../storage/stores.js'
import type { EnginePolicy, Tenant } from '../tenancy/tenant-schema.js'
import { EngineBackend } from './engine-backend.js'
import { SERVING_ENGINE_STATES } from './engine-schema.js'
import { hashToken, type EngineRecord, type EngineStore } from './engine-store.js'

/** Ticks in a row an engine's batch may be missing from its backend's answer. */
const MISSES_BEFORE_FAILED = 3
/** How long a stopping engine has to end by itself before its batch is killed. */
const STOP_GRACE_MS = 60_000
/** A policy without `engines` (a tenant record older than them gets the server's defaults). */
const NO_POLICY: EnginePolicy = { min: 0, max: 1, idleSeconds: 600 }

/**
 * A long-lived application keeps less of its past for its UI than Spark's defaults (1,000
 * jobs and stages, 100,000 tasks): a training runs a hundred small jobs, and an engine that
 * kept them all would spend its heap and its listener's time on them.
 */
const ENGINE_CONF: Record<string, string> = {
  'spark.ui.retainedJobs': '200',
  'spark.ui.retainedStages': '200',
  'spark.ui.retainedTasks': '10000',
  'spark.sql.ui.retainedExecutions': '50',
}

/** How often a backend's tick looks at the tenants' minimums. */
const MINIMUMS_EVERY_MS = 5000
/** How long an engine may take from its record to its batch (a submit under way). */
const SUBMIT_GRACE_MS = 5 * 60_000

export interface EnginePoolOptions {
  store: EngineStore
  jobs: JobStore
  /** the backends as configured (unwrapped: engines are their batches) */
  backends: Backends
  stores: Stores
  runs: RunArea
  tenants: { current(id: string): Promise<Tenant>; ids(): Promise<string[]> }
  /** whether a job's kind runs in engines (training, scoring) */
  runsInEngine(job: JobRecord): boolean
  /** the gateway's URL as an engine's driver reaches it */
  gatewayUrl: string
  log: FastifyBaseLogger
}

export class WarmEngines implements EnginePool {
  readonly store: EngineStore
  /** each backend unwrapped, by name */
  private readonly raw = new Map<string, SparkBackend>()
  /** when each backend's minimums were last looked at (ms) */
  private readonly minimumsAt = new Map<string, number>()
  /** wakes polls waiting on a tenant's engine queue (tenant\nbackend) */
  private readonly waiting = new Map<string, Set<() => void>>()

  constructor(private readonly o: EnginePoolOptions) {
    this.store = o.store
    for (const [name, c] of o.backends.byName) this.raw.set(name, c.backend)
  }

  wrap(backend: SparkBackend): SparkBackend {
    this.raw.set(backend.name, backend)
    return new EngineBackend(backend, this.store, this.o.jobs)
  }

  static modeOf(job: JobRecord): EngineMode {
    return job.spec.engine ?? 'auto'
  }

  async choose(job: JobRecord): Promise<EngineChoice> {
    const mode = WarmEngines.modeOf(job)
    if (mode === 'cold' || !this.o.runsInEngine(job)) return 'cold'
    // an engine lost this job once: auto runs it cold now; warm asks for a fresh engine
    if (mode === 'auto' && job.internals?.engineLost) return 'cold'
    const serving = (await this.store.liveOf(job.tenant, job.backend)).filter((e) =>
      SERVING_ENGINE_STATES.includes(e.state),
    )
    if (serving.length > 0) return 'engine'
    if (mode === 'auto') return 'cold'
    const started = await this.start(job.tenant, job.backend, 'job')
    return started ? 'engine' : 'wait'
  }

  assign(name: string) {
    return { batchId: ENGINE_BATCH, batchName: name }
  }

  async enqueue(job: JobRecord, attempt: number, rank: number) {
    await this.store.enqueue(job.tenant, job.backend, job.id, attempt, rank)
    this.wake(job.tenant, job.backend)
  }

  async release(job: JobRecord) {
    await this.store.release(job.tenant, job.backend, job.id, job.attempts)
  }

  hasLive(backend: string) {
    return this.store.hasLive(backend)
  }

  // ── waiting polls ───────────────────────────────────────────────────────────────────

  /** Resolves when a job joins the tenant's engine queue on the backend, or after `ms`. */
  waitForWork(tenant: string, backend: string, ms: number, signal?: AbortSignal): Promise<void> {
    const key = `${tenant}\n${backend}`
    return new Promise((resolve) => {
      const set = this.waiting.get(key) ?? new Set()
      this.waiting.set(key, set)
      const done = () => {
        clearTimeout(timer)
        set.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      set.add(done)
      signal?.addEventListener('abort', done)
    })
  }

  private wake(tenant: string, backend: string) {
    for (const w of [...(this.waiting.get(`${tenant}\n${backend}`) ?? [])]) w()
  }

  // ── starting and stopping ───────────────────────────────────────────────────────────

  /**
   * Starts an engine of the tenant on the backend; undefined when the backend is at its
   * cap or the tenant at its `engines.max`. The record (and its slots) first, then its
   * files, then its batch: a failure on the way fails the engine and gives its slot back.
   */
  async start(tenant: string, backend: string, startedBy: 'job' | 'policy' | 'api') {
    const configured = this.o.backends.byName.get(backend)
    const raw = this.raw.get(backend)
    if (!configured || !raw) return undefined
    const t = await this.o.tenants.current(tenant)
    const token = randomBytes(32).toString('base64url')
    const policy = t.policy.engines ?? NO_POLICY
    const now = Date.now()
    const engine: EngineRecord = {
      id: `eng-${randomUUID()}`,
      tenant,
      backend,
      state: 'starting',
      clusterUser: t.clusterUser,
      startedBy,
      createdAt: new Date(now).toISOString(),
      jobsServed: 0,
      job: '',
      idleSince: now,
      idleTimeoutSeconds: policy.idleSeconds,
      misses: 0,
      tokenHash: hashToken(token),
      ...(t.policy.yarnQueues[0] ? { queue: t.policy.yarnQueues[0] } : {}),
    }
    const created = await this.store.create(engine, configured.maxLive, policy.max)
    if (created !== 'ok') return undefined
    this.o.log.info({ engine: engine.id, tenant, backend, startedBy }, 'starting a warm engine')
    try {
      const store = this.o.stores.of(backend)
      const owner = { tenant, user: t.clusterUser }
      const files = await this.o.runs.stageEngine(owner, store, engine.id, token)
      const ref = await raw.submit({
        name: `sparkgate-engine-${engine.id.slice(4, 12)}`,
        file: files.script,
        args: [this.o.gatewayUrl, engine.id, files.token],
        pyFiles: files.pyFiles,
        ...(engine.queue ? { queue: engine.queue } : {}),
        proxyUser: t.clusterUser,
        conf: ENGINE_CONF,
      })
      await this.store.update(engine.id, { ref, batchId: ref.batchId })
      return { ...engine, ref }
    } catch (error) {
      const reason = `could not start: ${(error as Error).message}`
      this.o.log.warn({ engine: engine.id, err: (error as Error).message }, 'engine start failed')
      await this.end(engine, 'failed', reason)
      return undefined
    }
  }

  /** DELETE /v1/engines/{id}: it stops at its next poll (after its job), else it is killed. */
  async stop(engine: EngineRecord, reason: string) {
    const moved = await this.store.transition(engine, ['starting', 'ready', 'busy'], 'stopping', {
      stoppingSince: Date.now(),
      reason,
    })
    // one that never polled is not listening: its batch is killed now
    if (moved && engine.state === 'starting' && engine.ref)
      await this.raw
        .get(engine.backend)
        ?.cancel(engine.ref)
        .catch(() => undefined)
    return moved
  }

  /** An engine ends: its slots and token go (the script), its folder too. */
  private async end(engine: EngineRecord, to: 'stopped' | 'failed', reason: string) {
    const ended = await this.store.transition(
      engine,
      ['starting', 'ready', 'busy', 'stopping'],
      to,
      {
        endedAt: new Date().toISOString(),
        reason: engine.reason && to === 'stopped' ? engine.reason : reason,
      },
    )
    if (ended) {
      this.o.log.info({ engine: engine.id, to, reason }, 'warm engine ended')
      await this.o.runs.discardEngine(this.o.stores.of(engine.backend), engine.tenant, engine.id)
    }
    return ended
  }

  // ── the tick ───────────────────────────────────────────────────────────────────────

  async tick(backend: string, statuses: Map<string, BatchStatus>): Promise<void> {
    const now = Date.now()
    for (const e of await this.store.live(backend)) {
      try {
        await this.follow(e, e.ref ? statuses.get(batchKey(e.ref)) : undefined, now)
      } catch (error) {
        this.o.log.warn({ engine: e.id, err: (error as Error).message }, 'engine tick failed')
      }
    }
    // tenants' minimums: every few seconds is enough (it reads every tenant's policy)
    if (now - (this.minimumsAt.get(backend) ?? 0) < MINIMUMS_EVERY_MS) return
    this.minimumsAt.set(backend, now)
    await this.minimums(backend).catch((error: unknown) =>
      this.o.log.warn({ err: (error as Error).message }, 'engine minimums failed'),
    )
  }

  private async follow(e: EngineRecord, status: BatchStatus | undefined, now: number) {
    if (!e.ref) {
      // its start is under way in some process; one that never got its batch fails
      if (now - Date.parse(e.createdAt) > SUBMIT_GRACE_MS)
        await this.end(e, 'failed', 'its batch was never submitted')
      return
    }
    if (!status) {
      const misses = e.misses + 1
      if (misses >= MISSES_BEFORE_FAILED)
        await this.end(
          e,
          e.state === 'stopping' ? 'stopped' : 'failed',
          `${e.backend} no longer knows its batch`,
        )
      else await this.store.update(e.id, { misses })
      return
    }
    if (e.misses) await this.store.update(e.id, { misses: 0 })
    const seen: Partial<EngineRecord> = {}
    if (status.appId && status.appId !== e.appId) seen.appId = status.appId
    if (status.sparkUiUrl && status.sparkUiUrl !== e.sparkUiUrl) seen.sparkUiUrl = status.sparkUiUrl
    if (Object.keys(seen).length) await this.store.update(e.id, seen)
    if (status.phase === 'succeeded' || status.phase === 'failed' || status.phase === 'killed') {
      if (e.state === 'stopping') await this.end(e, 'stopped', e.reason ?? 'stopped')
      else
        await this.end(
          e,
          'failed',
          `its application ended unasked (${e.backend}: ${status.rawState})`,
        )
      return
    }
    if (
      e.state === 'ready' &&
      now - e.idleSince > e.idleTimeoutSeconds * 1000 &&
      !(await this.store.waiting(e.tenant, e.backend))
    ) {
      await this.store.transition(e, ['ready'], 'stopping', {
        stoppingSince: now,
        reason: `idle for ${e.idleTimeoutSeconds}s`,
      })
      return
    }
    if (e.state === 'stopping' && e.stoppingSince && now - e.stoppingSince > STOP_GRACE_MS)
      await this.raw.get(e.backend)?.cancel(e.ref)
  }

  /** Tenants whose policy asks for engines ahead of time on this backend get them. */
  private async minimums(backend: string) {
    for (const id of await this.o.tenants.ids()) {
      const t = await this.o.tenants.current(id)
      const { min, max, backend: where } = t.policy.engines ?? NO_POLICY
      if (!min || (where ?? this.o.backends.defaultName) !== backend) continue
      const serving = (await this.store.liveOf(id, backend)).filter((e) =>
        SERVING_ENGINE_STATES.includes(e.state),
      )
      for (let i = serving.length; i < Math.min(min, max); i++)
        if (!(await this.start(id, backend, 'policy'))) break
    }
  }
}
