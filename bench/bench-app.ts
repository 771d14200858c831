/**
 * A benchmark's gateway: in-process, under a Redis prefix of its own, with a tenant and a
 * member key, and jobs/examples/data/churn.csv uploaded (the demo's 1,000 rows); `close`
 * stops it and removes every key under the prefix; `succeeded` posts a job and waits for it.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
import type { Job } from '../src/domain/job-schema.js'
import { removePrefix } from './cleanup.js'

export async function benchApp(name: string, settings: Record<string, string | number>) {
  const prefix = `sparkgate-bench-${name}-${randomUUID().slice(0, 8)}`
  const config = configWith({
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_ADMIN_KEY: `sgk_bench-${name}-admin-0123456789abcdef`,
    SPARKGATE_KAFKA_BROKERS: 'none',
    SPARKGATE_TRACKER_INTERVAL_MS: 250,
    ...settings,
  })
  const app = await buildApp(config)
  const close = async () => {
    await app.close()
    const redis = new Redis(config.SPARKGATE_REDIS_URL)
    await removePrefix(redis, prefix)
    await redis.quit()
  }
  try {
    await app.ready()
    const tenant = await app.tenants.create({ name: `bench-${randomUUID().slice(0, 8)}` })
    const { key } = await app.tenants.createKey(tenant.id, { role: 'member' })
    const auth = { authorization: `Bearer ${key}` }
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=churn.csv',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: readFileSync(new URL('../jobs/examples/data/churn.csv', import.meta.url)),
    })
    /** Posts the job, polls it every 100 ms until it succeeded: the job and the wall time. */
    const succeeded = async (payload: object): Promise<{ job: Job; ms: number }> => {
      const t0 = performance.now()
      const created = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload })
      const id = created.json<Job>().id
      for (;;) {
        const job = (await app.inject({ url: `/v1/jobs/${id}`, headers: auth })).json<Job>()
        if (job.state === 'succeeded') return { job, ms: performance.now() - t0 }
        if (job.state === 'failed' || job.state === 'cancelled')
          throw new Error(`job ${id}: ${job.state} ${JSON.stringify(job.error)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    return { app, config, auth, dataset: upload.json<{ id: string }>().id, close, succeeded }
  } catch (error) {
    await close()
    throw error
  }
}
