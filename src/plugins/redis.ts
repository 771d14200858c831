/**
 * The gateway's own Redis connection (job records, idempotency keys, health). BullMQ
 * workers open their own connections with `maxRetriesPerRequest: null`.
 */
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis
  }
}

export const redisPlugin = fp(
  async (app) => {
    const redis = new Redis(app.config.SPARKGATE_REDIS_URL, {
      lazyConnect: true,
      // fail fast while Redis is down instead of queueing commands forever
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    })
    // Reconnects are logged, never thrown: /readyz reports Redis as down meanwhile.
    redis.on('error', (error: Error) =>
      app.log.warn({ err: { message: error.message } }, 'redis connection error'),
    )
    redis.connect().catch(() => undefined)
    app.decorate('redis', redis)
    app.addHook('onClose', async () => {
      // QUIT lets pending replies arrive; Redis down: do not wait for it
      if (redis.status === 'ready') {
        await Promise.race([
          redis.quit().catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
        ])
      }
      redis.disconnect()
    })
  },
  { name: 'sparkgate-redis', dependencies: ['sparkgate-config'] },
)
