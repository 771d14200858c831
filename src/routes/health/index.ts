/**
 * GET /healthz: the process is up. GET /readyz: 200 only when Redis, WebHDFS and Livy all
 * answer within SPARKGATE_READY_TIMEOUT_MS; otherwise 503 problem+json naming what is down.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { DependencyStateSchema } from '../../schemas/status.js'

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getHealth',
        security: [],
        summary: 'Liveness: the gateway process is up',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }),
        },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        security: [],
        summary: 'Readiness: Redis, WebHDFS and every backend answer',
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            dependencies: Type.Record(Type.String(), DependencyStateSchema),
          }),
          503: Type.Ref('Problem'),
        },
      },
    },
    async () => {
      const { dependencies, down } = await app.status.readiness()
      if (down.length > 0) throw errors.dependenciesDown(down, dependencies)
      return { status: 'ready' as const, dependencies }
    },
  )
}
