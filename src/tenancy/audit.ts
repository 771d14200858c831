/**
 * The audit trail: who did what, when, from where — key creation and revocation, tenant
 * changes, cancels and deletes. One Redis stream (P:audit), newest first to the admin,
 * capped near SPARKGATE_AUDIT_MAX_ENTRIES (the oldest go first).
 */
import type { Redis } from 'ioredis'
import { Type, type Static } from 'typebox'
import { RedisKeys } from '../redis/keys.js'
import { decodeCursor, encodeCursor } from '../redis/paging.js'
import type { Principal } from './access.js'

export const AuditEntrySchema = Type.Object({
  id: Type.String({ description: 'The entry’s stream id (time-ordered).' }),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({
    tenant: Type.String(),
    role: Type.String(),
    keyId: Type.String(),
  }),
  action: Type.String({
    description:
      'tenant.create, tenant.update, key.create, key.revoke, job.create (Livy API), job.cancel, dataset.delete',
  }),
  target: Type.String({ description: 'What it was done to, e.g. tenant/acme/key/key_…' }),
  tenant: Type.String({ description: 'The tenant the target belongs to.' }),
  ip: Type.String(),
  requestId: Type.String(),
})
export type AuditEntry = Static<typeof AuditEntrySchema>

export interface AuditEvent {
  actor: Principal
  action: string
  target: string
  tenant: string
  ip: string
  requestId: string
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/

export class AuditLog {
  private readonly key: string

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly maxEntries: number,
  ) {
    this.key = new RedisKeys(prefix).audit()
  }

  async record(event: AuditEvent): Promise<void> {
    const entry = {
      at: new Date().toISOString(),
      actor: event.actor,
      action: event.action,
      target: event.target,
      tenant: event.tenant,
      ip: event.ip,
      requestId: event.requestId,
    }
    await this.redis.xadd(this.key, 'MAXLEN', '~', this.maxEntries, '*', 'e', JSON.stringify(entry))
  }

  /** Newest first; the cursor is the last id of the previous page. */
  async list(
    limit: number,
    cursor?: string,
  ): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
    const upper = cursor === undefined ? '+' : `(${decodeCursor(cursor, STREAM_ID)}`
    const rows = await this.redis.xrevrange(this.key, upper, '-', 'COUNT', limit + 1)
    const page = rows.slice(0, limit)
    const items = page.map(([id, fields]) => {
      const json = fields[fields.indexOf('e') + 1] ?? '{}'
      return { id, ...(JSON.parse(json) as Omit<AuditEntry, 'id'>) }
    })
    const more = rows.length > limit
    return {
      items,
      ...(more ? { nextCursor: encodeCursor(page.at(-1)![0]) } : {}),
    }
  }
}
