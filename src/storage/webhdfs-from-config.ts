/**
 * The gateway's WebHDFS client from its config: the URL, the user of simple auth, and the
 * cluster's credentials (SPARKGATE_HDFS_AUTH: none, basic through a gateway, or Kerberos
 * with the gateway's principal) and CA (SPARKGATE_HDFS_CA_FILE), checked here: a keytab,
 * password file or CA file that cannot be read is a CredentialError naming it.
 */
import type { Config } from '../config.js'
import { httpsAgent } from '../cluster-auth/http-auth.js'
import { credentialsOf, parseAuthSetting } from '../cluster-auth/settings.js'
import { WebHdfsClient } from './webhdfs-client.js'

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

export function webHdfsFromConfig(config: HdfsConfig): WebHdfsClient {
  const auth = credentialsOf(
    parseAuthSetting(config.SPARKGATE_HDFS_AUTH),
    'SPARKGATE_HDFS_AUTH',
    config,
  )
  const caFile = config.SPARKGATE_HDFS_CA_FILE || undefined
  httpsAgent(caFile, 'SPARKGATE_HDFS_CA_FILE')
  return new WebHdfsClient({
    url: config.SPARKGATE_WEBHDFS_URL,
    user: config.SPARKGATE_HDFS_USER,
    auth,
    ...(caFile ? { caFile } : {}),
  })
}
