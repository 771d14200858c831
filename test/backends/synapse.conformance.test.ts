/**
 * The SparkBackend conformance suite against Azure Synapse: the real @azure/synapse-spark
 * SDK, pointed at the spec-following HTTPS double in docker/local/synapse/synapse-double.ts, whose
 * batches really run on the local spark-submit.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import {
  staticTokenCredential,
  SynapseBackend,
} from '../../src/backends/synapse/synapse-backend.js'
import { BackendError } from '../../src/domain/ports/spark-backend.js'
import { conformance } from '../helpers/conformance.js'
import { freePort, stage } from '../helpers/jobs.js'
import { hdfsClient, hdfsTestDir, testConfig } from '../helpers/stack.js'
import { SynapseDouble } from '../../docker/local/synapse/synapse-double.js'

const token = randomUUID()

async function startDouble() {
  const sparkHome = process.env['SPARK_HOME']
  if (!sparkHome) throw new Error('SPARK_HOME is not set: run through npm test')
  const double = new SynapseDouble({ pool: 'ml', token, sparkHome })
  const endpoint = await double.start()
  t.teardown(() => double.stop())
  return { double, endpoint }
}

conformance(t, async () => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const { double, endpoint } = await startDouble()
  const make = (url: string) =>
    new SynapseBackend({
      name: 'synapse',
      endpoint: url,
      pool: 'ml',
      credential: staticTokenCredential(token),
      caFile: double.tls.caFile,
    })
  return {
    backend: make(endpoint),
    down: make(`https://127.0.0.1:${await freePort()}`),
    // the double's pool reads hdfs://; a real pool reads abfss://
    stage: (local, name) => stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, local, `${dir}/${name}`),
    refusedFile: 'not-a-uri.py',
    refusesDuplicateNames: false,
  }
})

t.test('the SDK speaks the spec: bearer token, pool, list call per tick', async (t) => {
  const { double, endpoint } = await startDouble()
  const wrong = new SynapseBackend({
    name: 'synapse',
    endpoint,
    pool: 'ml',
    credential: staticTokenCredential('not-the-token'),
    caFile: double.tls.caFile,
  })
  const refused = await wrong.health().then(
    () => 'up',
    (e: unknown) => (e instanceof BackendError ? e.message : String(e)),
  )
  t.match(refused, /401/, 'a wrong token is a 401')
  t.equal(double.calls.unauthorized, 1)
  const otherPool = new SynapseBackend({
    name: 'synapse',
    endpoint,
    pool: 'nope',
    credential: staticTokenCredential(token),
    caFile: double.tls.caFile,
  })
  const missing = await otherPool.health().then(
    () => 'up',
    (e: unknown) => (e instanceof BackendError ? e.kind : String(e)),
  )
  t.equal(missing, 'not_found', 'an unknown pool')
  const ok = new SynapseBackend({
    name: 'synapse',
    endpoint,
    pool: 'ml',
    credential: staticTokenCredential(token),
    caFile: double.tls.caFile,
  })
  const before = double.calls.list
  await ok.statusMany([
    { batchId: '1', batchName: 'a' },
    { batchId: '2', batchName: 'b' },
    { batchId: '3', batchName: 'c' },
  ])
  t.equal(double.calls.list - before, 1, 'one list call for three refs')
  t.equal(double.calls.get, 0, 'never one call per batch')
})
