/**
 * Events out: the tenants' event log (read side), the hub that feeds every open SSE
 * stream of this process from one blocking read, and the per-tenant cap on those streams.
 */
import fp from 'fastify-plugin'
import { EventHub } from '../events/event-hub.js'
import { EventLog } from '../events/event-log.js'
import { SseStreams } from '../events/sse.js'

declare module 'fastify' {
  interface FastifyInstance {
    eventLog: EventLog
    eventHub: EventHub
    sseStreams: SseStreams
  }
}

export const eventsPlugin = fp(
  async (app) => {
    const config = app.config
    const log = new EventLog(app.redis, config.SPARKGATE_REDIS_PREFIX)
    const hub = new EventHub(app.redis, app.log)
    const streams = new SseStreams(config.SPARKGATE_MAX_EVENT_STREAMS)
    app.decorate('eventLog', log)
    app.decorate('eventHub', hub)
    app.decorate('sseStreams', streams)
    // open streams end when the gateway stops taking requests (they would hold it open)
    app.addHook('preClose', async () => streams.endAll())
    app.addHook('onClose', async () => hub.close())
  },
  { name: 'sparkgate-events', dependencies: ['sparkgate-config', 'sparkgate-redis'] },
)
