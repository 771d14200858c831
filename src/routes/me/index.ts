/** /v1/me: who the caller is — tenant, role, key — with the tenant's policy, quotas and use. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { principalOf, tenantOf } from '../caller.js'
import { Problem } from '../../schemas/common.js'
import { PolicySchema, QuotasSchema, RoleSchema } from '../../tenancy/tenant-schema.js'

export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['tenants'],
        operationId: 'getMe',
        summary: "The caller: its tenant and role, the tenant's policy, quotas and use",
        response: {
          200: Type.Object({
            tenant: Type.String(),
            role: RoleSchema,
            keyId: Type.String(),
            clusterUser: Type.String(),
            policy: PolicySchema,
            quotas: QuotasSchema,
            usage: Type.Object({
              activeJobs: Type.Integer({ description: 'Jobs that have not ended.' }),
              liveJobs: Type.Integer({ description: 'Jobs holding a live slot.' }),
              datasetBytes: Type.Integer(),
            }),
          }),
          401: Problem,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const tenant = await tenantOf(request)
      const [counts, bytes] = await Promise.all([
        app.jobStore.tenantCounts(tenant.id),
        app.datasets.bytesUsed(tenant.id),
      ])
      return {
        tenant: tenant.id,
        role: principal.role,
        keyId: principal.keyId,
        clusterUser: tenant.clusterUser,
        policy: tenant.policy,
        quotas: tenant.quotas,
        usage: { activeJobs: counts.active, liveJobs: counts.live, datasetBytes: bytes },
      }
    },
  )
}
