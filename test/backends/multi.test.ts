/**
 * Several backends at once: Livy (real), local spark-submit (real) and Synapse (the real
 * SDK against the spec-following double, whose batches run on local Spark). GET
 * /v1/backends shows all three healthy; a job picks one by name; a training job succeeds
 * on local (Livy's is in test/training/e2e.test.ts); a Synapse backend without `storage`
 * takes no training (Sparkgate has nowhere to stage it: test/azure/ trains on one with).
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import type { Job } from '../../src/domain/job-schema.js'
import { getJob, postJob, waitForState } from '../helpers/jobs.js'
import { build, hdfsClient, hdfsTestDir, testConfig } from '../helpers/stack.js'
import { SynapseDouble } from '../../docker/local/synapse/synapse-double.js'

const churn = fileURLToPath(new URL('../../jobs/examples/data/churn.csv', import.meta.url))

t.test('livy, local and synapse side by side', async (t) => {
  const sparkHome = process.env['SPARK_HOME']
  if (!sparkHome) throw new Error('SPARK_HOME is not set: run through npm test')
  const token = randomUUID()
  const double = new SynapseDouble({ pool: 'ml', token, sparkHome })
  const endpoint = await double.start()
  t.teardown(() => double.stop())
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const config = testConfig()
  const app = await build(t, {
    SPARKGATE_HDFS_ROOT: root,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
    SPARKGATE_SYNAPSE_TOKEN: token,
    SPARKGATE_BACKENDS: JSON.stringify([
      { name: 'livy-main', kind: 'livy', url: config.SPARKGATE_LIVY_URL, maxLive: 2 },
      { name: 'local', kind: 'local', sparkHome, maxLive: 1 },
      { name: 'synapse-ml', kind: 'synapse', endpoint, pool: 'ml', caFile: double.tls.caFile },
    ]),
    SPARKGATE_DEFAULT_BACKEND: 'livy-main',
  })

  const listed = await app.inject({ method: 'GET', url: '/v1/backends' })
  t.equal(listed.statusCode, 200)
  t.same(
    listed
      .json()
      .items.map((b: { name: string; kind: string; healthy: boolean; default: boolean }) => [
        b.name,
        b.kind,
        b.healthy,
        b.default,
      ]),
    [
      ['livy-main', 'livy', true, true],
      ['local', 'local', true, false],
      ['synapse-ml', 'synapse', true, false],
    ],
    JSON.stringify(listed.json()),
  )
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'all ready')
  const unknown = await postJob(app, {
    backend: 'nope',
    batch: { file: 'hdfs://127.0.0.1:8020/x.py' },
  })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().detail, /livy-main, local, synapse-ml/)

  const upload = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=churn.csv',
    headers: { 'content-type': 'text/csv' },
    payload: await readFile(churn),
  })
  const dataset = upload.json<Dataset>()
  const training = {
    label: 'churned',
    features: ['tenure_months', 'monthly_charges', 'contract', 'support_calls'],
    algorithm: 'logistic_regression',
  }
  const resources = { driverMemory: '512m' }

  const refused = await postJob(app, {
    backend: 'synapse-ml',
    training: { ...training, dataset: dataset.id },
  })
  t.equal(refused.statusCode, 400, 'a pool without storage: nowhere to stage the dataset')
  t.match(
    refused.json().detail,
    /synapse backend synapse-ml names no store Sparkgate can stage in \(set `storage` on its entry\)/,
  )

  const onLocal = await postJob(app, {
    name: 'churn-local',
    backend: 'local',
    resources,
    training: { ...training, dataset: dataset.id },
  })
  t.equal(onLocal.statusCode, 202, onLocal.body)
  // nor its train.py, spec and model, whatever URI its data has
  const onSynapse = await postJob(app, {
    name: 'churn-synapse',
    backend: 'synapse-ml',
    resources,
    training: { ...training, dataset: { uri: dataset.uri, format: 'csv' } },
  })
  t.equal(onSynapse.statusCode, 400, onSynapse.body)
  t.match(onSynapse.json(), {
    errors: [{ field: 'body.training', rule: 'backend-capability' }],
  })

  for (const r of [onLocal]) {
    const job = await waitForState(
      (id) => getJob(app, id),
      r.json<Job>().id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(job.state, 'succeeded', `${job.backend}: ${JSON.stringify(job.error)}`)
    const result = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })
    t.equal(result.statusCode, 200)
    t.ok(
      result.json().metrics.areaUnderROC > 0.8,
      `${job.backend}: AUC ${result.json().metrics.areaUnderROC}`,
    )
  }
  t.equal(double.calls.create, 0, 'nothing reached the pool')
})
