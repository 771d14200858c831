/**
 * Webhook subscriptions of the tenants, in Redis. The signing secret has to be kept as
 * it is (the gateway signs with it); it leaves only in the replies that create or rotate
 * it. After a rotation the previous secret keeps signing too (a second signature in the
 * header) for a grace period, so receivers can switch without losing a delivery.
 *
 *   P:webhook:<id>          JSON record (tenant, url, types, status, secrets)
 *   P:t:<t>:webhooks        sorted set (lex) of the tenant's webhook ids
 *   P:webhooks              sorted set (lex) of every webhook id (the delivery workers')
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisKeys } from '../redis/keys.js'
import { typeMatches } from '../schemas/events.js'
import type { Webhook } from './schemas.js'
import { newSecret } from './webhook-signature.js'

/** How long a rotated-out secret still signs. */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000

export const WEBHOOK_ID = /^wh_[0-9a-f]{32}$/

/** The stored record: the public fields and the secrets. */
export interface WebhookRecord extends Webhook {
  secret: string
  previousSecret?: string
  previousSecretUntil?: string
}

/** The record as the API shows it: the secrets left out. */
export function publicView(r: WebhookRecord): Webhook {
  const view: Partial<WebhookRecord> = { ...r }
  delete view.secret
  delete view.previousSecret
  delete view.previousSecretUntil
  return view as Webhook
}

/** The secrets that sign a delivery now: the current one, and a rotated one in its grace. */
export function signingSecrets(r: WebhookRecord, now = Date.now()): string[] {
  return r.previousSecret && r.previousSecretUntil && Date.parse(r.previousSecretUntil) > now
    ? [r.secret, r.previousSecret]
    : [r.secret]
}

/** Whether an enabled webhook takes events of this type. */
export function wants(r: Webhook, type: string): boolean {
  return r.status === 'enabled' && typeMatches(r.types, type)
}

/** The webhook records in Redis: the only writer of them. */
export class WebhookStore {
  private readonly keys: RedisKeys

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix)
  }

  async create(tenant: string, url: string, types: string[]): Promise<WebhookRecord> {
    const now = new Date().toISOString()
    const record: WebhookRecord = {
      id: `wh_${randomUUID().replace(/-/g, '')}`,
      tenant,
      url,
      types,
      status: 'enabled',
      createdAt: now,
      updatedAt: now,
      secret: newSecret(),
    }
    await this.redis
      .multi()
      .set(this.keys.webhook(record.id), JSON.stringify(record))
      .zadd(this.keys.of(tenant).webhooks(), 0, record.id)
      .zadd(this.keys.webhooks(), 0, record.id)
      .exec()
    return record
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    if (!WEBHOOK_ID.test(id)) return undefined
    const raw = await this.redis.get(this.keys.webhook(id))
    return raw ? (JSON.parse(raw) as WebhookRecord) : undefined
  }

  /** A tenant's webhook, or undefined (also for another tenant's). */
  async find(tenant: string, id: string): Promise<WebhookRecord | undefined> {
    const r = await this.get(id)
    return r && r.tenant === tenant ? r : undefined
  }

  async list(tenant: string): Promise<WebhookRecord[]> {
    const ids = await this.redis.zrange(this.keys.of(tenant).webhooks(), 0, -1)
    if (ids.length === 0) return []
    const raw = await this.redis.mget(ids.map((id) => this.keys.webhook(id)))
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as WebhookRecord)
  }

  /** Every webhook id (the delivery workers run one queue each). */
  async allIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.webhooks(), 0, -1)
  }

  async update(
    r: WebhookRecord,
    change: Partial<Pick<WebhookRecord, 'url' | 'types' | 'status' | 'disabledReason'>>,
  ): Promise<WebhookRecord> {
    const next: WebhookRecord = { ...r, ...change, updatedAt: new Date().toISOString() }
    if (next.status === 'enabled') delete next.disabledReason
    await this.redis.set(this.keys.webhook(r.id), JSON.stringify(next))
    return next
  }

  async rotate(r: WebhookRecord): Promise<WebhookRecord> {
    const now = Date.now()
    const next: WebhookRecord = {
      ...r,
      secret: newSecret(),
      previousSecret: r.secret,
      previousSecretUntil: new Date(now + ROTATION_GRACE_MS).toISOString(),
      secretRotatedAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
    }
    await this.redis.set(this.keys.webhook(r.id), JSON.stringify(next))
    return next
  }

  async delete(r: WebhookRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.webhook(r.id))
      .zrem(this.keys.of(r.tenant).webhooks(), r.id)
      .zrem(this.keys.webhooks(), r.id)
      .del(this.keys.webhookPending(r.id))
      .exec()
  }
}
