/**
 * The warm engines' records in Redis (keys in src/redis/keys.ts, scripts in
 * src/redis/lua/engine-*.lua): each engine's hash, the live sets that make it count
 * against its backend's cap and its tenant's maximum, each tenant's engine queue, the
 * claims (which engine runs which job's attempt) and how each attempt ended. Every change
 * of an engine's state is one compare-and-set that also appends its event.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisKeys } from '../redis/keys.js'
import { member as indexMember, memberId, streamMinId } from '../redis/paging.js'
import { RedisScripts } from '../redis/scripts.js'
import { eventEnvelope, type EventType } from '../schemas/events.js'
import type { BackendRef } from '../domain/job-schema.js'
import { LIVE_ENGINE_STATES, type Engine, type EngineState } from './engine-schema.js'

/** An engine as stored: its public fields and what only the gateway reads. */
export interface EngineRecord extends Omit<Engine, 'idleSeconds' | 'currentJob' | 'memory'> {
  /** the batch the engine runs as (the tracker's status call includes it) */
  ref?: BackendRef
  /** "<job id>|<attempt>" it holds, '' when none */
  job: string
  jobSince?: number
  idleSince: number
  idleTimeoutSeconds: number
  memoryUsed?: number
  memoryMax?: number
  /** SHA-256 of its token; removed when it ends */
  tokenHash?: string
  stoppingSince?: number
  /** tracker ticks in a row its batch was missing from the backend's answer */
  misses: number
}

/** How a job's attempt ended in an engine. */
export interface EngineRun {
  engine: string
  attempt: number
  outcome: 'succeeded' | 'failed' | 'cancelled'
  log: string[]
  error?: string
  appId?: string
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

function decode(raw: Record<string, string>): EngineRecord {
  const n = (k: string) => (raw[k] ? Number(raw[k]) : undefined)
  const opt = (k: string) => (raw[k] ? { [k]: raw[k] } : {})
  return {
    id: raw.id!,
    tenant: raw.tenant!,
    backend: raw.backend!,
    state: raw.state as EngineState,
    clusterUser: raw.clusterUser!,
    startedBy: raw.startedBy ?? 'job',
    createdAt: raw.createdAt!,
    jobsServed: n('jobsServed') ?? 0,
    job: raw.job ?? '',
    idleSince: n('idleSince') ?? 0,
    idleTimeoutSeconds: n('idleTimeoutSeconds') ?? 600,
    misses: n('misses') ?? 0,
    ...(raw.ref ? { ref: JSON.parse(raw.ref) as BackendRef } : {}),
    ...(n('jobSince') ? { jobSince: n('jobSince')! } : {}),
    ...(n('memoryUsed') !== undefined ? { memoryUsed: n('memoryUsed')! } : {}),
    ...(n('memoryMax') !== undefined ? { memoryMax: n('memoryMax')! } : {}),
    ...(n('stoppingSince') ? { stoppingSince: n('stoppingSince')! } : {}),
    ...opt('appId'),
    ...opt('batchId'),
    ...opt('sparkUiUrl'),
    ...opt('queue'),
    ...opt('readyAt'),
    ...opt('endedAt'),
    ...opt('lastSeenAt'),
    ...opt('reason'),
    ...opt('tokenHash'),
  }
}

/** What the API shows of an engine at `now` (ms). */
export function publicEngine(e: EngineRecord, now = Date.now()): Engine {
  const idle =
    e.state === 'ready' && e.idleSince ? Math.max(0, Math.floor((now - e.idleSince) / 1000)) : 0
  const pick = <K extends keyof EngineRecord>(k: K) => (e[k] !== undefined ? { [k]: e[k] } : {})
  return {
    id: e.id,
    tenant: e.tenant,
    backend: e.backend,
    state: e.state,
    clusterUser: e.clusterUser,
    startedBy: e.startedBy,
    createdAt: e.createdAt,
    jobsServed: e.jobsServed,
    idleTimeoutSeconds: e.idleTimeoutSeconds,
    idleSeconds: idle,
    ...pick('appId'),
    ...pick('batchId'),
    ...pick('sparkUiUrl'),
    ...pick('queue'),
    ...pick('readyAt'),
    ...pick('endedAt'),
    ...pick('lastSeenAt'),
    ...pick('reason'),
    ...(e.job ? { currentJob: e.job.slice(0, e.job.lastIndexOf('|')) } : {}),
    ...(e.memoryUsed !== undefined && e.memoryMax !== undefined
      ? { memory: { usedBytes: e.memoryUsed, maxBytes: e.memoryMax } }
      : {}),
  }
}

export class EngineStore {
  readonly keys: RedisKeys
  private readonly scripts: RedisScripts

