/**
 * WebHDFS client for staging and reading files on HDFS: the URL, the user of simple auth,
 * and the cluster's credentials (SPARKGATE_HDFS_AUTH: none, basic through a gateway, or
 * Kerberos with the gateway's principal) and CA (SPARKGATE_HDFS_CA_FILE), checked at boot:
 * a keytab, password file or CA file that cannot be read is a CredentialError naming it.
 */
import fp from 'fastify-plugin'
import { credentialsOf, parseAuthSetting } from '../cluster-auth/settings.js'
import { loadKerberos } from '../cluster-auth/spnego.js'
import type { Config } from '../config.js'
import { WebHdfsClient } from '../storage/webhdfs-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    hdfs: WebHdfsClient
  }
}

type HdfsConfig = Pick<
  Config,
  | 'SPARKGATE_WEBHDFS_URL'
  | 'SPARKGATE_HDFS_USER'
  | 'SPARKGATE_HDFS_AUTH'
  | 'SPARKGATE_HDFS_CA_FILE'
  | 'SPARKGATE_KERBEROS_PRINCIPAL'
  | 'SPARKGATE_KERBEROS_KEYTAB'
  | 'SPARKGATE_KRB5_CONF'
>

/** The gateway's WebHDFS client from its config (also the tests' and benchmarks'). */
export function webHdfsFromConfig(config: HdfsConfig): WebHdfsClient {
  const auth = credentialsOf(
    parseAuthSetting(config.SPARKGATE_HDFS_AUTH),
    'SPARKGATE_HDFS_AUTH',
    config,
  )
  // the client reads the CA file (and so checks it) at once, naming SPARKGATE_HDFS_CA_FILE
  const caFile = config.SPARKGATE_HDFS_CA_FILE || undefined
  return new WebHdfsClient({
    url: config.SPARKGATE_WEBHDFS_URL,
    user: config.SPARKGATE_HDFS_USER,
    auth,
    ...(caFile ? { caFile } : {}),
  })
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
