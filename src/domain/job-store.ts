/**
 * The job store: the only writer of job state. A job is one Redis hash; every change of
 * state is one Lua script that checks the current state, writes the new fields, moves
 * the job between the per-state indexes and the backend's live set, and appends an
 * event to the job's history — all or nothing.
 *
 * Keys (prefix P = SPARKGATE_REDIS_PREFIX):
 *   P:job:<id>            hash: state, spec, name, backend, timestamps, backendRef, error…
 *   P:job:<id>:events     list of JSON events {at, from, to, reason}
 *   P:jobs:all            sorted set (score 0) of "<createdAt ms, 15 digits>|<id>": newest-first
 *   P:jobs:state:<state>  the same members, per state (listing filters, reconciliation)
 *   P:live:<backend>      set of ids holding a live slot of that backend (the cap)
 *   P:idem:<key>          idempotency record {jobId, bodyHash}, with a TTL
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { BackendRef, Job, JobError, JobEvent, JobSpec } from './job-schema.js'
import {
  IllegalTransitionError,
  JOB_STATES,
  LIVE_STATES,
  StaleTransitionError,
  canTransition,
  type JobState,
} from './job-state.js'

const CREATE = `
local job, events, all, queued, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if idem ~= '' then
  local existing = redis.call('GET', idem)
  if existing then return {0, existing} end
end
local n = tonumber(ARGV[1])
for i = 0, n - 1 do redis.call('HSET', job, ARGV[2 + i * 2], ARGV[3 + i * 2]) end
local member, event, idemValue, ttl = ARGV[2 + n * 2], ARGV[3 + n * 2], ARGV[4 + n * 2], ARGV[5 + n * 2]
redis.call('ZADD', all, 0, member)
redis.call('ZADD', queued, 0, member)
redis.call('RPUSH', events, event)
if idem ~= '' then redis.call('SET', idem, idemValue, 'EX', ttl) end
return {1, ''}
`

const TRANSITION = `
local job, events = KEYS[1], KEYS[2]
local prefix, id, to, allowed, via, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local state = redis.call('HGET', job, 'state')
if not state then return {0, ''} end
local ok = false
for s in string.gmatch(allowed, '[^,]+') do if s == state then ok = true end end
if not ok then return {0, state} end
local n = tonumber(ARGV[8])
for i = 0, n - 1 do
  local f, v = ARGV[9 + i * 2], ARGV[10 + i * 2]
  if v == '' then redis.call('HDEL', job, f) else redis.call('HSET', job, f, v) end
end
redis.call('HSET', job, 'state', to, 'updatedAt', now)
local member = redis.call('HGET', job, 'sortKey')
redis.call('ZREM', prefix .. ':jobs:state:' .. state, member)
redis.call('ZADD', prefix .. ':jobs:state:' .. to, 0, member)
local live = prefix .. ':live:' .. redis.call('HGET', job, 'backend')
local liveStates = ARGV[9 + n * 2]
local isLive = false
for s in string.gmatch(liveStates, '[^,]+') do if s == to then isLive = true end end
if isLive then redis.call('SADD', live, id) else redis.call('SREM', live, id) end
-- the caller's event JSON lacks only "from", which only this script knows
redis.call('RPUSH', events, '{"from":"' .. state .. '",' .. string.sub(ARGV[10 + n * 2], 2))
if via ~= '' then redis.call('RPUSH', events, ARGV[11 + n * 2]) end
return {1, state}
`

/** Reserve a live slot of a backend when fewer than `cap` are held. */
const RESERVE = `
local live, id, cap = KEYS[1], ARGV[1], tonumber(ARGV[2])
if redis.call('SISMEMBER', live, id) == 1 then return 1 end
if redis.call('SCARD', live) >= cap then return 0 end
redis.call('SADD', live, id)
return 1
`

type Fields = Partial<Record<string, string | number | boolean | object | undefined>>

export interface CreateResult {
  job: Job
  created: boolean
  /** set when an Idempotency-Key matched a job created from a different body */
  conflict?: boolean
}

export interface ListQuery {
  state?: JobState
  backend?: string
  name?: string
  limit: number
  cursor?: string
}

export interface TransitionOptions {
  reason?: string
  /** record an intermediate state (failed → queued for a retry) in the same update */
  via?: JobState
  set?: Fields
}

export class InvalidCursorError extends Error {}

export function bodyHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex')
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const JSON_FIELDS = new Set(['spec', 'backendRef', 'error', 'inputs'])
const INT_FIELDS = new Set(['attempts', 'maxAttempts', 'priority', 'timeoutSeconds'])

