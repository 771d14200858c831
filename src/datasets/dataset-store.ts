/**
 * Dataset records in Redis. A dataset is content-addressed: its id is the SHA-256 of its
 * bytes, so the same bytes uploaded twice are one dataset. Records are created only once
 * the bytes sit at their final HDFS path, and with SET NX, so concurrent uploads of the
 * same bytes yield one record.
 *
 * Keys (prefix P = SPARKGATE_REDIS_PREFIX):
 *   P:dataset:<sha256>        JSON record
 *   P:dataset:<sha256>:jobs   ids of the jobs that reference it (DELETE checks them)
 *   P:datasets                sorted set (score 0) of "<createdAt ms, 15 digits>|<sha256>"
 */
import type { Redis } from 'ioredis'
import { JOB_STATES, TERMINAL_STATES } from '../domain/job-state.js'
import type { Dataset } from './dataset-schema.js'

const CREATE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  return {1, ARGV[1]}
end
return {0, redis.call('GET', KEYS[1])}
`

// Deletes the record unless one of its jobs has not ended; returns the live job's id, or ''.
const DELETE = `
local record, users, index = KEYS[1], KEYS[2], KEYS[3]
local prefix, member, live = ARGV[1], ARGV[2], ARGV[3]
for _, id in ipairs(redis.call('SMEMBERS', users)) do
  local state = redis.call('HGET', prefix .. ':job:' .. id, 'state')
  if state and string.find(',' .. live .. ',', ',' .. state .. ',', 1, true) then return {0, id} end
end
if redis.call('DEL', record) == 0 then return {-1, ''} end
redis.call('DEL', users)
redis.call('ZREM', index, member)
return {1, ''}
`

/** A job in any of these states still needs its datasets (queued ones included). */
const IN_USE = JOB_STATES.filter((s) => !TERMINAL_STATES.includes(s))

export class InvalidDatasetCursorError extends Error {}

export class DatasetStore {
  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
  ) {
    redis.defineCommand('sgCreateDataset', { numberOfKeys: 2, lua: CREATE })
    redis.defineCommand('sgDeleteDataset', { numberOfKeys: 3, lua: DELETE })
  }

  private key(...parts: string[]) {
    return [this.prefix, ...parts].join(':')
  }

  private member(d: Dataset) {
    return `${String(Date.parse(d.createdAt)).padStart(15, '0')}|${d.id}`
  }

  /** Records a dataset unless its bytes are known already: then the existing record. */
  async createIfAbsent(dataset: Dataset): Promise<{ dataset: Dataset; created: boolean }> {
    const [created, json] = (await (this.redis as unknown as Commands).sgCreateDataset(
      this.key('dataset', dataset.id),
      this.key('datasets'),
      JSON.stringify(dataset),
      this.member(dataset),
    )) as [number, string]
    return { dataset: JSON.parse(json) as Dataset, created: created === 1 }
  }

  async get(id: string): Promise<Dataset | undefined> {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined
    const json = await this.redis.get(this.key('dataset', id))
    return json ? (JSON.parse(json) as Dataset) : undefined
  }

  /** Newest first, with an opaque cursor. */
  async list(limit: number, cursor?: string): Promise<{ items: Dataset[]; nextCursor?: string }> {
    let upper = '+'
    if (cursor) {
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8')
      if (!/^\d{15}\|[0-9a-f]{64}$/.test(decoded))
        throw new InvalidDatasetCursorError('cursor is not valid')
      upper = `(${decoded}`
    }
    const members = await this.redis.zrevrangebylex(
      this.key('datasets'),
      upper,
      '-',
      'LIMIT',
      0,
      limit + 1,
    )
    const page = members.slice(0, limit)
    const ids = page.map((m) => m.slice(m.indexOf('|') + 1))
    const values = ids.length ? await this.redis.mget(ids.map((id) => this.key('dataset', id))) : []
    const items = values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Dataset)
    const more = members.length > limit
    return {
      items,
      ...(more ? { nextCursor: Buffer.from(page.at(-1)!, 'utf8').toString('base64url') } : {}),
    }
  }

  /** Notes that job `jobId` reads these datasets (a DELETE waits for it to end). */
  async addUsers(ids: string[], jobId: string) {
    if (ids.length === 0) return
    const multi = this.redis.multi()
    for (const id of ids) multi.sadd(this.key('dataset', id, 'jobs'), jobId)
    await multi.exec()
  }

  /** Removes the record: 'deleted', 'missing', or the id of a live job that uses it. */
  async delete(
    dataset: Dataset,
  ): Promise<{ deleted: true } | { deleted: false; liveJob?: string }> {
    const [code, jobId] = (await (this.redis as unknown as Commands).sgDeleteDataset(
      this.key('dataset', dataset.id),
      this.key('dataset', dataset.id, 'jobs'),
      this.key('datasets'),
      this.prefix,
      this.member(dataset),
      IN_USE.join(','),
    )) as [number, string]
    if (code === 1) return { deleted: true }
    return code === 0 ? { deleted: false, liveJob: jobId } : { deleted: false }
  }
}

interface Commands {
  sgCreateDataset(...args: (string | number)[]): Promise<unknown>
  sgDeleteDataset(...args: (string | number)[]): Promise<unknown>
}
