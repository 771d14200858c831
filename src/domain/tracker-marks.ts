/**
 * What trackers keep between ticks, in Redis so that whichever replica ticks sees it:
 * how many ticks in a row each job's batch was missing from its backend's answer, and
 * when a tracker last ticked for each backend (a backend no tracker has is removed).
 */
import type { Redis } from 'ioredis'
import type { RedisClock } from '../redis/clock.js'
import type { RedisKeys } from '../redis/keys.js'

export class TrackerMarks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: RedisClock,
  ) {}

  /**
   * One more tracker tick in a row that did not find the job's batch on its backend: the
   * count, kept in Redis so that every replica's tick counts.
   */
  async countMissing(id: string): Promise<number> {
    return this.redis.hincrby(this.keys.jobsMissing(), id, 1)
  }

  /** Every job with a missing-batch count, and its count. */
  async missingCounts(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.keys.jobsMissing())
    return new Map(Object.entries(all).map(([id, n]) => [id, Number(n)]))
  }

  async clearMissing(id: string): Promise<void> {
    await this.redis.hdel(this.keys.jobsMissing(), id)
  }

  /** A tracker that has these backends is ticking: they are configured somewhere. */
  async sawBackends(names: string[]): Promise<void> {
    if (names.length === 0) return
    const now = String(await this.clock.fresh())
    await this.redis.hset(this.keys.backendsSeen(), ...names.flatMap((n) => [n, now]))
  }

  /** Backends no tracker has ticked for since `sinceMs` (Redis clock): removed everywhere. */
  async backendsUnseenSince(sinceMs: number): Promise<string[]> {
    const seen = await this.redis.hgetall(this.keys.backendsSeen())
    return Object.entries(seen)
      .filter(([, at]) => Number(at) < sinceMs)
      .map(([name]) => name)
  }
}
