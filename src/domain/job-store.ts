/**
 * The job store: the only writer of job state. A job is one Redis hash of one tenant;
 * every change of state is one Lua script (src/redis/lua/transition-15.lua) that checks
 * the current state (and, when asked, the attempt), writes the new fields, moves the job
 * between the per-state indexes and the backend's and tenant's live sets, keeps the
 * enqueue outbox, and appends an event to the job's history — all or nothing.
 *
 * Accepting a job is one script too (create-job-n.lua): the record, the dataset users and
 * the outbox entry. The queue entry (BullMQ's own keys) is made right after; until then
 * the job waits in the outbox (P:jobs:unqueued), which the tracker drains every tick — a
 * crash between the two delays a job by a tick, never loses it.
 * Key names: src/redis/keys.ts.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { JOB_ID } from '../schemas/common.js'
import { eventEnvelope, jobEventType, type JobEventData } from '../schemas/events.js'
import { RedisKeys } from '../redis/keys.js'
import { member as indexMember, memberId, streamMinId } from '../redis/paging.js'
import { clockOf, type RedisClock } from '../redis/clock.js'
import { RedisScripts } from '../redis/scripts.js'
import type {
  BackendRef,
  Job,
  JobError,
  JobEvent,
  JobInternals,
  JobRecord,
  JobSpec,
} from './job-schema.js'
import {
  IllegalTransitionError,
  JOB_STATES,
  LIVE_STATES,
  StaleTransitionError,
  TERMINAL_STATES,
  canTransition,
  type JobState,
} from './job-state.js'
import { bodyHash, decodeJob, encode, encodeAll, tenantOf, type Fields } from './job-codec.js'
import { listJobs } from './job-listing.js'
import { TrackerMarks } from './tracker-marks.js'
import type { CreateResult, ListQuery, TransitionOptions } from './job-store-types.js'

/**
 * Who a transition moves: the job's id, backend and tenant (whose live sets it may enter
 * or leave).
 */
export type JobKey = Pick<Job, 'id' | 'backend' | 'tenant'>

