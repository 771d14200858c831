/**
 * Prometheus metrics (prom-client), one registry per app, every series labelled with its
 * `instance` (host:pid): counters and histograms are per process (Prometheus sums
 * replicas); gauges of shared state (queues, live jobs, backends) are read from Redis
 * and the backends at scrape time, so every replica reports the same numbers.
 *
 *   sparkgate_http_request_duration_seconds{method,route,status}   histogram
 *   sparkgate_job_transitions_total{backend,to}                     counter
 *   sparkgate_queue_jobs{backend,state}                             gauge (BullMQ)
 *   sparkgate_live_jobs{backend}, sparkgate_backend_up{backend}     gauges
 *   sparkgate_tracker_tick_seconds{backend}                         histogram
 *   sparkgate_webhook_deliveries_total{outcome}                     counter
 *   process_*, nodejs_*                                             prom-client's defaults
 */
import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
  }
}

export const metricsPlugin = fp(
  async (app) => {
    const registry = new Registry()
    registry.setDefaultLabels({ instance: `${hostname()}:${process.pid}` })
    collectDefaultMetrics({ register: registry })
    app.decorate('metrics', registry)

    const http = new Histogram({
      name: 'sparkgate_http_request_duration_seconds',
      help: 'HTTP requests by method, route (its pattern) and status, with their duration.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    app.addHook('onResponse', async (request, reply) => {
      // the pattern, not the URL: ids would make a series per job
      const route = request.routeOptions.url ?? 'unmatched'
      http.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      )
    })

    const transitions = new Counter({
      name: 'sparkgate_job_transitions_total',
      help: 'Job state changes made by this process, by backend and the state entered.',
      labelNames: ['backend', 'to'] as const,
      registers: [registry],
    })
    app.jobStore.onTransition = (backend, to) => transitions.inc({ backend, to })

    const tick = new Histogram({
      name: 'sparkgate_tracker_tick_seconds',
      help: 'How long one tracker tick took (one backend list call covers every live job).',
      labelNames: ['backend'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    if (app.tracker) app.tracker.onTick = (backend, seconds) => tick.observe({ backend }, seconds)

    const deliveries = new Counter({
      name: 'sparkgate_webhook_deliveries_total',
      help: 'Webhook delivery tries by outcome: delivered, retry, dead, gone (410), dropped.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    })
    if (app.webhookWorkers) app.webhookWorkers.onOutcome = (outcome) => deliveries.inc({ outcome })

    // shared state, read when scraped: every replica reports the same
    const backends = [...app.backends.byName.keys()]
    new Gauge({
      name: 'sparkgate_queue_jobs',
      help: "Jobs in a backend's submit queue by BullMQ state (waiting, prioritized, delayed, active).",
      labelNames: ['backend', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const backend of backends) {
          const counts = await app.jobQueues.counts(backend)
          for (const [state, n] of Object.entries(counts)) this.set({ backend, state }, n)
        }
      },
    })
    const views = () => app.status.backendViews()
    new Gauge({
      name: 'sparkgate_live_jobs',
      help: "Jobs holding one of a backend's live slots.",
      labelNames: ['backend'] as const,
      registers: [registry],
      async collect() {
        for (const v of await views()) this.set({ backend: v.name }, v.live)
      },
    })
    new Gauge({
      name: 'sparkgate_engines',
      help: 'Warm engines that have not ended, by backend and state (starting, ready, busy, stopping).',
      labelNames: ['backend', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const backend of backends)
          for (const e of await app.engines.store.live(backend))
            this.inc({ backend, state: e.state })
      },
    })
    new Gauge({
      name: 'sparkgate_engine_jobs_served',
      help: 'Jobs run by the warm engines that have not ended, by backend.',
      labelNames: ['backend'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const backend of backends) {
          const live = await app.engines.store.live(backend)
          this.set(
            { backend },
            live.reduce((n, e) => n + e.jobsServed, 0),
          )
        }
      },
    })
    new Gauge({
      name: 'sparkgate_backend_up',
      help: 'Whether a backend answered its health probe (1) or not (0).',
      labelNames: ['backend'] as const,
      registers: [registry],
      async collect() {
        for (const v of await views()) this.set({ backend: v.name }, v.healthy ? 1 : 0)
      },
    })
  },
  {
    name: 'sparkgate-metrics',
    dependencies: ['sparkgate-stores', 'sparkgate-jobs', 'sparkgate-events', 'sparkgate-engines'],
  },
)
