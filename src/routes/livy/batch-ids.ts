/**
 * The Livy batch ids of a tenant's jobs: integers from 0, as Livy numbers batches, one per
 * job, stable (a retried submission keeps its id), kept both ways in Redis
 * (src/redis/lua/livy-batch-id-3.lua; keys in src/redis/keys.ts).
 */
import type { Redis } from 'ioredis'
import { RedisKeys } from '../../redis/keys.js'
import { RedisScripts } from '../../redis/scripts.js'

export class LivyBatchIds {
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
  }

  /** The job's batch id: the one it has, else the tenant's next. */
  async idOf(tenant: string, jobId: string): Promise<number> {
    const k = this.keys.of(tenant)
    return Number(
      await this.scripts.run('livy-batch-id', [k.livySeq(), k.livyIds(), k.livyJobs()], [jobId]),
    )
  }

  /** The job of a batch id, if the tenant has one. */
  async jobOf(tenant: string, id: number): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.of(tenant).livyJobs(), String(id))) ?? undefined
  }

  /** How many ids the tenant has had (its batches are 0 … total-1). */
  async total(tenant: string): Promise<number> {
    return Number((await this.redis.get(this.keys.of(tenant).livySeq())) ?? 0)
  }

  /** The jobs of ids from … from+size-1, in order (absent ones left out). */
  async page(tenant: string, from: number, size: number): Promise<[number, string][]> {
    const ids = Array.from({ length: size }, (_, i) => String(from + i))
    if (ids.length === 0) return []
    const jobs = await this.redis.hmget(this.keys.of(tenant).livyJobs(), ...ids)
    return ids.flatMap((id, i) => (jobs[i] ? [[Number(id), jobs[i]]] : []))
  }
}
