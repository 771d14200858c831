/** WebHDFS client for staging and reading files on HDFS. */
import fp from 'fastify-plugin'
import { WebHdfsClient } from '../storage/webhdfs-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    hdfs: WebHdfsClient
  }
}

export const hdfsPlugin = fp(
  async (app) => {
    app.decorate(
      'hdfs',
      new WebHdfsClient({
        url: app.config.SPARKGATE_WEBHDFS_URL,
        user: app.config.SPARKGATE_HDFS_USER,
      }),
    )
  },
  { name: 'sparkgate-hdfs', dependencies: ['sparkgate-config'] },
)
