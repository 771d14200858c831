/**
 * The warm engines (src/engines/): the pool the submit workers and the tracker use, each
 * configured backend wrapped so that a job's place in an engine answers like a batch, and
 * the protocol the engines' drivers speak (routes/engines). Registered before the jobs
 * plugin, which hands the pool to its workers; the job kinds and the tracker it makes are
 * read when an engine first needs them.
 */
import fp from 'fastify-plugin'
import { durationMs } from '../schemas/common.js'
import { RedisKeys } from '../redis/keys.js'
import { RunArea } from '../runs/run-area.js'
import { WarmEngines } from '../engines/engine-pool.js'
import { EngineProtocol } from '../engines/engine-protocol.js'
import { EngineStore } from '../engines/engine-store.js'
import type { StagedRun } from '../runs/staged-run.js'

declare module 'fastify' {
  interface FastifyInstance {
    engines: WarmEngines
    engineProtocol: EngineProtocol
  }
}

/** The URL an engine's driver calls: the configured one, else the gateway's own address. */
export function engineGatewayUrl(url: string, host: string, port: number): string {
  if (url) return url.replace(/\/+$/, '')
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

export const enginesPlugin = fp(
  async (app) => {
    const config = app.config
    const prefix = config.SPARKGATE_REDIS_PREFIX
    const keys = new RedisKeys(prefix)
    const store = new EngineStore(app.redis, prefix, durationMs(config.SPARKGATE_EVENTS_RETENTION))
    const engines = new WarmEngines({
      store,
      jobs: app.jobStore,
      backends: app.backends,
      stores: app.stores,
      runs: new RunArea(app.stores),
      tenants: {
        current: (id) => app.tenants.current(id),
        ids: () => app.redis.zrange(keys.tenants(), 0, -1),
      },
      runsInEngine: (job) => app.jobKinds.of(job)?.kind.runsInEngine === true,
      // the port is bound once the server listens (SPARKGATE_PORT=0 picks one)
      get gatewayUrl() {
        const address = app.server.address()
        const port = typeof address === 'object' && address ? address.port : config.SPARKGATE_PORT
        return engineGatewayUrl(config.SPARKGATE_ENGINE_GATEWAY_URL, config.SPARKGATE_HOST, port)
      },
      log: app.log.child({ component: 'engines' }),
    })
    // every backend as the core sees it: engine jobs' refs answered by the pool
    for (const configured of app.backends.byName.values())
      configured.backend = engines.wrap(configured.backend)
    const protocol = new EngineProtocol(
      engines,
      app.jobStore,
      (job) => {
        const of = app.jobKinds.of(job)
        const spec = (job.internals as StagedRun | undefined)?.trainSpec
        return of?.kind.runsInEngine && spec ? { id: job.id, kind: of.kind.name, spec } : undefined
      },
      (backend) => app.tracker?.nudge(backend),
    )
    app.decorate('engines', engines)
    app.decorate('engineProtocol', protocol)
  },
  {
    name: 'sparkgate-engines',
    dependencies: [
      'sparkgate-config',
      'sparkgate-redis',
      'sparkgate-backends',
      'sparkgate-stores',
      'sparkgate-auth',
    ],
  },
)
