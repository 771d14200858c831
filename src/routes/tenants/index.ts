/**
 * /v1/tenants (platform admin only): tenants, their cluster user, policy and quotas, and
 * their API keys. A key is shown once, in the reply that makes it; revoking one takes
 * effect at once on every replica. Every change is in the audit trail.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { Page, Paging, Problem } from '../../schemas/common.js'
import {
  ApiKeySchema,
  KeyCreate,
  RoleSchema,
  TenantCreate,
  TenantPatch,
  TenantRef,
} from '../../tenancy/tenant-schema.js'
import { recordAudit } from '../caller.js'

const TenantParams = Type.Object({
  tenant: Type.String({ minLength: 1, maxLength: 63, description: 'The tenant id.' }),
})
const KeyParams = Type.Object({
  tenant: Type.String({ minLength: 1, maxLength: 63 }),
  keyId: Type.String({ minLength: 1, maxLength: 64 }),
})
const admin = { access: 'admin' as const }
const tags = ['tenants']

export const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tenants = app.tenants

  app.post(
    '',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'createTenant',
        summary: 'Make a tenant (platform admin)',
        description:
          'The name is the id (lowercase letters, digits, -). clusterUser defaults to the name; policy and quotas to the platform defaults.',
        body: TenantCreate,
        response: { 201: TenantRef, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const tenant = await tenants.create(request.body)
      await recordAudit(request, 'tenant.create', `tenant/${tenant.id}`, tenant.id)
      // its HDFS area, owned by its cluster user, 0700; if HDFS cannot now, the first upload
      // or run makes it (the tenant exists either way)
      await app.stores.main
        .tenantArea({ tenant: tenant.id, user: tenant.clusterUser })
        .catch((error: unknown) =>
          request.log.warn(
            { err: error, tenant: tenant.id },
            "the tenant's HDFS area was not made now; its first upload or run makes it",
          ),
        )
      reply.header('location', `/v1/tenants/${tenant.id}`)
      return reply.code(201).send(tenant)
    },
  )

  app.get(
    '',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'listTenants',
        summary: 'List tenants by id (platform admin)',
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: Page(TenantRef), 400: Problem },
      },
    },
    async (request) => tenants.list(request.query.limit, request.query.cursor),
  )

  app.get(
    '/:tenant',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'getTenant',
        summary: 'One tenant (platform admin)',
        params: TenantParams,
        response: { 200: TenantRef, 404: Problem },
      },
    },
    async (request) => tenants.mustGet(request.params.tenant),
  )

  app.patch(
    '/:tenant',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'updateTenant',
        summary: "Change a tenant's cluster user, policy or quotas (platform admin)",
        description: 'Only the given fields change; policy and quotas merge field by field.',
        params: TenantParams,
        body: TenantPatch,
        response: { 200: TenantRef, 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const tenant = await tenants.update(request.params.tenant, request.body)
      await recordAudit(request, 'tenant.update', `tenant/${tenant.id}`, tenant.id)
      return tenant
    },
  )

  app.post(
    '/:tenant/keys',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'createKey',
        summary: 'Make an API key of a tenant (platform admin); the key is shown only here',
        params: TenantParams,
        body: KeyCreate,
        response: {
          201: Type.Object({
            id: Type.String(),
            key: Type.String({ description: 'The key itself: shown once, never again.' }),
            role: RoleSchema,
            tenant: Type.String(),
            name: Type.Optional(Type.String()),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          }),
          400: Problem,
          404: Problem,
        },
      },
    },
    async (request, reply) => {
      const { expiresAt } = request.body
      if (expiresAt !== undefined && !(Date.parse(expiresAt) > Date.now()))
        throw errors.validation('body.expiresAt', 'future', 'must be a time in the future')
      const { record, key } = await tenants.createKey(request.params.tenant, request.body)
      await recordAudit(
        request,
        'key.create',
        `tenant/${record.tenant}/key/${record.id}`,
        record.tenant,
      )
      reply.header('cache-control', 'no-store')
      return reply.code(201).send({
        id: record.id,
        key,
        role: record.role,
        tenant: record.tenant,
        ...(record.name ? { name: record.name } : {}),
        ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
      })
    },
  )

  app.get(
    '/:tenant/keys',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'listKeys',
        summary: "A tenant's API keys, without secrets (platform admin)",
        params: TenantParams,
        response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }), 404: Problem },
      },
    },
    async (request) => ({ items: await tenants.listKeys(request.params.tenant) }),
  )

  app.delete(
    '/:tenant/keys/:keyId',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'revokeKey',
        summary: 'Revoke an API key, at once on every replica (platform admin)',
        params: KeyParams,
        response: { 204: Type.Null(), 404: Problem },
      },
    },
    async (request, reply) => {
      const { tenant, keyId } = request.params
      if (!(await tenants.revokeKey(tenant, keyId))) throw errors.keyNotFound(tenant, keyId)
      await recordAudit(request, 'key.revoke', `tenant/${tenant}/key/${keyId}`, tenant)
      return reply.code(204).send(null)
    },
  )
}
