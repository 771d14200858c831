/**
 * Datasets and staging on HDFS: the staging area and the service. Whether a dataset is
 * still in use is the job core's rule (a job that has not ended), handed in here.
 */
import fp from 'fastify-plugin'
import { DatasetService } from '../datasets/dataset-service.js'
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
      // the auth plugin's tenant store (its recent-tenants cache), there by the time
      // anything is read
      (tenant) =>
        app.tenants.current(tenant).then(
          (t) => t.clusterUser,
          () => undefined,
        ),
    )
    app.decorate('staging', staging)
    app.decorate(
      'datasets',
      new DatasetService(
        app.datasetStore,
        staging,
        app.hdfs,
        config.SPARKGATE_DATASET_MAX_BYTES,
        (jobIds) => app.jobStore.firstActive(jobIds),
        config.SPARKGATE_UPLOAD_IDLE_TIMEOUT_MS,
      ),
    )
  },
  {
    name: 'sparkgate-datasets',
    dependencies: ['sparkgate-config', 'sparkgate-stores', 'sparkgate-hdfs'],
  },
)
