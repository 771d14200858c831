/**
 * Events out: the tenants' event log (read side); the hub that feeds every open SSE
 * stream of this process from one blocking read, and the per-tenant cap on those streams;
 * webhooks (records, deliveries) and — on processes with the `worker` role — the relays
 * that carry the log to the webhook queues and to Kafka, and the webhook delivery workers.
 */
import fp from 'fastify-plugin'
import { EventHub } from '../events/event-hub.js'
import { EventLog } from '../events/event-log.js'
import { KafkaSink } from '../events/kafka-sink.js'
import { SseStreams } from '../events/sse.js'
import { durationMs } from '../schemas/common.js'
import { EventRelay } from '../workers/event-relay.js'
import { connectionFrom } from '../workers/queues.js'
import { WebhookDeliveries } from '../webhooks/delivery-queue.js'
import { WebhookWorkers } from '../webhooks/delivery-worker.js'
import { WebhookFanout } from '../webhooks/webhook-fanout.js'
import { createDeliverer } from '../webhooks/webhook-http.js'
import { WebhookService } from '../webhooks/webhook-service.js'
import { WebhookStore } from '../webhooks/webhook-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    eventLog: EventLog
    eventHub: EventHub
    sseStreams: SseStreams
    webhooks: WebhookStore
    webhookDeliveries: WebhookDeliveries
    /** what the /v1/webhooks routes do */
    webhookService: WebhookService
    /** the relays running on this process (worker role), by sink */
    eventRelays: Map<string, EventRelay>
    /** the webhook delivery workers of this process (worker role) */
    webhookWorkers: WebhookWorkers | undefined
  }
}

export const eventsPlugin = fp(
  async (app) => {
    const config = app.config
    const prefix = config.SPARKGATE_REDIS_PREFIX
    const log = new EventLog(app.redis, prefix)
    const hub = new EventHub(app.redis, app.log)
    const streams = new SseStreams(config.SPARKGATE_MAX_EVENT_STREAMS)
    const webhooks = new WebhookStore(app.redis, prefix)
    const deliveries = new WebhookDeliveries(app.redis, {
      connection: connectionFrom(config.SPARKGATE_REDIS_URL),
      prefix,
      maxAttempts: config.SPARKGATE_WEBHOOK_MAX_ATTEMPTS,
      backoffMs: config.SPARKGATE_WEBHOOK_BACKOFF_MS,
      keepMs: durationMs(config.SPARKGATE_EVENTS_RETENTION),
    })
    app.decorate('eventLog', log)
    app.decorate('eventHub', hub)
    app.decorate('sseStreams', streams)
    app.decorate('webhooks', webhooks)
    app.decorate('webhookDeliveries', deliveries)
    app.decorate(
      'webhookService',
      new WebhookService(webhooks, deliveries, config.SPARKGATE_WEBHOOK_ALLOW_PRIVATE),
    )

    const kafka =
      config.SPARKGATE_KAFKA_BROKERS === 'none'
        ? undefined
        : KafkaSink.create({
            brokers: config.SPARKGATE_KAFKA_BROKERS,
            topic: config.SPARKGATE_KAFKA_TOPIC,
            securityProtocol: config.SPARKGATE_KAFKA_SECURITY_PROTOCOL,
            saslMechanism: config.SPARKGATE_KAFKA_SASL_MECHANISM,
            saslUsername: config.SPARKGATE_KAFKA_SASL_USERNAME,
            saslPassword: config.SPARKGATE_KAFKA_SASL_PASSWORD,
            clientId: 'sparkgate',
            log: app.log.child({ component: 'kafka' }),
          })
    if (kafka)
      app.status.addDependency('kafka', {
        url: `kafka://${config.SPARKGATE_KAFKA_BROKERS}/${config.SPARKGATE_KAFKA_TOPIC}`,
        check: () => kafka.check(),
        optional: true,
      })

    const relays = new Map<string, EventRelay>()
    app.decorate('eventRelays', relays)
    let workers: WebhookWorkers | undefined
    if (config.SPARKGATE_ROLES.split(',').includes('worker')) {
      const relayLog = app.log.child({ component: 'event-relay' })
      relays.set(
        'webhooks',
        new EventRelay(app.redis, prefix, new WebhookFanout(webhooks, deliveries), relayLog),
      )
      if (kafka) relays.set('kafka', new EventRelay(app.redis, prefix, kafka, relayLog))
      workers = new WebhookWorkers(
        webhooks,
        deliveries,
        createDeliverer({
          timeoutMs: config.SPARKGATE_WEBHOOK_TIMEOUT_MS,
          allowPrivate: config.SPARKGATE_WEBHOOK_ALLOW_PRIVATE,
        }),
        app.log.child({ component: 'webhook-worker' }),
        { lockMs: config.SPARKGATE_WORKER_LOCK_MS },
      )
    }
    app.decorate('webhookWorkers', workers)
    app.addHook('onReady', async () => {
      for (const relay of relays.values()) relay.start()
      await workers?.start()
    })
    // open streams end when the gateway stops taking requests (they would hold it open)
    app.addHook('preClose', async () => streams.endAll())
    app.addHook('onClose', async () => {
      await Promise.all([...relays.values()].map((r) => r.close()))
      await workers?.close()
      await deliveries.close()
      await hub.close()
      if (kafka && !relays.has('kafka')) await kafka.close()
    })
  },
  {
    name: 'sparkgate-events',
    dependencies: ['sparkgate-config', 'sparkgate-redis', 'sparkgate-jobs'],
  },
)
