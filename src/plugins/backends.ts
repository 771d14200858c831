/** The configured Spark backends (src/backends/registry.ts), by name, with the default. */
import fp from 'fastify-plugin'
import { createBackends } from '../backends/create-backends.js'
import type { Backends } from '../domain/ports/spark-backend.js'

declare module 'fastify' {
  interface FastifyInstance {
    backends: Backends
  }
}

export const backendsPlugin = fp(
  async (app) => {
    const config = app.config
    app.decorate(
      'backends',
      createBackends(config.SPARKGATE_BACKENDS, config.SPARKGATE_DEFAULT_BACKEND, config),
    )
  },
  { name: 'sparkgate-backends', dependencies: ['sparkgate-config'] },
)
