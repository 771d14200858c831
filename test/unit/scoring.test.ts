/**
 * Scoring's rules before anything is queued (src/kinds/scoring/, src/models/):
 * the spec's schema, model references, resolution against the registry and MLflow (only
 * the caller's tenant's models), the column check, and the batch a scoring job becomes.
 * Every collaborator is a stand-in: no Redis, no HDFS, no MLflow, no Spark.
 */
import t, { type Test } from 'tap'
import { Value } from 'typebox/value'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import { jobSpecSchema, type JobRecord } from '../../src/domain/job-schema.js'
import { SparkgateError } from '../../src/errors.js'
import type { MlflowClient, ModelVersion } from '../../src/mlflow/mlflow-client.js'
import { HdfsStore } from '../../src/storage/hdfs-store.js'
import { Stores } from '../../src/storage/stores.js'
import type { WebHdfsClient } from '../../src/storage/webhdfs-client.js'
import { checkScoring } from '../../src/kinds/scoring/checks.js'
import { JOB_KINDS } from '../../src/kinds/registry.js'
import { MlflowModels } from '../../src/models/mlflow-models.js'
import type { MlflowTracking } from '../../src/models/mlflow-tracking.js'
import { parseModelRef } from '../../src/models/model-ref.js'
import type { ModelRegistry } from '../../src/models/model-registry.js'
import type { ModelVersion as Version } from '../../src/models/model-version.js'
import { RedisModels } from '../../src/models/redis-models.js'
import type { RedisVersions } from '../../src/models/redis-versions.js'
import { RunArea } from '../../src/runs/run-area.js'
import { toSubmission } from '../../src/workers/submit-worker.js'
import { unitKinds } from '../helpers/kinds.js'

const FS = 'hdfs://nn:8020'
const runUri = (tenant: string, job: string) =>
  `${FS}/sparkgate/tenants/${tenant}/runs/${job}/model`
const DATASET_ID = 'a'.repeat(64)
const FIELD = 'body.scoring.model'

// no call reaches HDFS: paths and URIs only
const staging = new HdfsStore({} as WebHdfsClient, '/sparkgate', FS)
const stager = new RunArea(new Stores(staging))
const JobSpecSchema = jobSpecSchema(JOB_KINDS)

const version = (tenant: string, name: string, v: number): Version => ({
  name,
  version: v,
  jobId: `job-${v}`,
  datasetId: null,
  task: 'classification',
  algorithm: 'logistic_regression',
  params: {},
  metrics: {},
  modelUri: runUri(tenant, `job-${v}`),
  createdAt: '2024-01-01T00:00:00.000Z',
})

/** acme has churn versions 1..3; globex has its own churn (1). */
const registry = {
  versions: async (tenant: string, name: string) =>
    name !== 'churn'
      ? []
      : tenant === 'acme'
        ? [1, 2, 3].map((v) => version('acme', name, v))
        : tenant === 'globex'
          ? [version('globex', name, 1)]
          : [],
} as unknown as RedisVersions

const mlflow = {
  getModelVersionByAlias: async (
    name: string,
    alias: string,
  ): Promise<ModelVersion | undefined> => {
    if (name === 'acme.churn' && alias === 'champion')
      return { name, version: '2', source: runUri('acme', 'job-2') }
    // a version someone registered in MLflow by hand, pointing at another tenant's run
    if (name === 'acme.churn' && alias === 'stolen')
      return { name, version: '9', source: runUri('globex', 'job-1') }
    return undefined
  },
} as unknown as MlflowClient

async function refused(t: Test, work: Promise<unknown>, status: number, code: string) {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof SparkgateError, 'a coded error')
  t.equal((error as SparkgateError).status, status)
  t.equal((error as SparkgateError).code, code)
  return error as SparkgateError
}

t.test('the job spec takes scoring, with a model reference and an output format', async (t) => {
  const ok = (scoring: unknown) => Value.Check(JobSpecSchema, { scoring })
  t.ok(ok({ model: 'churn', dataset: DATASET_ID }))
  t.ok(ok({ model: 'churn/3', dataset: DATASET_ID, output: { format: 'csv' } }))
  t.ok(ok({ model: 'churn@champion', dataset: { uri: `${FS}/x.parquet`, format: 'parquet' } }))
  t.notOk(ok({ model: 'churn', dataset: DATASET_ID, output: { format: 'json' } }), 'no json out')
  t.notOk(ok({ model: '@champion', dataset: DATASET_ID }), 'a name first')
  t.notOk(ok({ model: 'churn' }), 'a dataset is required')
  t.notOk(ok({ model: 'churn', dataset: DATASET_ID, extra: 1 }), 'no other field')
})

