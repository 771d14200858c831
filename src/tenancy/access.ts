/**
 * Who is calling, and what that lets them do. Every /v1 call carries an API key; the key
 * belongs to one tenant and has one role:
 *
 *   viewer  read-only inside its tenant
 *   member  everything inside its tenant
 *   admin   the platform: tenants, keys, audit, every tenant's jobs (read and cancel),
 *           and everything a member can do inside its own tenant
 *
 * A route declares the access it needs (read, write or admin); the auth plugin checks it.
 */
export const ROLES = ['admin', 'member', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export type Access = 'read' | 'write' | 'admin'

/** The reserved tenant of the platform admin key. */
export const PLATFORM_TENANT = 'platform'

export interface Principal {
  tenant: string
  role: Role
  /** the key's id (`admin` for the platform admin key) */
  keyId: string
}

export function allows(role: Role, access: Access): boolean {
  if (access === 'read') return true
  if (access === 'write') return role === 'member' || role === 'admin'
  return role === 'admin'
}

/**
 * Which tenants' records a call sees: its own; an admin reading or cancelling jobs sees
 * every tenant's (`all`).
 */
export interface Scope {
  tenant: string
  all?: boolean
}

/** A record's owner as this scope sees it: records from before tenancy are the platform's. */
export function inScope(scope: Scope, owner: string | undefined): boolean {
  return scope.all === true || (owner ?? PLATFORM_TENANT) === scope.tenant
}
