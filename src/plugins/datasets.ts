/** Datasets and staging on HDFS: the store (Redis), the staging area and the service. */
import fp from 'fastify-plugin'
import { DatasetService } from '../datasets/dataset-service.js'
import { DatasetStore } from '../datasets/dataset-store.js'
import { Staging } from '../datasets/staging.js'

declare module 'fastify' {
  interface FastifyInstance {
    datasets: DatasetService
    staging: Staging
  }
}

export const datasetsPlugin = fp(
  async (app) => {
    const config = app.config
    const staging = new Staging(
      app.hdfs,
      config.SPARKGATE_HDFS_ROOT,
      config.SPARKGATE_HDFS_DEFAULT_FS,
    )
    const store = new DatasetStore(app.redis, config.SPARKGATE_REDIS_PREFIX)
    app.decorate('staging', staging)
    app.decorate(
      'datasets',
      new DatasetService(store, staging, app.hdfs, config.SPARKGATE_DATASET_MAX_BYTES),
    )
  },
  {
    name: 'sparkgate-datasets',
    dependencies: ['sparkgate-config', 'sparkgate-redis', 'sparkgate-hdfs'],
  },
)
