/**
 * The job machinery: the queue, the service the routes call, training results and the
 * status service, and — by SPARKGATE_ROLES — the submit workers and the tracker. On
 * close: workers finish their in-flight job and stop, then the queues close.
 */
import fp from 'fastify-plugin'
import { JobKinds } from '../domain/job-kinds.js'
import { JobResults } from '../domain/job-results.js'
import { JobService } from '../domain/job-service.js'
import type { JobKindDefinition } from '../domain/ports/job-kind.js'
import { StatusService } from '../domain/status-service.js'
import { createMlflowClient } from '../mlflow/mlflow-settings.js'
import { createModelRegistry } from '../models/create-model-registry.js'
import type { ModelRegistry } from '../models/model-registry.js'
import { RunArea } from '../runs/run-area.js'
import { durationMs } from '../schemas/common.js'
import { BullJobQueue, connectionFrom } from '../workers/queues.js'
import { SubmitWorkers } from '../workers/submit-worker.js'
import { Tracker } from '../workers/tracker.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobService: JobService
    /** the submit queues (BullMQ), one per backend */
    jobQueues: BullJobQueue
    tracker?: Tracker
    /** the registry of record: MLflow's with tracking on, else Sparkgate's own in Redis */
    models: ModelRegistry
    /** the job kinds, bound to the platform */
    jobKinds: JobKinds
    /** results, output files and success steps of jobs, through their kinds */
    jobResults: JobResults
    status: StatusService
  }
}

/** A URL without its credentials, for /readyz. */
function safeUrl(url: string) {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  return u.toString().replace(/\/$/, '')
}

export const jobsPlugin = fp(
  async (app, { kinds }: { kinds: readonly JobKindDefinition[] }) => {
    const config = app.config
    const roles = new Set(config.SPARKGATE_ROLES.split(','))
    const connection = connectionFrom(config.SPARKGATE_REDIS_URL)
    const prefix = config.SPARKGATE_REDIS_PREFIX
    const store = app.jobStore
    const queues = new BullJobQueue(connection, prefix)
    const runs = new RunArea(app.stores)
    // SPARKGATE_MLFLOW_URL=none: no client, no tracking (and no alias to score by)
    const mlflow = createMlflowClient(config)
    const models = createModelRegistry({
      redis: app.redis,
      prefix,
      runs,
      inArea: (tenant, uri) => runs.inArea(tenant, uri),
      eventRetentionMs: durationMs(config.SPARKGATE_EVENTS_RETENTION),
      ...(mlflow ? { mlflow } : {}),
    })
    const jobKinds = new JobKinds(kinds, {
      stores: app.stores,
      runs,
      datasets: app.datasets,
      models,
      ownerOf: async (tenant) => {
        const t = await app.tenants.current(tenant)
        return { tenant: t.id, user: t.clusterUser, quotaBytes: t.quotas.datasetBytes }
      },
    })
    const service = new JobService(store, queues, app.backends, jobKinds, {
      localFolders: config.SPARKGATE_POLICY_LOCAL_FOLDERS.split(',').filter(Boolean),
      areaOf: (tenant) => ({
        defaultFs: config.SPARKGATE_HDFS_DEFAULT_FS,
        root: app.stores.main.tenantRoot(tenant),
        others: app.stores
          .all()
          .filter((s) => s !== app.stores.main)
          .map((s) => s.uri(s.tenantRoot(tenant))),
      }),
      storeOf: (backend) => app.stores.of(backend),
    })
    const results = new JobResults(store, jobKinds)
    app.decorate('jobService', service)
    app.decorate('jobQueues', queues)
    app.decorate('models', models)
    app.decorate('jobKinds', jobKinds)
    app.decorate('jobResults', results)
    app.decorate(
      'status',
      new StatusService(
        {
          redis: { url: safeUrl(config.SPARKGATE_REDIS_URL), check: () => app.redis.ping() },
          webhdfs: { url: config.SPARKGATE_WEBHDFS_URL, check: () => app.hdfs.getFileStatus('/') },
        },
        app.backends,
        config.SPARKGATE_READY_TIMEOUT_MS,
        { store, queue: queues },
      ),
    )

    const common = { store, queues, backends: app.backends, connection, prefix }
    const workers = roles.has('worker')
      ? new SubmitWorkers({
          ...common,
          log: app.log.child({ component: 'submit-worker' }),
          backoffMs: config.SPARKGATE_SUBMIT_BACKOFF_MS,
          backoffMaxMs: config.SPARKGATE_SUBMIT_BACKOFF_MAX_MS,
          lockMs: config.SPARKGATE_WORKER_LOCK_MS,
          failpoints: new Set(config.SPARKGATE_FAILPOINTS.split(',')),
          kinds: jobKinds,
          tenantCap: async (tenant) => (await app.tenants.current(tenant)).quotas.maxLiveJobs,
          engines: app.engines,
        })
      : undefined
    const tracker = roles.has('tracker')
      ? new Tracker({
          ...common,
          log: app.log.child({ component: 'tracker' }),
          intervalMs: config.SPARKGATE_TRACKER_INTERVAL_MS,
          failureLogLines: config.SPARKGATE_FAILURE_LOG_LINES,
          success: results,
          kinds: jobKinds,
          submitDeadlineMs: durationMs(config.SPARKGATE_SUBMIT_DEADLINE),
          engines: app.engines,
        })
      : undefined
    if (tracker) app.decorate('tracker', tracker)

    app.addHook('onReady', async () => {
      workers?.start()
      tracker?.start()
    })
    app.addHook('onClose', async () => {
      // requests whose client went away may still be recording a job: let them finish
      await service.drain(5_000)
      // Redis down: nothing in flight can finish anyway, so the workers are not waited for
      const up = app.redis.status === 'ready'
      const deadline = config.SPARKGATE_WORKER_LOCK_MS
      await Promise.all([workers?.close(deadline, up), tracker?.close(deadline, up)])
      await queues.close()
    })
  },
  {
    name: 'sparkgate-jobs',
    dependencies: [
      'sparkgate-config',
      'sparkgate-redis',
      'sparkgate-stores',
      'sparkgate-backends',
      'sparkgate-datasets',
      'sparkgate-auth',
      'sparkgate-engines',
    ],
  },
)
