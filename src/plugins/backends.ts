/** The configured Spark backends, by name. */
import fp from 'fastify-plugin'
import { createBackends, type ConfiguredBackend } from '../backends/create-backends.js'

declare module 'fastify' {
  interface FastifyInstance {
    backends: Map<string, ConfiguredBackend>
  }
}

export const backendsPlugin = fp(
  async (app) => {
    app.decorate('backends', createBackends(app.config))
  },
  { name: 'sparkgate-backends', dependencies: ['sparkgate-config'] },
)
