/**
 * What the /v1/webhooks routes do, without HTTP: a tenant's webhooks (each URL checked
 * against the destination rules before it is kept), their deliveries, and replays. The
 * routes add what is HTTP's: the caller, the status codes, the audit trail.
 */
import { errors } from '../errors.js'
import type { WebhookDeliveries } from './delivery-queue.js'
import { checkWebhookUrl } from './destination.js'
import type { Delivery, DeliveryStatus } from './schemas.js'
import type { WebhookRecord, WebhookStore } from './webhook-store.js'

/** What a tenant may change of a webhook. */
export interface WebhookChange {
  url?: string
  types?: string[]
  status?: 'enabled' | 'disabled'
}

export class WebhookService {
  constructor(
    private readonly store: WebhookStore,
    private readonly deliveries: WebhookDeliveries,
    /** deliver to private addresses too (SPARKGATE_WEBHOOK_ALLOW_PRIVATE; local stack, tests) */
    private readonly allowPrivate: boolean,
  ) {}

  /** The URL as it will be called, or a 400 naming the destination rule it breaks. */
  private checkedUrl(url: string): string {
    const check = checkWebhookUrl(url, { allowPrivate: this.allowPrivate })
    if (!check.ok) throw errors.validation('body.url', check.rule, check.message)
    return check.url.href
  }

  /** A tenant's webhook, or a 404 (also for another tenant's). */
  async get(tenant: string, id: string): Promise<WebhookRecord> {
    const hook = await this.store.find(tenant, id)
    if (!hook) throw errors.webhookNotFound(id)
    return hook
  }

  /** A new webhook with its first signing secret (the reply shows it once). */
  async create(tenant: string, url: string, types: string[]): Promise<WebhookRecord> {
    return this.store.create(tenant, this.checkedUrl(url), types)
  }

  list(tenant: string): Promise<WebhookRecord[]> {
    return this.store.list(tenant)
  }

  async update(tenant: string, id: string, change: WebhookChange): Promise<WebhookRecord> {
    const hook = await this.get(tenant, id)
    const { url, types, status } = change
    return this.store.update(hook, {
      ...(url !== undefined ? { url: this.checkedUrl(url) } : {}),
      ...(types !== undefined ? { types } : {}),
      ...(status !== undefined
        ? { status, ...(status === 'disabled' ? { disabledReason: 'disabled by its owner' } : {}) }
        : {}),
    })
  }

  /** Deletes the webhook and its queue with every delivery in it. */
  async delete(tenant: string, id: string): Promise<WebhookRecord> {
    const hook = await this.get(tenant, id)
    await this.store.delete(hook)
    await this.deliveries.remove(hook.id)
    return hook
  }

  /** A new signing secret; the old one still signs for ROTATION_GRACE_MS. */
  async rotate(tenant: string, id: string): Promise<WebhookRecord> {
    return this.store.rotate(await this.get(tenant, id))
  }

  async listDeliveries(
    tenant: string,
    id: string,
    status: DeliveryStatus,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Delivery[]; nextCursor?: string }> {
    const hook = await this.get(tenant, id)
    return this.deliveries.list(hook.id, status, limit, cursor)
  }

  /** Sends a dead (or delivered) delivery again; 404 if unknown, 409 if still pending. */
  async replay(tenant: string, id: string, deliveryId: string): Promise<Delivery> {
    const hook = await this.get(tenant, id)
    const result = await this.deliveries.replay(hook.id, deliveryId)
    if (result === undefined) throw errors.deliveryNotFound(deliveryId)
    if (result === 'pending') throw errors.deliveryPending(deliveryId)
    return result
  }

  /** Sends every dead delivery again, oldest first: the webhook and how many. */
  async replayDead(tenant: string, id: string): Promise<{ hook: WebhookRecord; replayed: number }> {
    const hook = await this.get(tenant, id)
    return { hook, replayed: await this.deliveries.replayDead(hook.id) }
  }
}
