/** /v1/audit (platform admin): who created or revoked keys, changed tenants, cancelled, deleted. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Page, Paging, Problem } from '../../schemas/common.js'
import { AuditEntrySchema } from '../../tenancy/audit.js'

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tenants'],
        operationId: 'listAudit',
        summary: 'The audit trail, newest first (platform admin)',
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: Page(AuditEntrySchema), 400: Problem },
      },
    },
    async (request) => app.audit.list(request.query.limit, request.query.cursor),
  )
}
