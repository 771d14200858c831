/**
 * The caller of a /v1 route, as the auth plugin (src/plugins/auth.ts) recorded it: its
 * principal (tenant, role, key), its tenant's record, the scope of jobs it sees, and
 * what the audit trail notes of it.
 */
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'
import type { Principal, Scope } from '../tenancy/access.js'
import type { Tenant } from '../tenancy/tenant-schema.js'

/** The authenticated caller (the auth hook ran: every /v1 route has one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.unauthenticated('missing')
  return request.principal
}

/** The caller's tenant record (read by the auth hook, once per request). */
export function tenantOf(request: FastifyRequest): Promise<Tenant> {
  if (!request.tenantRecord) throw errors.unauthenticated('missing')
  return request.tenantRecord
}

/** Its own tenant's records — or, for jobs read or cancelled by the platform admin, all. */
export function scopeOf(request: FastifyRequest, adminSeesAll = false): Scope {
  const { tenant, role } = principalOf(request)
  return adminSeesAll && role === 'admin' ? { tenant, all: true } : { tenant }
}

/** Who did it and from where, for the audit trail. */
export function auditActor(request: FastifyRequest) {
  return { actor: principalOf(request), ip: request.ip, requestId: String(request.id) }
}

/**
 * Notes a change in the audit trail: the caller (who, from where, which request), what it
 * did, to what, and the tenant the target belongs to (the caller's own unless named: an
 * admin acts on other tenants).
 */
export function recordAudit(
  request: FastifyRequest,
  action: string,
  target: string,
  tenant: string = principalOf(request).tenant,
): Promise<void> {
  return request.server.audit.record({ ...auditActor(request), action, target, tenant })
}
