/** The Redis stores: job records (the only writer of job state) and dataset records. */
import fp from 'fastify-plugin'
import { DatasetStore } from '../datasets/dataset-store.js'
import { JobStore } from '../domain/job-store.js'
import { durationMs } from '../schemas/common.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobStore: JobStore
    datasetStore: DatasetStore
  }
}

export const storesPlugin = fp(
  async (app) => {
    const config = app.config
    app.decorate(
      'jobStore',
      new JobStore(
        app.redis,
        config.SPARKGATE_REDIS_PREFIX,
        config.SPARKGATE_IDEMPOTENCY_TTL_SECONDS,
        durationMs(config.SPARKGATE_EVENTS_RETENTION),
      ),
    )
    app.decorate(
      'datasetStore',
      new DatasetStore(
        app.redis,
        config.SPARKGATE_REDIS_PREFIX,
        durationMs(config.SPARKGATE_EVENTS_RETENTION),
      ),
    )
  },
  { name: 'sparkgate-stores', dependencies: ['sparkgate-config', 'sparkgate-redis'] },
)
