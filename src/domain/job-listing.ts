/**
 * Listing jobs: one index (a tenant's, a state's or every job's), newest first, read a page
 * of members at a time and filtered, with a cursor to go on from.
 */
import type { Redis } from 'ioredis'
import { JOB_ID } from '../schemas/common.js'
import { encodeCursor, memberId, upperBound } from '../redis/paging.js'
import { tenantOf } from './job-codec.js'
import type { Job, JobRecord } from './job-schema.js'
import type { ListQuery } from './job-store-types.js'

export async function listJobs(
  redis: Redis,
  index: string,
  query: ListQuery,
  getMany: (ids: string[]) => Promise<JobRecord[]>,
): Promise<{ items: Job[]; nextCursor?: string }> {
  let upper = upperBound(query.cursor, JOB_ID)
  const items: Job[] = []
  let lastScanned: string | undefined
  let exhausted = false
  // Scan at most 20 pages so that a selective filter cannot make one request unbounded.
  for (let page = 0; page < 20 && items.length < query.limit; page++) {
    const batch = Math.max(query.limit * 2, 50)
    const members = await redis.zrevrangebylex(index, upper, '-', 'LIMIT', 0, batch)
    if (members.length === 0) {
      exhausted = true
      break
    }
    const jobs = await getMany(members.map(memberId))
    const byId = new Map(jobs.map((j) => [j.id, j]))
    for (const m of members) {
      const job = byId.get(memberId(m))
      lastScanned = m
      if (!job) continue
      if (query.tenant && tenantOf(job) !== query.tenant) continue
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
  return { items, ...(more ? { nextCursor: encodeCursor(lastScanned!) } : {}) }
}
