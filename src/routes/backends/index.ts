/** /v1/backends: the configured Spark backends with their kind, health and load. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const BackendView = Type.Object({
  name: Type.String(),
  kind: Type.String({ description: 'A registered kind: livy, synapse or local' }),
  endpoint: Type.String({ description: 'Where it is reached (no credentials).' }),
  default: Type.Boolean({ description: 'Jobs that name no backend go here.' }),
  maxLive: Type.Integer({ description: 'Cap of live batches.' }),
  live: Type.Integer({ description: 'Jobs holding a live slot now.' }),
  queued: Type.Integer({ description: 'Jobs waiting in its queue.' }),
  healthy: Type.Boolean(),
  error: Type.Optional(Type.String()),
})

export const backendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['backends'],
        operationId: 'listBackends',
        summary: 'The configured Spark backends, with health and live/queued counts',
        response: { 200: Type.Object({ items: Type.Array(BackendView) }) },
      },
    },
    async () => ({ items: await app.status.backendViews() }),
  )
}
