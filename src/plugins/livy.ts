/** The Apache Livy client. */
import fp from 'fastify-plugin'
import { LivyClient } from '../backends/livy/livy-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    livy: LivyClient
  }
}

export const livyPlugin = fp(
  async (app) => {
    app.decorate('livy', new LivyClient({ url: app.config.SPARKGATE_LIVY_URL }))
  },
  { name: 'sparkgate-livy', dependencies: ['sparkgate-config'] },
)
