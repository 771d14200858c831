/**
 * The event relay's webhook sink: each event to the deliveries of every webhook that wants
 * it. It is an EventSink (src/events/event-sink.ts) by shape: events/ sits on this layer,
 * so the contract is checked where the relay is wired (src/plugins/events.ts).
 */
import type { StoredEvent } from '../schemas/events.js'
import type { WebhookDeliveries } from './delivery-queue.js'
import type { WebhookStore } from './webhook-store.js'

/** The relay's webhook sink: each event to the deliveries of every webhook that wants it. */
export class WebhookFanout {
  readonly name = 'webhooks'

  constructor(
    private readonly store: WebhookStore,
    private readonly deliveries: WebhookDeliveries,
  ) {}

  async accept(tenant: string, events: StoredEvent[]) {
    const hooks = await this.store.list(tenant)
    if (hooks.length > 0) await this.deliveries.enqueue(hooks, events)
  }

  async close() {}
}
