/** /v1/models: every model from a succeeded training job, with versions per name. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { Problem } from '../../schemas/common.js'
import { principalOf } from '../caller.js'

export const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['models'],
        operationId: 'listModels',
        summary:
          "Every model name of the caller's tenant with its number of versions and latest version",
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                name: Type.String(),
                versions: Type.Integer(),
                latest: Type.Ref('ModelVersion'),
              }),
            ),
          }),
        },
      },
    },
    async (request) => ({ items: await app.models.list(principalOf(request).tenant) }),
  )

  app.get(
    '/:name',
    {
      config: { access: 'read' },
      schema: {
        tags: ['models'],
        operationId: 'getModel',
        summary: 'Every version of one model, oldest first, to compare runs side by side',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Object({
            name: Type.String(),
            versions: Type.Array(Type.Ref('ModelVersion')),
          }),
          404: Problem,
        },
      },
    },
    async (request) => {
      const versions = await app.models.versions(principalOf(request).tenant, request.params.name)
      if (versions.length === 0) throw errors.modelNotFound(request.params.name)
      return { name: request.params.name, versions }
    },
  )
}
