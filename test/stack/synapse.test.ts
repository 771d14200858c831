/**
 * The stack's Synapse double (docker/local/services/synapse.sh): `status --json` names its
 * endpoint, pool, CA and token file; it answers over TLS with the stack's CA, demands its
 * bearer token (the real SDK lists its batches with it); its secrets (the token, its Spark
 * conf holding the storage key) are its user's alone; its storage proxy forwards only a
 * storage account's requests; and run/synapse.json tells the gateway where it all is.
 * Skipped (plan 0) when the stack runs no double (the secure profile).
 */
import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { get } from 'node:https'
import { join } from 'node:path'
import { SparkClient } from '@azure/synapse-spark'
import t from 'tap'
import { staticTokenCredential } from '../../src/backends/synapse/synapse-backend.js'
import { stackPort } from '../../bench/ports.js'
import { stackDouble } from '../helpers/azure.js'

const status = await new Promise<Record<string, unknown>>((resolve, reject) =>
  execFile('bash', ['docker/local/stack.sh', 'status', '--json'], (error, stdout) => {
    if (error) reject(new Error(`stack.sh status --json: ${error.message}`))
    else resolve(JSON.parse(stdout) as Record<string, unknown>)
  }),
)
const double = stackDouble()
const synapse = status['synapse'] as
  { up: boolean; endpoint: string; pool: string; caFile: string; tokenFile: string } | undefined

if (!double || !synapse?.up) {
  t.comment('the stack runs no Synapse double: skipped')
  t.plan(0)
} else {
  t.test('status --json names its endpoint, pool, CA and token file', async (t) => {
    t.same(Object.keys(synapse), ['up', 'endpoint', 'pool', 'caFile', 'tokenFile'])
    t.match(synapse, {
      up: true,
      endpoint: `https://127.0.0.1:${stackPort('SYNAPSE_PORT')}`,
      pool: 'sparkpool',
    })
    t.match(double, {
      endpoint: synapse.endpoint,
      pool: synapse.pool,
      caFile: synapse.caFile,
      tokenFile: synapse.tokenFile,
      storage: { account: 'sparkgate', container: 'sparkgate' },
    })
    for (const secret of [
      synapse.tokenFile,
      join(status['stateDir'] as string, 'conf', 'synapse', 'spark', 'spark-defaults.conf'),
    ])
      t.equal((await stat(secret)).mode & 0o077, 0, `${secret}: its user's alone`)
    t.notMatch(JSON.stringify(status), (await readFile(synapse.tokenFile, 'utf8')).trim())
  })

  t.test('it demands its token over TLS; the SDK lists its batches with it', async (t) => {
    const ca = await readFile(synapse.caFile)
    const url = `${synapse.endpoint}/livyApi/versions/2019-11-01-preview/sparkPools/${synapse.pool}/batches`
    const code = await new Promise<number>((resolve, reject) =>
      get(url, { ca }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject),
    )
    t.equal(code, 401, 'no token: 401')
    const token = (await readFile(synapse.tokenFile, 'utf8')).trim()
    const client = new SparkClient(staticTokenCredential(token), synapse.endpoint, synapse.pool, {
      tlsOptions: { ca: ca.toString() },
    })
    const page = await client.sparkBatch.getSparkBatchJobs({ fromParam: 0, size: 1 })
    t.type(page.total, 'number', 'the pool lists its batches')
  })

  t.test('its storage proxy forwards only a storage account’s requests', async (t) => {
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: stackPort('SYNAPSE_STORAGE_PROXY_PORT'),
            path: `http://${host}/sparkgate?restype=container`,
            headers: { host },
          },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.end()
      })
    t.equal(await ask('example.com'), 403, 'another host: refused')
    // unsigned, to Azurite through the proxy: Azurite itself answers (403: no credential)
    const status = await ask('sparkgate.dfs.core.windows.net')
    t.not(status, 502)
    t.ok([401, 403].includes(status), `Azurite answered ${status}`)
  })
}
