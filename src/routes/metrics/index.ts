/** GET /metrics (platform admin): Prometheus text exposition of src/plugins/metrics.ts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Problem } from '../../schemas/common.js'

export const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/metrics',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (platform admin key)',
        description:
          'Text exposition format 0.0.4. Every series carries `instance` (host:pid): counters and histograms count this process; queue, live-job and backend gauges are read from Redis and the backends when scraped, so all replicas agree.',
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'Prometheus text format.' }),
          401: Problem,
          403: Problem,
        },
      },
    },
    async (_request, reply) => {
      const text = await app.metrics.metrics()
      return reply.type(app.metrics.contentType).send(text)
    },
  )
}
