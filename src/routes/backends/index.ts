/** /v1/backends: the configured Spark backends with their kind, health and load. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { BackendViewSchema } from '../../schemas/status.js'

export const backendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['backends'],
        operationId: 'listBackends',
        summary: 'The configured Spark backends, with health and live/queued counts',
        response: { 200: Type.Object({ items: Type.Array(BackendViewSchema) }) },
      },
    },
    async () => ({ items: await app.status.backendViews() }),
  )
}
