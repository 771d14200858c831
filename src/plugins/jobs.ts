/**
 * The job machinery: the store, the submit queues, the service the routes call, and —
 * by SPARKGATE_ROLES — the submit workers and the tracker. On close: workers finish their
 * in-flight job and stop, then the queues close.
 */
import fp from 'fastify-plugin'
import { JobService } from '../domain/job-service.js'
import { JobStore } from '../domain/job-store.js'
import { connectionFrom, SubmitQueues } from '../workers/queues.js'
import { SubmitWorkers } from '../workers/submit-worker.js'
import { ModelRegistry } from '../training/model-registry.js'
import { TrainingStager } from '../training/training.js'
import { Tracker } from '../workers/tracker.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobStore: JobStore
    jobService: JobService
    submitQueues: SubmitQueues
    tracker?: Tracker
    training: TrainingStager
    models: ModelRegistry
  }
}

export const jobsPlugin = fp(
  async (app) => {
    const config = app.config
    const roles = new Set(config.SPARKGATE_ROLES.split(','))
    const connection = connectionFrom(config.SPARKGATE_REDIS_URL)
    const prefix = config.SPARKGATE_REDIS_PREFIX
    const store = new JobStore(app.redis, prefix, config.SPARKGATE_IDEMPOTENCY_TTL_SECONDS)
    const queues = new SubmitQueues(connection, prefix)
    app.decorate('jobStore', store)
    app.decorate('submitQueues', queues)
    const service = new JobService(
      store,
      queues,
      app.backends,
      config.SPARKGATE_DEFAULT_BACKEND,
      app.datasets,
    )
    app.decorate('jobService', service)

    const training = new TrainingStager(app.staging, app.hdfs)
    const models = new ModelRegistry(app.redis, prefix, training)
    app.decorate('training', training)
    app.decorate('models', models)

    const common = { store, queues, backends: app.backends, connection, prefix }
    const workers = roles.has('worker')
      ? new SubmitWorkers({
          ...common,
          log: app.log.child({ component: 'submit-worker' }),
          backoffMs: config.SPARKGATE_SUBMIT_BACKOFF_MS,
          backoffMaxMs: config.SPARKGATE_SUBMIT_BACKOFF_MAX_MS,
          lockMs: config.SPARKGATE_WORKER_LOCK_MS,
          failpoints: new Set(config.SPARKGATE_FAILPOINTS.split(',')),
          training,
        })
      : undefined
    const tracker = roles.has('tracker')
      ? new Tracker({
          ...common,
          log: app.log.child({ component: 'tracker' }),
          intervalMs: config.SPARKGATE_TRACKER_INTERVAL_MS,
          failureLogLines: config.SPARKGATE_FAILURE_LOG_LINES,
          onSucceeded: (job) => models.register(job),
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
      'sparkgate-backends',
      'sparkgate-datasets',
    ],
  },
)