  constructor(
    readonly redis: Redis,
    prefix: string,
    private readonly eventRetentionMs: number,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
  }

  async get(id: string): Promise<EngineRecord | undefined> {
    if (!/^eng-[a-z0-9-]{1,64}$/.test(id)) return undefined
    const raw = await this.redis.hgetall(this.keys.engine(id))
    return raw.state ? decode(raw) : undefined
  }

  async getMany(ids: string[]): Promise<EngineRecord[]> {
    if (ids.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const id of ids) pipeline.hgetall(this.keys.engine(id))
    const results = (await pipeline.exec()) ?? []
    return results
      .map(([, raw]) => raw as Record<string, string>)
      .filter((raw) => raw && raw.state)
      .map(decode)
  }

  /** The backend's engines that have not ended. */
  async live(backend: string): Promise<EngineRecord[]> {
    return this.getMany(await this.redis.smembers(this.keys.enginesLive(backend)))
  }

  async hasLive(backend: string): Promise<boolean> {
    return (await this.redis.scard(this.keys.enginesLive(backend))) > 0
  }

  /** The tenant's engines on a backend that have not ended. */
  async liveOf(tenant: string, backend: string): Promise<EngineRecord[]> {
    return this.getMany(await this.redis.smembers(this.keys.of(tenant).enginesLive(backend)))
  }

  /** Engines, newest first: the tenant's, or every tenant's (`tenant` undefined). */
  async list(tenant: string | undefined, max = 200): Promise<EngineRecord[]> {
    const key = tenant ? this.keys.of(tenant).engines() : this.keys.enginesAll()
    const members = await this.redis.zrevrangebylex(key, '+', '-', 'LIMIT', 0, max)
    return this.getMany(members.map(memberId))
  }

  /** Records a starting engine with its slots; 'ok', or which cap is reached. */
  async create(
    e: EngineRecord,
    backendCap: number,
    tenantMax: number,
  ): Promise<'ok' | 'backend' | 'tenant'> {
    const k = this.keys.of(e.tenant)
    const code = await this.scripts.run(
      'engine-start',
      [
        this.keys.live(e.backend),
        k.enginesLive(e.backend),
        this.keys.enginesLive(e.backend),
        this.keys.engine(e.id),
        this.keys.enginesAll(),
        k.engines(),
        k.events(),
      ],
      [
        e.id,
        backendCap,
        tenantMax,
        JSON.stringify(encode(e)),
        indexMember(e.createdAt, e.id),
        JSON.stringify(eventEnvelope(e.tenant, 'dev.sparkgate.engine.starting', e.id, e.createdAt)),
        JSON.stringify(publicEngine(e)),
        streamMinId(this.eventRetentionMs),
      ],
    )
    return code === 1 ? 'ok' : code === 0 ? 'backend' : 'tenant'
  }

  /**
   * Moves an engine from one of `from` to `to` with `set`; with an event of the new state
   * unless `quiet` (ready ⇄ busy are not events). False when it was in none of `from`.
   */
  async transition(
    e: EngineRecord,
    from: readonly EngineState[],
    to: EngineState,
    set: Partial<EngineRecord> = {},
    quiet = false,
  ): Promise<boolean> {
    const at = new Date().toISOString()
    const after: EngineRecord = { ...e, ...set, state: to }
    const ok = await this.scripts.run(
      'engine-state',
      [
        this.keys.engine(e.id),
        this.keys.live(e.backend),
        this.keys.of(e.tenant).enginesLive(e.backend),
        this.keys.enginesLive(e.backend),
        this.keys.of(e.tenant).events(),
      ],
      [
        e.id,
        from.join(','),
        to,
        JSON.stringify(encode(set)),
        quiet
          ? ''
          : JSON.stringify(
              eventEnvelope(e.tenant, `dev.sparkgate.engine.${to}` as EventType, e.id, at),
            ),
        JSON.stringify(publicEngine(after)),
        streamMinId(this.eventRetentionMs),
      ],
    )
    return ok === 1
  }

  /** Sets fields that are no state change (its batch, what its poll said). */
  async update(id: string, set: Partial<EngineRecord>): Promise<void> {
    const fields = encode(set)
    if (Object.keys(fields).length > 0) await this.redis.hset(this.keys.engine(id), fields)
  }

