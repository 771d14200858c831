/**
 * Where the event relay (src/workers/event-relay.ts) hands each tenant's events, in log
 * order: the webhook fan-out, the Kafka producer. A sink that throws gets the same events
 * again (from the same position) after a pause, so what it does must be safe to repeat:
 * delivery is at least once, and consumers dedupe by the event id.
 */
import type { StoredEvent } from '../schemas/events.js'

export interface EventSink {
  /** names the sink's position in Redis (`P:relay:<name>`) and its logs */
  readonly name: string
  /** Takes one tenant's events, oldest first; resolves once they are safely handed on. */
  accept(tenant: string, events: StoredEvent[]): Promise<void>
  close(): Promise<void>
}
