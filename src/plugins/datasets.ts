/**
 * Datasets and the stores they are staged in: the gateway's HDFS, and each backend's own
 * (a Synapse pool's storage account, set on its entry). Whether a dataset is still in use
 * is the job core's rule (a job that has not ended), handed in here.
 */
import fp from 'fastify-plugin'
import { DatasetService } from '../datasets/dataset-service.js'
import type { FileStore } from '../storage/file-store.js'
import { HdfsStore } from '../storage/hdfs-store.js'
import { Stores } from '../storage/stores.js'

declare module 'fastify' {
  interface FastifyInstance {
    datasets: DatasetService
    stores: Stores
  }
}

export const datasetsPlugin = fp(
  async (app) => {
    const config = app.config
    const hdfs = new HdfsStore(
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
    const own = new Map<string, FileStore>()
    for (const [name, configured] of app.backends.byName)
      if (configured.store) own.set(name, configured.store)
    const stores = new Stores(hdfs, own)
    app.decorate('stores', stores)
    app.decorate(
      'datasets',
      new DatasetService(
        app.datasetStore,
        stores,
        config.SPARKGATE_DATASET_MAX_BYTES,
        (jobIds) => app.jobStore.firstActive(jobIds),
        config.SPARKGATE_UPLOAD_IDLE_TIMEOUT_MS,
      ),
    )
  },
  {
    name: 'sparkgate-datasets',
    dependencies: ['sparkgate-config', 'sparkgate-stores', 'sparkgate-hdfs', 'sparkgate-backends'],
  },
)