export class JobStore {
  /** the tracker's marks: missing batches, backends seen */
  readonly marks: TrackerMarks
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts
  /** Redis's time: every replica's timestamps on one clock */
  readonly clock: RedisClock
  /** told of each state a job enters through this process (the metrics count them) */
  onTransition?: (backend: string, to: JobState) => void

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly idempotencyTtlSeconds = 24 * 3600,
    /** how long the tenant's event stream keeps an event (0: forever) */
    private readonly eventRetentionMs = 7 * 86_400_000,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
    this.clock = clockOf(redis)
    this.marks = new TrackerMarks(redis, this.keys, this.clock)
  }

  /**
   * Creates a queued job of a tenant with the given id. With an idempotency key (the
   * tenant's own: two tenants' equal keys never meet), the same key returns the job it
   * created before (`created: false`), or `conflict` when the body differs. `overQuota`
   * when the tenant has `maxActive` jobs that have not ended.
   */
  async create(
    id: string,
    spec: JobSpec,
    defaults: {
      tenant: string
      maxActive: number
      backend: string
      /** the YARN queue it runs in (the spec's, or the tenant's default) */
      queue?: string
      inputs?: Record<string, string>
      internals?: JobInternals
      /** the uploaded datasets it reads: checked to exist and told of it, in the same step */
      datasets?: string[]
      /**
       * the spec as the request sent it, when the recorded one holds what Sparkgate resolved
       * (a replay may resolve anew): what an idempotent replay is compared by
       */
      request?: JobSpec
    },
    idempotencyKey?: string,
  ): Promise<CreateResult> {
    const now = new Date(await this.clock.fresh())
    const at = now.toISOString()
    const sortKey = indexMember(now, id)
    const hash = bodyHash(defaults.request ?? spec)
    const tenant = this.keys.of(defaults.tenant)
    const fields: Fields = {
      id,
      tenant: defaults.tenant,
      state: 'queued',
      name: spec.name ?? id,
      backend: spec.backend ?? defaults.backend,
      queue: defaults.queue,
      priority: spec.priority ?? 5,
      maxAttempts: spec.maxAttempts ?? 1,
      timeoutSeconds: spec.timeoutSeconds,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
      sortKey,
      spec,
      ...(defaults.inputs && Object.keys(defaults.inputs).length > 0
        ? { inputs: defaults.inputs }
        : {}),
      ...(defaults.internals && Object.keys(defaults.internals).length > 0
        ? { internals: defaults.internals }
        : {}),
    }
    const data: JobEventData = {
      jobId: id,
      name: spec.name ?? id,
      state: 'queued',
      previousState: null,
      reason: 'accepted',
      attempt: 0,
      backend: spec.backend ?? defaults.backend,
      backendRef: null,
      error: null,
      sequence: 0,
    }
    const idemHash = createHash('sha256')
      .update(`${defaults.tenant}\n${idempotencyKey ?? ''}`)
      .digest('hex')
    const [created, existing] = await this.scripts.run(
      'create-job',
      [
        this.keys.job(id),
        this.keys.jobEvents(id),
        this.keys.jobsAll(),
        this.keys.jobsInState('queued'),
        this.keys.idempotency(idemHash),
        tenant.jobs(),
        tenant.active(),
        tenant.events(),
        this.keys.jobsUnqueued(),
        ...(defaults.datasets ?? []).flatMap((d) => [tenant.dataset(d), tenant.datasetJobs(d)]),
      ],
      [
        JSON.stringify(encodeAll(fields)),
        sortKey,
        JSON.stringify({ at, from: null, to: 'queued', reason: 'accepted' }),
        idempotencyKey ? this.idempotencyTtlSeconds : 0,
        JSON.stringify({ jobId: id, bodyHash: hash }),
        defaults.maxActive,
        id,
        JSON.stringify(eventEnvelope(defaults.tenant, 'dev.sparkgate.job.queued', id, at)),
        JSON.stringify(data),
        streamMinId(this.eventRetentionMs),
        now.getTime(),
      ],
    )
    // the record is what was written: no read back
    if (created === 1) this.onTransition?.(spec.backend ?? defaults.backend, 'queued')
    if (created === 1)
      return { job: decodeJob(encodeAll(fields)), created: true, active: Number(existing) }
    if (created === -1) return { overQuota: Number(existing) }
    if (created === -2) return { missingDataset: defaults.datasets![Number(existing) - 1]! }
    const previous = JSON.parse(existing) as { jobId: string; bodyHash: string }
    const job = await this.get(previous.jobId)
    if (!job) throw new Error(`idempotency record points at missing job ${previous.jobId}`)
    return { job, created: false, conflict: previous.bodyHash !== hash }
  }

  /** The queue entry of a job's attempt exists: the job leaves the enqueue outbox. */
  async enqueued(id: string): Promise<void> {
    await this.redis.zrem(this.keys.jobsUnqueued(), id)
  }

  /** Whether a queued job still waits for its queue entry. */
  async inOutbox(id: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.jobsUnqueued(), id)) !== null
  }

  /** Jobs queued more than `olderThanMs` ago whose queue entry was not made, oldest first. */
  async outbox(olderThanMs: number, max = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(
      this.keys.jobsUnqueued(),
      '-inf',
      (await this.clock.fresh()) - olderThanMs,
      'LIMIT',
      0,
      max,
    )
  }

  /** The job, or undefined — also for a string that is not a job id at all. */
  async get(id: string): Promise<JobRecord | undefined> {
    if (!JOB_ID.test(id)) return undefined
    const raw = await this.redis.hgetall(this.keys.job(id))
    if (!raw['state']) return undefined
    return decodeJob(raw)
  }

  async getMany(ids: string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const id of ids) pipeline.hgetall(this.keys.job(id))
    const results = (await pipeline.exec()) ?? []
    return results
      .map(([, raw]) => raw as Record<string, string>)
      .filter((raw) => raw && raw['state'])
      .map(decodeJob)
  }

  async events(id: string): Promise<JobEvent[]> {
    if (!JOB_ID.test(id)) return []
    const raw = await this.redis.lrange(this.keys.jobEvents(id), 0, -1)
    return raw.map((e) => JSON.parse(e) as JobEvent)
  }

  /** The first of `ids` whose job has not ended (missing jobs have ended), if any. */
  async firstActive(ids: string[]): Promise<string | undefined> {
    if (ids.length === 0) return undefined
    const pipeline = this.redis.pipeline()
    for (const id of ids) pipeline.hget(this.keys.job(id), 'state')
    const states = ((await pipeline.exec()) ?? []).map(([, state]) => state as string | null)
    const i = states.findIndex((s) => s !== null && !TERMINAL_STATES.includes(s as JobState))
    return i < 0 ? undefined : ids[i]
  }

  /**
   * Moves a job from one of `from` to `to`, atomically. Throws IllegalTransitionError for
   * a pair outside the table, StaleTransitionError when the job is in none of `from`.
   */
  async transition(
    job: JobKey,
    from: readonly JobState[],
    to: JobState,
    options: TransitionOptions = {},
  ): Promise<{ previous: JobState }> {
    const id = job.id
    for (const f of from) {
      if (options.via) {
        if (!canTransition(f, options.via) || !canTransition(options.via, to)) {
          throw new IllegalTransitionError(id, f, to)
        }
      } else if (!canTransition(f, to)) throw new IllegalTransitionError(id, f, to)
    }
    const now = new Date(await this.clock.fresh()).toISOString()
    const set: Fields = { ...options.set }
    if (to === 'submitted') set['submittedAt'] ??= now
    if (to === 'running') set['startedAt'] ??= now
    if (to === 'succeeded' || to === 'failed' || to === 'cancelled') set['finishedAt'] ??= now
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries(set)) fields[k] = v === undefined ? '' : encode(v)
    const [ok, previous] = await this.scripts.run(
      'transition',
      [
        this.keys.job(id),
        this.keys.jobEvents(id),
        this.keys.live(job.backend),
        this.keys.of(tenantOf(job)).live(),
        this.keys.of(tenantOf(job)).active(),
        this.keys.of(tenantOf(job)).events(),
        ...JOB_STATES.map((s) => this.keys.jobsInState(s)),
        this.keys.jobsUnqueued(),
      ],
      [
        to,
        from.join(','),
        now,
        JSON.stringify(fields),
        LIVE_STATES.join(','),
        JOB_STATES.join(','),
        JSON.stringify({ at: now, to: options.via ?? to, reason: options.reason }),
        options.via ? JSON.stringify({ at: now, from: options.via, to, reason: 'retry' }) : '',
        TERMINAL_STATES.join(','),
        JSON.stringify(eventEnvelope(tenantOf(job), jobEventType(options.via ?? to), id, now)),
        options.via ? JSON.stringify(eventEnvelope(tenantOf(job), jobEventType(to), id, now)) : '',
        streamMinId(this.eventRetentionMs),
        Date.parse(now),
        options.attempt === undefined ? '' : options.attempt,
      ],
    )
    if (ok !== 1)
      throw new StaleTransitionError(id, from, (previous || undefined) as JobState | undefined)
    if (options.via) this.onTransition?.(job.backend, options.via)
    this.onTransition?.(job.backend, to)
    return { previous: previous as JobState }
  }

  /** Writes fields that are not state (raw backend state, URLs) without an event. */
  async update(id: string, set: Fields): Promise<void> {
    const flat = Object.entries(set)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => [k, encode(v)])
    if (flat.length > 0) await this.redis.hset(this.keys.job(id), ...flat)
  }

  /**
   * Takes a live slot of the job's backend when fewer than `cap` are taken and its tenant
   * holds fewer than `tenantCap`: 'ok', or which cap stopped it.
   */
  async reserveSlot(
    job: JobKey,
    cap: number,
    tenantCap: number,
  ): Promise<'ok' | 'backend' | 'tenant'> {
    const code = await this.scripts.run(
      'reserve-slot',
      [this.keys.live(job.backend), this.keys.of(tenantOf(job)).live()],
      [job.id, cap, tenantCap],
    )
    return code === 1 ? 'ok' : code === 0 ? 'backend' : 'tenant'
  }

  /** Gives back a slot reserved by a job that then did not go live. */
  async releaseSlot(job: JobKey): Promise<void> {
    await this.scripts.run(
      'release-slot',
      [this.keys.job(job.id), this.keys.live(job.backend), this.keys.of(tenantOf(job)).live()],
      [job.id, LIVE_STATES.join(',')],
    )
  }

  /** How many of a tenant's jobs have not ended, and how many hold a live slot. */
  async tenantCounts(tenant: string): Promise<{ active: number; live: number }> {
    const k = this.keys.of(tenant)
    const [active, live] = await Promise.all([
      this.redis.scard(k.active()),
      this.redis.scard(k.live()),
    ])
    return { active, live }
  }

  async liveIds(backend: string): Promise<string[]> {
    return this.redis.smembers(this.keys.live(backend))
  }

  async countByState(state: JobState): Promise<number> {
    return this.redis.zcard(this.keys.jobsInState(state))
  }

  /** Ids of jobs in `state`, oldest first (for reconciliation), or newest first. */
  async idsInState(state: JobState, max = 10_000, newestFirst = false): Promise<string[]> {
    const key = this.keys.jobsInState(state)
    const members = newestFirst
      ? await this.redis.zrevrangebylex(key, '+', '-', 'LIMIT', 0, max)
      : await this.redis.zrangebylex(key, '-', '+', 'LIMIT', 0, max)
    return members.map(memberId)
  }

  /**
   * Newest first, with an opaque cursor; one tenant's (its index) or every tenant's;
   * filters by state (the state's index when listing every tenant), backend and name.
   */
  /** A page of jobs, newest first, filtered (src/domain/job-listing.ts). */
  list(query: ListQuery): Promise<{ items: Job[]; nextCursor?: string }> {
    const index = query.tenant
      ? this.keys.of(query.tenant).jobs()
      : query.state
        ? this.keys.jobsInState(query.state)
        : this.keys.jobsAll()
    return listJobs(this.redis, index, query, (ids) => this.getMany(ids))
  }
}

export type { BackendRef, JobError }
export type { ListQuery, TransitionOptions }