t.test('model references: name, name/version, name@alias', async (t) => {
  t.same(parseModelRef('churn'), { name: 'churn' })
  t.same(parseModelRef('churn/12'), { name: 'churn', version: 12 })
  t.same(parseModelRef('churn@champion'), { name: 'churn', alias: 'champion' })
  t.same(parseModelRef('a.b-c/1'), { name: 'a.b-c', version: 1 })
  t.same(parseModelRef('team/churn'), { name: 'team/churn' }, 'a path-like name without a version')
})

t.test('a name is its latest version; name/version that version', async (t) => {
  const resolver = new RedisModels(registry)
  t.same(await resolver.resolve('acme', 'churn', FIELD), {
    name: 'churn',
    version: 3,
    uri: runUri('acme', 'job-3'),
  })
  t.same(await resolver.resolve('acme', 'churn/1', FIELD), {
    name: 'churn',
    version: 1,
    uri: runUri('acme', 'job-1'),
  })
  await refused(t, resolver.resolve('acme', 'churn/4', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
  await refused(t, resolver.resolve('acme', 'nope', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
  // another tenant's model is as absent as a missing one
  await refused(t, resolver.resolve('initech', 'churn', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
  t.equal((await resolver.resolve('globex', 'churn', FIELD)).uri, runUri('globex', 'job-1'))
})

t.test('name@alias goes to MLflow (<tenant>.<name>); without tracking it is a 400', async (t) => {
  const off = new RedisModels(registry)
  const e = await refused(
    t,
    off.resolve('acme', 'churn@champion', FIELD),
    400,
    'SPARKGATE_VALIDATION',
  )
  t.match(e.message, /MLflow tracking is off/)
  const on: ModelRegistry = new MlflowModels(
    mlflow,
    {} as MlflowTracking,
    registry,
    (tenant, uri) => stager.inArea(tenant, uri),
  )
  t.same(await on.resolve('acme', 'churn@champion', FIELD), {
    name: 'churn',
    version: 2,
    uri: runUri('acme', 'job-2'),
    alias: 'champion',
  })
  await refused(t, on.resolve('acme', 'churn@nope', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
  await refused(t, on.resolve('globex', 'churn@champion', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
  // a source outside the tenant's runs is none of its models
  await refused(t, on.resolve('acme', 'churn@stolen', FIELD), 404, 'SPARKGATE_MODEL_NOT_FOUND')
})

t.test("an uploaded dataset must hold the model's feature columns", async (t) => {
  const dataset: Dataset = {
    id: DATASET_ID,
    name: 'customers.csv',
    size: 10,
    sha256: DATASET_ID,
    uri: `${FS}/d`,
    path: '/d',
    format: 'csv',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'plan', type: 'string' },
    ],
    createdAt: '2024-01-01T00:00:00.000Z',
  }
  t.doesNotThrow(() => checkScoring(['age', 'plan'], dataset))
  t.doesNotThrow(() => checkScoring(undefined, dataset), 'features unknown: score.py checks')
  t.doesNotThrow(() => checkScoring(['x'], { ...dataset, columns: undefined }), 'columns unknown')
  const e = (() => {
    try {
      checkScoring(['age', 'spend', 'region'], dataset)
    } catch (error) {
      return error as SparkgateError
    }
  })()
  t.equal(e?.status, 400)
  t.match(e?.message, /body\.scoring\.dataset lacks the model's feature column\(s\) spend, region/)
})

t.test('model URIs: only hdfs:// paths of the tenant runs are its own', async (t) => {
  t.equal(staging.pathOf(runUri('acme', 'j')), '/sparkgate/tenants/acme/runs/j/model')
  t.equal(staging.pathOf('hdfs://other:8020/x'), undefined)
  t.ok(stager.inArea('acme', runUri('acme', 'j')))
  t.notOk(stager.inArea('acme', runUri('acme2', 'j')))
  t.notOk(stager.inArea('acme', `${FS}/sparkgate/tenants/acme/datasets/x`))
})

t.test('a scoring job runs score.py with the job package as a py-file', async (t) => {
  const job = {
    id: 'j1',
    tenant: 'acme',
    spec: { scoring: { model: 'churn', dataset: DATASET_ID } },
    internals: {
      trainScript: `${FS}/sparkgate/artifacts/s/score.py`,
      trainSpec: `${FS}/sparkgate/tenants/acme/runs/j1/spec.json`,
      trainPyFiles: [`${FS}/sparkgate/artifacts/t/sparkgate_jobs.zip`],
      clusterUser: 'acme',
    },
  } as unknown as JobRecord
  t.same(toSubmission(job, 1, unitKinds), {
    name: 'j1',
    file: `${FS}/sparkgate/artifacts/s/score.py`,
    args: [`${FS}/sparkgate/tenants/acme/runs/j1/spec.json`],
    pyFiles: [`${FS}/sparkgate/artifacts/t/sparkgate_jobs.zip`],
    proxyUser: 'acme',
  })
  t.throws(
    () => toSubmission({ ...job, internals: {} }, 1, unitKinds),
    /scoring job j1 was not staged/,
  )
})
