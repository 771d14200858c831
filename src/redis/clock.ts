/**
 * Redis's clock, as every process of a deployment reads it. Job timestamps (created,
 * submitted, started, finished) and the deadlines measured from them (a job's
 * `timeoutSeconds`, the enqueue outbox's grace) are written by one replica and compared by
 * another; with each host's own clock a skew of minutes would time jobs out early or
 * never. Each process learns its offset from Redis `TIME` (half the round trip taken as
 * the error), again every `resyncMs`, and reads `now()` as its local clock plus the offset:
 * one clock for all replicas, without a Redis call per timestamp.
 */
import type { Redis } from 'ioredis'

export class RedisClock {
  private offsetMs = 0
  private syncedAt = Number.NEGATIVE_INFINITY
  private syncing?: Promise<void>

  constructor(
    private readonly redis: Redis,
    private readonly resyncMs = 30_000,
  ) {}

  /** Asks Redis for its time and keeps the offset (local clock → Redis clock). */
  async sync(): Promise<void> {
    const sent = Date.now()
    const [seconds, micros] = await this.redis.time()
    const received = Date.now()
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    this.offsetMs = redisMs - (sent + received) / 2
    this.syncedAt = received
  }

  /** Redis's time now, in ms, by the last offset learned (the local clock before any). */
  now(): number {
    return Math.round(Date.now() + this.offsetMs)
  }

  /** now(), after learning the offset again when it is older than `resyncMs`. */
  async fresh(): Promise<number> {
    if (Date.now() - this.syncedAt > this.resyncMs) {
      this.syncing ??= this.sync()
        .catch(() => undefined) // Redis down: the caller's own Redis call will say so
        .finally(() => (this.syncing = undefined))
      await this.syncing
    }
    return this.now()
  }

  /** The offset learned, in ms (Redis minus local). */
  get offset(): number {
    return this.offsetMs
  }
}

const clocks = new WeakMap<Redis, RedisClock>()

/** One clock per Redis connection (every store of a process shares it). */
export function clockOf(redis: Redis): RedisClock {
  let clock = clocks.get(redis)
  if (!clock) {
    clock = new RedisClock(redis)
    clocks.set(redis, clock)
  }
  return clock
}