  /** The engine's token matches (constant time), and the engine has not ended. */
  static tokenMatches(e: EngineRecord, token: string): boolean {
    if (!e.tokenHash || !LIVE_ENGINE_STATES.includes(e.state)) return false
    const a = Buffer.from(e.tokenHash, 'hex')
    const b = Buffer.from(hashToken(token), 'hex')
    return a.length === b.length && timingSafeEqual(a, b)
  }

  // ── the engine queue ──────────────────────────────────────────────────────────────

  /** A job's attempt waits in its tenant's engine queue (again: a no-op). */
  async enqueue(tenant: string, backend: string, jobId: string, attempt: number, rank: number) {
    await this.redis.zadd(
      this.keys.of(tenant).engineQueue(backend),
      'NX',
      rank,
      `${jobId}|${attempt}`,
    )
  }

  /** How many jobs wait in the tenant's engine queue on the backend. */
  waiting(tenant: string, backend: string): Promise<number> {
    return this.redis.zcard(this.keys.of(tenant).engineQueue(backend))
  }

  /** Takes a waiting attempt out of its tenant's engine queue (a cancel). */
  async unqueue(tenant: string, backend: string, jobId: string, attempt: number) {
    await this.redis.zrem(this.keys.of(tenant).engineQueue(backend), `${jobId}|${attempt}`)
  }

  /** Takes a job's attempt out of the engines: out of the queue, its claim dropped. */
  async release(tenant: string, backend: string, jobId: string, attempt: number) {
    await this.redis
      .multi()
      .zrem(this.keys.of(tenant).engineQueue(backend), `${jobId}|${attempt}`)
      .hdel(this.keys.engineClaims(backend), jobId)
      .exec()
  }

  /** The next job of the engine's tenant ("<job id>|<attempt>"), '' for none, 'stop'. */
  claim(e: EngineRecord): Promise<string> {
    return this.scripts.run(
      'engine-claim',
      [
        this.keys.engine(e.id),
        this.keys.of(e.tenant).engineQueue(e.backend),
        this.keys.engineClaims(e.backend),
      ],
      [e.id, Date.now()],
    )
  }

  /** Gives up a claim the engine cannot run (the job moved on): the engine is free again. */
  async dropClaim(e: EngineRecord, jobId: string, member: string) {
    await this.scripts.run(
      'engine-drop',
      [this.keys.engine(e.id), this.keys.engineClaims(e.backend)],
      [jobId, member],
    )
  }

  /** Which engine holds a job's claim, and for which attempt. */
  async claimOf(
    backend: string,
    jobId: string,
  ): Promise<{ engine: string; attempt: number } | undefined> {
    const v = await this.redis.hget(this.keys.engineClaims(backend), jobId)
    if (!v) return undefined
    const [engine, attempt] = v.split('|')
    return { engine: engine!, attempt: Number(attempt) }
  }

  /** Records how the attempt ended, once (false: the claim is not this engine's). */
  async done(e: EngineRecord, jobId: string, run: EngineRun, ttlSeconds: number): Promise<boolean> {
    const ok = await this.scripts.run(
      'engine-done',
      [this.keys.engine(e.id), this.keys.engineClaims(e.backend), this.keys.engineRun(jobId)],
      [
        e.id,
        jobId,
        run.attempt,
        JSON.stringify({
          engine: run.engine,
          attempt: String(run.attempt),
          outcome: run.outcome,
          log: JSON.stringify(run.log),
          ...(run.error ? { error: run.error } : {}),
          ...(run.appId ? { appId: run.appId } : {}),
        }),
        ttlSeconds,
        Date.now(),
      ],
    )
    return ok === 1
  }

  async runOf(jobId: string): Promise<EngineRun | undefined> {
    const raw = await this.redis.hgetall(this.keys.engineRun(jobId))
    if (!raw.outcome) return undefined
    return {
      engine: raw.engine!,
      attempt: Number(raw.attempt),
      outcome: raw.outcome as EngineRun['outcome'],
      log: JSON.parse(raw.log ?? '[]') as string[],
      ...(raw.error ? { error: raw.error } : {}),
      ...(raw.appId ? { appId: raw.appId } : {}),
    }
  }
}

/** An engine's fields as hash strings (objects as JSON; undefined left out). */
function encode(set: Partial<EngineRecord>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(set)) {
    if (v === undefined) continue
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return out
}
