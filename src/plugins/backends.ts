/** The configured Spark backends (src/backends/registry.ts), by name, with the default. */
import fp from 'fastify-plugin'
import { createBackends } from '../backends/create-backends.js'
import { loadKerberos } from '../cluster-auth/spnego.js'
import type { Backends } from '../domain/ports/spark-backend.js'

declare module 'fastify' {
  interface FastifyInstance {
    backends: Backends
  }
}

export const backendsPlugin = fp(
  async (app) => {
    const config = app.config
    const backends = createBackends(
      config.SPARKGATE_BACKENDS,
      config.SPARKGATE_DEFAULT_BACKEND,
      config,
    )
    // Kerberos needs its native binding: missing, the gateway says so at boot
    if ([...backends.byName.values()].some((b) => b.backend.auth === 'kerberos'))
      await loadKerberos()
    app.decorate('backends', backends)
  },
  { name: 'sparkgate-backends', dependencies: ['sparkgate-config'] },
)
