/**
 * Tracking on success against the real MLflow server, HDFS and Redis: a succeeded training
 * job's output (a real metrics.json and a model folder on HDFS) becomes one MLflow run in
 * its tenant's experiment and one version of `<tenant>.<modelName>` — once, however often
 * the success step runs (a restart repeats it) and from wherever a crash cut it short;
 * tenants never share an experiment or a model; SPARKGATE_MLFLOW_URL=none tracks nothing.
 * The success step is called directly: no Spark run is needed to test what follows it.
 */
import t from 'tap'
type Tap = Parameters<typeof hdfsTestDir>[0]
import type { App } from '../../src/app.js'
import { MlflowClient, quote } from '../../src/mlflow/mlflow-client.js'
import type { TrainingSpec } from '../../src/kinds/training/spec.js'
import { mlflowOf, versionsOf } from '../helpers/models.js'
import { build, hdfsClient, hdfsTestDir, tenantOf } from '../helpers/stack.js'
import { succeededTrainingJob } from '../helpers/training.js'

const hdfs = hdfsClient()

const spec = (modelName: string): TrainingSpec => ({
  dataset: { uri: 'hdfs://127.0.0.1:8020/data/churn.csv', format: 'csv' },
  label: 'churned',
  features: ['tenure', 'contract'],
  algorithm: 'logistic_regression',
  params: { maxIter: 50, regParam: 0.1 },
  split: { test: 0.2, seed: 42 },
  crossValidation: { folds: 3, grid: { regParam: [0.01, 0.1] }, metric: 'f1' },
  modelName,
})

/** What train.py writes (trimmed to the fields tracking reads, plus a few more). */
const metricsJson = {
  jobId: 'x',
  task: 'classification',
  algorithm: 'logistic_regression',
  features: ['tenure', 'contract'],
  metrics: { accuracy: 0.91, f1: 0.9, areaUnderROC: 0.95 },
  rows: { total: 200, used: 196, dropped: { labelMissing: 4 }, train: 157, test: 39 },
  preprocessing: {
    missing: { strategy: 'impute', impute: 'mean', default: true },
    missingValues: { tenure: 3 },
    encoding: { contract: 'one-hot' },
    standardize: true,
  },
  crossValidation: {
    metric: 'f1',
    largerIsBetter: true,
    folds: 3,
    parallelism: 2,
    candidates: [],
    avgMetrics: [0.86, 0.88],
    best: { params: { regParam: 0.1 }, mean: 0.88, std: 0.01, folds: [0.87, 0.88, 0.89] },
  },
  warnings: [],
}

/** A succeeded training job of the app's tenant whose output is on HDFS. */
const succeededJob = (app: App, root: string, modelName: string) =>
  succeededTrainingJob(app, root, spec(modelName), metricsJson)

const clientOf = (app: App) => new MlflowClient({ url: app.config.SPARKGATE_MLFLOW_URL })

async function runsOf(client: MlflowClient, experiment: string, jobId: string) {
  return client.searchRuns(experiment, `tags.\`sparkgate.job_id\` = ${quote(jobId)}`)
}

/** An app of a fresh tenant on its own HDFS root, and one succeeded job of `model`. */
async function setup(t: Tap, model: string) {
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root })
  const job = await succeededJob(app, root, model)
  return { root, app, client: clientOf(app), tenant: tenantOf(app).id, job }
}

t.test('a success is logged once, even when the success step runs twice', async (t) => {
  const { root, app, client, tenant, job } = await setup(t, 'churn')

  t.equal(await app.jobResults.beforeSucceeded(job), 1, 'registry version 1')
  t.equal(await app.jobResults.beforeSucceeded(job), 1, 'a restart repeats the step')
  const tracked = await mlflowOf(app)!.runOf(job.id)
  t.ok(tracked, 'the MLflow ids are recorded')
  t.equal(tracked!.experimentName, tenant, 'the experiment is named after the tenant')
  t.equal(tracked!.registeredModel, `${tenant}.churn`)
  t.equal(tracked!.modelVersion, 1)

  const experiment = await client.getExperimentByName(tenant)
  t.equal(experiment?.experiment_id, tracked!.experimentId)
  const runs = await runsOf(client, tracked!.experimentId, job.id)
  t.equal(runs.length, 1, 'one run')
  const run = runs[0]!
  t.equal(run.info.run_id, tracked!.runId)
  t.equal(run.info.status, 'FINISHED')
  const tags = Object.fromEntries((run.data.tags ?? []).map((e) => [e.key, e.value]))
  t.match(tags, {
    'sparkgate.job_id': job.id,
    'sparkgate.tenant': tenant,
    'sparkgate.dataset': 'hdfs://127.0.0.1:8020/data/churn.csv',
  })
  const params = Object.fromEntries((run.data.params ?? []).map((e) => [e.key, e.value]))
  t.match(params, {
    algorithm: 'logistic_regression',
    'param.regParam': '0.1',
    'split.test': '0.2',
    'encoding.contract': 'one-hot',
    'missing.strategy': 'impute',
    'missing.impute': 'mean',
  })
  const metrics = Object.fromEntries((run.data.metrics ?? []).map((e) => [e.key, e.value]))
  t.match(metrics, { accuracy: 0.91, f1: 0.9, 'cv.f1.mean': 0.88, 'rows.train': 157 })

  const path = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '')
  const artifact = await fetch(
    `${app.config.SPARKGATE_MLFLOW_URL}/api/2.0/mlflow-artifacts/artifacts/${path}/sparkgate/metrics.json`,
  )
  t.equal(((await artifact.json()) as { jobId: string }).jobId, job.id, 'metrics.json uploaded')

  const versions = await client.searchModelVersions(`name = ${quote(`${tenant}.churn`)}`)
  t.equal(versions.length, 1, 'one model version')
  t.equal(versions[0]!.run_id, tracked!.runId)
  t.equal(
    versions[0]!.source,
    `${app.config.SPARKGATE_HDFS_DEFAULT_FS}${root}/tenants/${tenant}/runs/${job.id}/model`,
  )

  // a second job of the same model: a second version, in the same experiment
  const next = await succeededJob(app, root, 'churn')
  await app.jobResults.beforeSucceeded(next)
  t.equal((await mlflowOf(app)!.runOf(next.id))?.modelVersion, 2)
})

