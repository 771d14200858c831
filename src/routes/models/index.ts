/**
 * /v1/models: the caller's tenant's models, versions per name — from the MLflow registry
 * with tracking on (with runs and aliases), else from the Redis registry
 * (src/models/model-registry.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { ModelSummarySchema, ModelViewSchema } from '../../models/model-registry.js'
import { Problem } from '../../schemas/common.js'
import { TENANT_ID } from '../../tenancy/tenant-schema.js'
import { principalOf, recordAudit } from '../caller.js'

const ModelName = Type.String({ minLength: 1, maxLength: 128 })
const AliasName = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$',
  description:
    "A letter, then up to 63 letters, digits, _ or -; not 'latest' nor v<digits> (MLflow keeps those).",
})
const Model = ModelViewSchema
const TenantQuery = Type.Object(
  {
    tenant: Type.Optional(
      Type.String({
        pattern: TENANT_ID.source,
        description: "Platform admin only: this tenant's models (default: the caller's own).",
      }),
    ),
  },
  { additionalProperties: false },
)
const AliasParams = Type.Object({ name: ModelName, alias: AliasName })

/** The answers of a DELETE of the registry: 204, or a problem. */
const removal = (done: string) => ({
  204: Type.Null({ description: done }),
  400: Problem,
  404: Problem,
  409: Problem,
  503: Problem,
})

/** The tenant whose models a read shows: the caller's own, or (an admin's) the one asked. */
function readTenant(request: FastifyRequest, asked: string | undefined) {
  const principal = principalOf(request)
  if (asked !== undefined && asked !== principal.tenant && principal.role !== 'admin')
    throw errors.forbidden(principal.role, 'admin')
  return asked ?? principal.tenant
}

export const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const views = app.models

  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['models'],
        operationId: 'listModels',
        summary:
          "Every model name of the caller's tenant with its number of versions and latest version",
        description:
          "With MLflow tracking on: the tenant's registered models `<tenant>.<name>` of the MLflow registry (names shown without the prefix), each version with its run's metrics, its job and dataset, and the model's aliases. With SPARKGATE_MLFLOW_URL=none: the Redis registry, in the same shape (no run, no aliases).",
        querystring: TenantQuery,
        response: {
          200: Type.Object({
            items: Type.Array(ModelSummarySchema),
          }),
          403: Problem,
          503: Problem,
        },
      },
    },
    async (request) => ({
      items: await views.list(readTenant(request, request.query.tenant)),
    }),
  )

  app.get(
    '/:name',
    {
      config: { access: 'read' },
      schema: {
        tags: ['models'],
        operationId: 'getModel',
        summary: 'Every version of one model, oldest first, to compare runs side by side',
        description:
          'Each version with its number, MLflow run, metrics, dataset, job, source URI, creation time and the aliases pointing at it; the model with its aliases map.',
        params: Type.Object({ name: ModelName }),
        querystring: TenantQuery,
        response: { 200: Model, 403: Problem, 404: Problem, 503: Problem },
      },
    },
    async (request) => views.get(readTenant(request, request.query.tenant), request.params.name),
  )

  app.put(
    '/:name/aliases/:alias',
    {
      config: { access: 'write' },
      schema: {
        tags: ['models'],
        operationId: 'setModelAlias',
        summary: 'Point an alias (e.g. champion) at a version of a model',
        description:
          "Sets the alias in the MLflow registry, moving it when it pointed at another version; answers with the model. Needs MLflow tracking (409 SPARKGATE_MLFLOW_OFF without). 'latest' and v<digits> are MLflow's own names (400).",
        params: AliasParams,
        body: Type.Object(
          { version: Type.Integer({ minimum: 1 }) },
          { additionalProperties: false },
        ),
        response: { 200: Model, 400: Problem, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request)
      const { name, alias } = request.params
      const model = await views.setAlias(tenant, name, alias, request.body.version)
      await recordAudit(request, 'model.alias.set', `model/${name}/aliases/${alias}`)
      return model
    },
  )

  app.delete(
    '/:name/versions/:version',
    {
      config: { access: 'write' },
      schema: {
        tags: ['models'],
        operationId: 'deleteModelVersion',
        summary: 'Delete a version of a model from the registry',
        description:
          "Deletes the version from the MLflow registry, with the aliases that pointed at it; a scoring job can no longer name it (jobs accepted before keep the model they resolved). The training job, its MLflow run and the model's files stay, and the other versions keep their numbers. A model or version that does not exist is a 404. Needs MLflow tracking (409 SPARKGATE_MLFLOW_OFF without).",
        params: Type.Object({ name: ModelName, version: Type.Integer({ minimum: 1 }) }),
        response: removal('Deleted.'),
      },
    },
    async (request, reply) => {
      const { tenant } = principalOf(request)
      const { name, version } = request.params
      await views.deleteVersion(tenant, name, version)
      await recordAudit(request, 'model.version.delete', `model/${name}/versions/${version}`)
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/:name/aliases/:alias',
    {
      config: { access: 'write' },
      schema: {
        tags: ['models'],
        operationId: 'deleteModelAlias',
        summary: 'Remove an alias of a model',
        description:
          'A model or alias that does not exist is a 404. Needs MLflow tracking (409 SPARKGATE_MLFLOW_OFF without).',
        params: AliasParams,
        response: removal('Removed.'),
      },
    },
    async (request, reply) => {
      const { tenant } = principalOf(request)
      const { name, alias } = request.params
      await views.deleteAlias(tenant, name, alias)
      await recordAudit(request, 'model.alias.delete', `model/${name}/aliases/${alias}`)
      return reply.code(204).send(null)
    },
  )
}
