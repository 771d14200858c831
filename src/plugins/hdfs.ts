/**
 * WebHDFS client for staging and reading files on HDFS, with the cluster's credentials
 * (SPARKGATE_HDFS_AUTH, SPARKGATE_HDFS_CA_FILE), checked at boot.
 */
import fp from 'fastify-plugin'
import { loadKerberos } from '../cluster-auth/spnego.js'
import type { WebHdfsClient } from '../storage/webhdfs-client.js'
import { webHdfsFromConfig } from '../storage/webhdfs-from-config.js'

declare module 'fastify' {
  interface FastifyInstance {
    hdfs: WebHdfsClient
  }
}

export const hdfsPlugin = fp(
  async (app) => {
    const hdfs = webHdfsFromConfig(app.config)
    // Kerberos needs its native binding: missing, the gateway says so at boot
    if (hdfs.authType === 'kerberos') await loadKerberos()
    app.decorate('hdfs', hdfs)
  },
  { name: 'sparkgate-hdfs', dependencies: ['sparkgate-config'] },
)
