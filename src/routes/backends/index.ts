/** /v1/backends: the configured Spark backends with their kind, health and load. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withTimeout } from '../health/index.js'

const BackendView = Type.Object({
  name: Type.String(),
  kind: Type.String({ description: 'livy, synapse or local' }),
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
      schema: {
        tags: ['backends'],
        operationId: 'listBackends',
        summary: 'The configured Spark backends, with health and live/queued counts',
        response: { 200: Type.Object({ items: Type.Array(BackendView) }) },
      },
    },
    async () => {
      const timeout = app.config.SPARKGATE_READY_TIMEOUT_MS
      const items = await Promise.all(
        [...app.backends].map(async ([name, { backend, maxLive }]) => {
          let error: string | undefined
          try {
            await withTimeout(backend.health(), timeout, name)
          } catch (e) {
            error = (e as Error).message
          }
          const [live, counts] = await Promise.all([
            app.jobStore.liveIds(name),
            app.submitQueues.get(name).getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
          ])
          return {
            name,
            kind: backend.kind,
            endpoint: backend.endpoint,
            default: name === app.config.SPARKGATE_DEFAULT_BACKEND,
            maxLive,
            live: live.length,
            queued:
              (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0),
            healthy: error === undefined,
            ...(error !== undefined ? { error } : {}),
          }
        }),
      )
      return { items }
    },
  )
}
