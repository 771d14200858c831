/** Benchmark clean-up: every Redis key under a prefix. */
import type { Redis } from 'ioredis'

export async function removePrefix(redis: Redis, prefix: string) {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) await redis.unlink(...keys)
  } while (cursor !== '0')
}
