/**
 * The stack's Synapse double (services/synapse.sh starts it): the Synapse batch API over
 * HTTPS with the stack's CA, whose batches run on a local spark-submit that reads and
 * writes the workspace storage (Azurite) as abfss://, and the storage proxy its Spark
 * reaches Azurite through. Everything comes from the environment services/synapse.sh sets:
 *
 *   SYNAPSE_PORT, SYNAPSE_POOL, SYNAPSE_TOKEN_FILE   its API, its pool, its bearer token
 *   SYNAPSE_CERT, SYNAPSE_KEY, SYNAPSE_CA            its TLS certificate, key and CA
 *   SYNAPSE_WORKDIR                                  its batches' folders
 *   SYNAPSE_STORAGE_PROXY_PORT, AZURITE_PORT         the storage proxy, and Azurite's port
 *   SYNAPSE_ACCOUNT, SYNAPSE_CONTAINER, SYNAPSE_KEY_FILE  the workspace storage: its
 *                                                    container (file system) is made if missing
 *   SPARK_HOME, SPARK_CONF_DIR, HADOOP_CONF_DIR, JAVA_HOME, PYSPARK_PYTHON
 *                                                    its Spark (SPARK_CONF_DIR: the WASB
 *                                                    driver for abfss, the account key)
 */
import { readFileSync } from 'node:fs'
import { setDefaultCACertificates, getCACertificates } from 'node:tls'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { startStorageProxy } from './storage-proxy.js'
import { SynapseDouble } from './synapse-double.js'

function need(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set (services/synapse.sh sets it)`)
  return value
}

const sparkEnv: Record<string, string> = {}
for (const name of ['SPARK_CONF_DIR', 'HADOOP_CONF_DIR', 'JAVA_HOME', 'PYSPARK_PYTHON'])
  sparkEnv[name] = need(name)
sparkEnv['SPARK_LOCAL_IP'] = '127.0.0.1'

// the workspace's file system, as a workspace has it from its creation
setDefaultCACertificates([
  ...getCACertificates('default'),
  readFileSync(need('SYNAPSE_CA'), 'utf8'),
])
const account = need('SYNAPSE_ACCOUNT')
const blobs = new BlobServiceClient(
  `https://127.0.0.1:${need('AZURITE_PORT')}/${account}`,
  new StorageSharedKeyCredential(account, readFileSync(need('SYNAPSE_KEY_FILE'), 'utf8').trim()),
)
await blobs.getContainerClient(need('SYNAPSE_CONTAINER')).createIfNotExists()

const proxy = await startStorageProxy({
  port: Number(need('SYNAPSE_STORAGE_PROXY_PORT')),
  azuritePort: Number(need('AZURITE_PORT')),
  caFile: need('SYNAPSE_CA'),
})
const double = new SynapseDouble({
  pool: need('SYNAPSE_POOL'),
  token: readFileSync(need('SYNAPSE_TOKEN_FILE'), 'utf8').trim(),
  sparkHome: need('SPARK_HOME'),
  workdir: need('SYNAPSE_WORKDIR'),
  env: sparkEnv,
  tls: {
    cert: readFileSync(need('SYNAPSE_CERT'), 'utf8'),
    key: readFileSync(need('SYNAPSE_KEY'), 'utf8'),
    caFile: need('SYNAPSE_CA'),
  },
  port: Number(need('SYNAPSE_PORT')),
})
const endpoint = await double.start()
console.log(`synapse double on ${endpoint}, pool ${process.env['SYNAPSE_POOL']}`)

for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    proxy.close()
    void double.stop().finally(() => process.exit(0))
  })
