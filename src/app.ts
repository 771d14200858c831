/**
 * buildApp(config): the gateway as a Fastify instance. Plugins are registered explicitly,
 * in one visible order: infrastructure → domain → routes.
 */
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import type { JobKindDefinition } from './domain/ports/job-kind.js'
import { JOB_KINDS } from './kinds/registry.js'
import { installErrorHandling } from './plugins/problem-handler.js'
import { authPlugin } from './plugins/auth.js'
import { configPlugin } from './plugins/config.js'
import { hdfsPlugin } from './plugins/hdfs.js'
import { backendsPlugin } from './plugins/backends.js'
import { datasetsPlugin } from './plugins/datasets.js'
import { eventsPlugin } from './plugins/events.js'
import { metricsPlugin } from './plugins/metrics.js'
import { queueBoardPlugin } from './plugins/queue-board.js'
import { jobsPlugin } from './plugins/jobs.js'
import { enginesPlugin } from './plugins/engines.js'
import { redisPlugin } from './plugins/redis.js'
import { storesPlugin } from './plugins/stores.js'
import { swaggerPlugin } from './plugins/swagger.js'
import { auditRoutes } from './routes/audit/index.js'
import { livyRoutes } from './routes/livy/index.js'
import { healthRoutes } from './routes/health/index.js'
import { metricsRoutes } from './routes/metrics/index.js'
import { meRoutes } from './routes/me/index.js'
import { tenantRoutes } from './routes/tenants/index.js'
import { backendRoutes } from './routes/backends/index.js'
import { datasetRoutes } from './routes/datasets/index.js'
import { eventRoutes } from './routes/events/index.js'
import { webhookRoutes } from './routes/webhooks/index.js'
import { jobRoutes } from './routes/jobs/index.js'
import { engineRoutes, engineProtocolRoutes } from './routes/engines/index.js'
import { modelRoutes } from './routes/models/index.js'
import { serverOptions } from './server-options.js'

/** What a gateway is built with beyond its config (tests add a job kind of their own). */
export interface BuildOptions {
  /** the job kinds (default: src/kinds/registry.ts) */
  kinds?: readonly JobKindDefinition[]
}

export async function buildApp(
  config: Config,
  options: FastifyServerOptions = {},
  { kinds = JOB_KINDS }: BuildOptions = {},
) {
  const app = Fastify(serverOptions(config, options)).withTypeProvider<TypeBoxTypeProvider>()
  installErrorHandling(app)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  // infrastructure
  await app.register(configPlugin, { config })
  await app.register(swaggerPlugin, { kinds })
  await app.register(redisPlugin)
  await app.register(hdfsPlugin)
  await app.register(backendsPlugin)
  await app.register(storesPlugin)
  await app.register(authPlugin)

  // domain
  await app.register(datasetsPlugin)
  await app.register(enginesPlugin)
  await app.register(jobsPlugin, { kinds })
  await app.register(eventsPlugin)
  await app.register(metricsPlugin)

  // routes
  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  if (config.SPARKGATE_ROLES.split(',').includes('api')) {
    await app.register(jobRoutes, { prefix: '/v1/jobs' })
    await app.register(livyRoutes, { prefix: '/livy' })
    await app.register(datasetRoutes, { prefix: '/v1/datasets' })
    await app.register(modelRoutes, { prefix: '/v1/models' })
    await app.register(backendRoutes, { prefix: '/v1/backends' })
    await app.register(engineRoutes, { prefix: '/v1/engines' })
    await app.register(engineProtocolRoutes, { prefix: '/engine/v1/engines' })
    await app.register(tenantRoutes, { prefix: '/v1/tenants' })
    await app.register(meRoutes, { prefix: '/v1/me' })
    await app.register(auditRoutes, { prefix: '/v1/audit' })
    await app.register(eventRoutes, { prefix: '/v1/events' })
    await app.register(webhookRoutes, { prefix: '/v1/webhooks' })
    await app.register(queueBoardPlugin)
  }

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