export class JobStore {
  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly idempotencyTtlSeconds = 24 * 3600,
  ) {
    redis.defineCommand('sgCreateJob', { numberOfKeys: 5, lua: CREATE })
    redis.defineCommand('sgTransition', { numberOfKeys: 2, lua: TRANSITION })
    redis.defineCommand('sgReserve', { numberOfKeys: 1, lua: RESERVE })
  }

  private key(...parts: string[]) {
    return [this.prefix, ...parts].join(':')
  }

  /**
   * Creates a queued job. With an idempotency key, the same key returns the job it
   * created before (`created: false`), or `conflict` when the body differs.
   */
  async create(
    spec: JobSpec,
    defaults: { backend: string; inputs?: Record<string, string> },
    idempotencyKey?: string,
  ): Promise<CreateResult> {
    const id = randomUUID()
    const now = new Date()
    const at = now.toISOString()
    const sortKey = `${String(now.getTime()).padStart(15, '0')}|${id}`
    const hash = bodyHash(spec)
    const fields: Fields = {
      id,
      state: 'queued',
      name: spec.name ?? id,
      backend: spec.backend ?? defaults.backend,
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
    }
    const flat = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => [k, encode(v)])
    const idemKey = idempotencyKey
      ? this.key('idem', createHash('sha256').update(idempotencyKey).digest('hex'))
      : ''
    const event = JSON.stringify({ at, from: null, to: 'queued', reason: 'accepted' })
    const [created, existing] = (await (this.redis as unknown as CustomCommands).sgCreateJob(
      this.key('job', id),
      this.key('job', id, 'events'),
      this.key('jobs', 'all'),
      this.key('jobs', 'state', 'queued'),
      idemKey,
      flat.length / 2,
      ...flat,
      sortKey,
      event,
      JSON.stringify({ jobId: id, bodyHash: hash }),
      this.idempotencyTtlSeconds,
    )) as [number, string]
    if (created === 1) return { job: (await this.get(id))!, created: true }
    const previous = JSON.parse(existing) as { jobId: string; bodyHash: string }
    const job = await this.get(previous.jobId)
    if (!job) throw new Error(`idempotency record points at missing job ${previous.jobId}`)
    return { job, created: false, conflict: previous.bodyHash !== hash }
  }

  async get(id: string): Promise<Job | undefined> {
    const raw = await this.redis.hgetall(this.key('job', id))
    if (!raw['state']) return undefined
    return decodeJob(raw)
  }

  async getMany(ids: string[]): Promise<Job[]> {
    if (ids.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const id of ids) pipeline.hgetall(this.key('job', id))
    const results = (await pipeline.exec()) ?? []
    return results
      .map(([, raw]) => raw as Record<string, string>)
      .filter((raw) => raw && raw['state'])
      .map(decodeJob)
  }

  async events(id: string): Promise<JobEvent[]> {
    const raw = await this.redis.lrange(this.key('job', id, 'events'), 0, -1)
    return raw.map((e) => JSON.parse(e) as JobEvent)
  }

  /**
   * Moves a job from one of `from` to `to`, atomically. Throws IllegalTransitionError for
   * a pair outside the table, StaleTransitionError when the job is in none of `from`.
   */
  async transition(
    id: string,
    from: readonly JobState[],
    to: JobState,
    options: TransitionOptions = {},
  ): Promise<{ previous: JobState }> {
    for (const f of from) {
      if (options.via) {
        if (!canTransition(f, options.via) || !canTransition(options.via, to)) {
          throw new IllegalTransitionError(id, f, to)
        }
      } else if (!canTransition(f, to)) throw new IllegalTransitionError(id, f, to)
    }
    const now = new Date().toISOString()
    const set: Fields = { ...options.set }
    if (to === 'submitted') set['submittedAt'] ??= now
    if (to === 'running') set['startedAt'] ??= now
    if (to === 'succeeded' || to === 'failed' || to === 'cancelled') set['finishedAt'] ??= now
    const flat = Object.entries(set).flatMap(([k, v]) => [k, v === undefined ? '' : encode(v)])
    const [ok, previous] = (await (this.redis as unknown as CustomCommands).sgTransition(
      this.key('job', id),
      this.key('job', id, 'events'),
      this.prefix,
      id,
      to,
      from.join(','),
      options.via ?? '',
      now,
      '',
      flat.length / 2,
      ...flat,
      LIVE_STATES.join(','),
      JSON.stringify({ at: now, to: options.via ?? to, reason: options.reason }),
      options.via ? JSON.stringify({ at: now, from: options.via, to, reason: 'retry' }) : '',
    )) as [number, string]
    if (ok !== 1)
      throw new StaleTransitionError(id, from, (previous || undefined) as JobState | undefined)
    return { previous: previous as JobState }
  }

  /** Writes fields that are not state (raw backend state, URLs) without an event. */
  async update(id: string, set: Fields): Promise<void> {
    const flat = Object.entries(set)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => [k, encode(v)])
    if (flat.length > 0) await this.redis.hset(this.key('job', id), ...flat)
  }

  /** Takes a live slot of `backend` for job `id` when fewer than `cap` are taken. */
  async reserveSlot(backend: string, id: string, cap: number): Promise<boolean> {
    return (
      (await (this.redis as unknown as CustomCommands).sgReserve(
        this.key('live', backend),
        id,
        cap,
      )) === 1
    )
  }

  /** Gives back a slot reserved by a job that then did not go live. */
  async releaseSlot(backend: string, id: string): Promise<void> {
    const state = await this.redis.hget(this.key('job', id), 'state')
    if (!state || !LIVE_STATES.includes(state as JobState))
      await this.redis.srem(this.key('live', backend), id)
  }

  async liveIds(backend: string): Promise<string[]> {
    return this.redis.smembers(this.key('live', backend))
  }

  async countByState(state: JobState): Promise<number> {
    return this.redis.zcard(this.key('jobs', 'state', state))
  }

  /** Ids of jobs in `state`, oldest first (for reconciliation), or newest first. */
  async idsInState(state: JobState, max = 10_000, newestFirst = false): Promise<string[]> {
    const key = this.key('jobs', 'state', state)
    const members = newestFirst
      ? await this.redis.zrevrangebylex(key, '+', '-', 'LIMIT', 0, max)
      : await this.redis.zrangebylex(key, '-', '+', 'LIMIT', 0, max)
    return members.map((m) => m.slice(m.indexOf('|') + 1))
  }

  /** Newest first, with an opaque cursor; filters by state (index), backend and name. */
  async list(query: ListQuery): Promise<{ items: Job[]; nextCursor?: string }> {
    const index = query.state ? this.key('jobs', 'state', query.state) : this.key('jobs', 'all')
    let upper = '+'
    if (query.cursor) {
      let decoded: string
      try {
        decoded = Buffer.from(query.cursor, 'base64url').toString('utf8')
      } catch {
        throw new InvalidCursorError('cursor is not valid')
      }
      if (!/^\d{15}\|[0-9a-f-]{36}$/.test(decoded))
        throw new InvalidCursorError('cursor is not valid')
      upper = `(${decoded}`
    }
    const items: Job[] = []
    let lastScanned: string | undefined
    let exhausted = false
    // Scan at most 20 pages so that a selective filter cannot make one request unbounded.
    for (let page = 0; page < 20 && items.length < query.limit; page++) {
      const batch = Math.max(query.limit * 2, 50)
      const members = await this.redis.zrevrangebylex(index, upper, '-', 'LIMIT', 0, batch)
      if (members.length === 0) {
        exhausted = true
        break
      }
      const jobs = await this.getMany(members.map((m) => m.slice(m.indexOf('|') + 1)))
      const byId = new Map(jobs.map((j) => [j.id, j]))
      for (const member of members) {
        const job = byId.get(member.slice(member.indexOf('|') + 1))
        lastScanned = member
        if (!job) continue
        if (query.backend && job.backend !== query.backend) continue
        if (query.name && job.name !== query.name) continue
        if (query.state && job.state !== query.state) continue
        items.push(job)
        if (items.length === query.limit) break
      }
      if (members.length < batch && lastScanned === members.at(-1)) {
        exhausted = true
        break
      }
      upper = `(${lastScanned}`
    }
    const more = !exhausted && lastScanned !== undefined
    return {
      items,
      ...(more ? { nextCursor: Buffer.from(lastScanned!, 'utf8').toString('base64url') } : {}),
    }
  }
}

interface CustomCommands {
  sgCreateJob(...args: (string | number)[]): Promise<unknown>
  sgTransition(...args: (string | number)[]): Promise<unknown>
  sgReserve(...args: (string | number)[]): Promise<unknown>
}

function encode(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

function decodeJob(raw: Record<string, string>): Job {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'sortKey') continue
    if (JSON_FIELDS.has(k)) out[k] = JSON.parse(v)
    else if (INT_FIELDS.has(k)) out[k] = Number(v)
    else if (k === 'cancelRequested') out[k] = v === 'true'
    else out[k] = v
  }
  out['backendState'] ??= null
  if (!JOB_STATES.includes(out['state'] as JobState))
    throw new Error(`job ${raw['id']}: unknown state ${raw['state']}`)
  return out as unknown as Job
}

export type { BackendRef, JobError }
