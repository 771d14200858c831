/**
 * A benchmark's gateway: in-process, under a Redis prefix of its own, with a tenant and a
 * member key, and jobs/examples/data/churn.csv uploaded (the demo's 1,000 rows); `close`
 * stops it and removes every key under the prefix.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
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
    return { app, config, auth, dataset: upload.json<{ id: string }>().id, close }
  } catch (error) {
    await close()
    throw error
  }
}