t.test('a run cut short is resumed, not logged again; the repair pass finishes it', async (t) => {
  const { app, client, tenant, job } = await setup(t, 'resumed')
  // a crash after the run was created and half logged: one metric in, never FINISHED,
  // nothing recorded in Redis
  const experiment = await client.createExperiment(tenant)
  const partial = await client.createRun(experiment, {
    name: job.name,
    tags: [{ key: 'sparkgate.job_id', value: job.id }],
  })
  await client.logBatch(partial.info.run_id, {
    metrics: [{ key: 'accuracy', value: 0.91, timestamp: 1, step: 0 }],
  })
  t.equal(await mlflowOf(app)!.runOf(job.id), undefined)

  // the repair pass: every succeeded job without MLflow ids (the store is asked for them)
  await versionsOf(app).register({
    tenant,
    jobId: job.id,
    jobName: job.name,
    spec: job.spec.training as TrainingSpec,
  })
  t.same(await mlflowOf(app)!.untracked([job.id]), [job.id])
  await app.jobResults.beforeSucceeded(job)
  const tracked = await mlflowOf(app)!.runOf(job.id)
  t.equal(tracked?.runId, partial.info.run_id, 'the unfinished run was resumed')
  const runs = await runsOf(client, experiment, job.id)
  t.equal(runs.length, 1)
  t.equal(runs[0]!.info.status, 'FINISHED')
  const history = await fetch(
    `${app.config.SPARKGATE_MLFLOW_URL}/api/2.0/mlflow/metrics/get-history?run_id=${partial.info.run_id}&metric_key=accuracy`,
  )
  t.equal(((await history.json()) as { metrics: unknown[] }).metrics.length, 1, 'not logged twice')
  t.same(await mlflowOf(app)!.untracked([job.id]), [])

  // the Redis record lost (say, restored from an older backup): still one run, one version
  await app.redis.del(`${app.config.SPARKGATE_REDIS_PREFIX}:mlflow-job:${job.id}`)
  const again = await mlflowOf(app)!.track({
    tenant,
    jobId: job.id,
    jobName: job.name,
    spec: job.spec.training as TrainingSpec,
  })
  t.same(again, tracked, 'found again by tag and run_id')
  t.equal((await client.searchModelVersions(`run_id = ${quote(partial.info.run_id)}`)).length, 1)
})

t.test('tenants never share an experiment or a registered model', async (t) => {
  const root = await hdfsTestDir(t, hdfs)
  const a = await build(t, { SPARKGATE_HDFS_ROOT: root })
  const b = await build(t, { SPARKGATE_HDFS_ROOT: root })
  const client = clientOf(a)
  const jobA = await succeededJob(a, root, 'shared-name')
  const jobB = await succeededJob(b, root, 'shared-name')
  await a.jobResults.beforeSucceeded(jobA)
  await b.jobResults.beforeSucceeded(jobB)
  const ta = (await mlflowOf(a)!.runOf(jobA.id))!
  const tb = (await mlflowOf(b)!.runOf(jobB.id))!
  t.not(ta.experimentId, tb.experimentId, 'one experiment per tenant')
  t.not(ta.registeredModel, tb.registeredModel, 'one registered model per tenant')
  t.equal(ta.modelVersion, 1)
  t.equal(tb.modelVersion, 1, "B's first version, not A's second")
  t.same(await runsOf(client, tb.experimentId, jobA.id), [], "A's run is not in B's experiment")
  const bVersions = await client.searchModelVersions(`name = ${quote(tb.registeredModel)}`)
  t.same(
    bVersions.map((v) => v.run_id),
    [tb.runId],
    "B's model holds only B's run",
  )
})

t.test('SPARKGATE_MLFLOW_URL=none: the registry only, nothing in MLflow', async (t) => {
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, SPARKGATE_MLFLOW_URL: 'none' })
  t.equal(mlflowOf(app), null)
  const job = await succeededJob(app, root, 'untracked')
  t.equal(await app.jobResults.beforeSucceeded(job), 1, 'registered in the Redis registry')
  const client = new MlflowClient({ url: 'http://127.0.0.1:5005' })
  t.equal(await client.getExperimentByName(tenantOf(app).id), undefined, 'no experiment')
})

t.test(
  'MLflow down: the registry still registers, the step throws a transient fault',
  async (t) => {
    const root = await hdfsTestDir(t, hdfs)
    const app = await build(t, {
      SPARKGATE_HDFS_ROOT: root,
      SPARKGATE_MLFLOW_URL: 'http://127.0.0.1:9',
    })
    const job = await succeededJob(app, root, 'down')
    const error = await app.jobResults.beforeSucceeded(job).catch((e: unknown) => e)
    t.equal((error as { transient?: boolean }).transient, true)
    t.equal(await versionsOf(app).versionOf(job.id), 1, 'the model is registered all the same')
    t.same(await mlflowOf(app)!.untracked([job.id]), [job.id], 'left for the repair pass')
  },
)
