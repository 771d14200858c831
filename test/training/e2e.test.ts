/**
 * Declarative training end to end over HTTP, against the real Livy + Spark + HDFS: upload
 * a CSV, train a binary classifier, a multi-class classifier, a regressor and a clusterer;
 * each result's metrics are sane for its data and the model directory exists on HDFS; the
 * registry numbers versions per name; each run's plots are listed and served as real PNGs,
 * with the numbers behind them checked (ROC area, confusion matrix sums). Then the spec checks that answer 400 before
 * anything is queued.
 */
import t from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, livyClient, tenantOf, ON_YARN } from '../helpers/stack.js'
import { getJob, postJob, uploadCsv, waitForState } from '../helpers/jobs.js'
import { checkPlots } from '../helpers/plots.js'

/** What the plots are drawn from, in a training's result. */
interface TrainedPlots {
  rows: { test: number }
  curves: { roc: { fpr: number; tpr: number }[] }
  confusionMatrix: { matrix: number[][] }
  rocByClass: { label: string }[]
  predictedVsActual: { sampled: number }
}

/** A small deterministic generator (LCG + Box–Muller): the same data on every run. */
function gaussian(seed: number) {
  let state = seed >>> 0
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return (state + 0.5) / 2 ** 32
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

function csv(header: string[], rows: (string | number)[][]) {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n'
}

const g = gaussian(7)
const r4 = (x: number) => Math.round(x * 1e4) / 1e4
const binary = csv(
  ['x1', 'x2', 'color', 'label'],
  Array.from({ length: 400 }, (_, i) => {
    const x1 = g()
    const x2 = g()
    return [r4(x1), r4(x2), ['red', 'green', 'blue'][i % 3]!, x1 + 2 * x2 > 0 ? 1 : 0]
  }),
)
const centers: Record<string, [number, number]> = { a: [0, 0], b: [6, 6], c: [-6, 6] }
const blobs = Array.from({ length: 300 }, (_, i) => {
  const kind = 'abc'[i % 3]!
  const [cx, cy] = centers[kind]!
  return [r4(cx + g()), r4(cy + g()), kind]
})
const multi = csv(['x', 'y', 'kind'], blobs)
const points = csv(
  ['x', 'y'],
  blobs.map((b) => b.slice(0, 2)),
)
const linear = csv(
  ['x1', 'x2', 'y'],
  Array.from({ length: 300 }, () => {
    const x1 = g() * 3
    const x2 = g() * 3
    return [r4(x1), r4(x2), r4(3 * x1 - 2 * x2 + 1 + g() * 0.3)]
  }),
)

t.test('train four models through Livy and read their results', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, {
    ...ON_YARN,
    SPARKGATE_HDFS_ROOT: root,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
    SPARKGATE_LIVY_MAX_LIVE: 2,
  })
  const tenant = tenantOf(app).id
  const livy = livyClient(app.config)
  const upload = (name: string, body: string) => uploadCsv(app, name, body)
  const [b, m, l, p] = [
    await upload('binary.csv', binary),
    await upload('blobs.csv', multi),
    await upload('linear.csv', linear),
    await upload('points.csv', points),
  ]
  const resources = { driverMemory: '512m' }
  const specs = {
    binary: {
      name: 'churn',
      resources,
      training: { dataset: b.id, label: 'label', algorithm: 'logistic_regression' },
    },
    multi: {
      name: 'kinds',
      resources,
      training: {
        dataset: m.id,
        label: 'kind',
        algorithm: 'random_forest_classifier',
        params: { numTrees: 10, seed: 1 },
      },
    },
    regression: {
      name: 'price',
      resources,
      training: { dataset: l.id, label: 'y', algorithm: 'linear_regression' },
    },
    clusters: {
      name: 'groups',
      resources,
      training: { dataset: p.id, algorithm: 'kmeans', params: { k: 3, seed: 1 } },
    },
  }
  const jobs: Record<string, Job> = {}
  for (const [key, spec] of Object.entries(specs)) {
    const r = await postJob(app, spec)
    t.equal(r.statusCode, 202, r.body)
    jobs[key] = r.json<Job>()
  }
  // data named by URI is not column-checked up front: train.py finds the bad label and
  // says so in one line, which becomes the job's error
  const wrong = await postJob(app, {
    name: 'wrong-label',
    resources,
    training: {
      dataset: { uri: b.uri, format: 'csv' },
      label: 'target',
      algorithm: 'logistic_regression',
    },
  })
  t.equal(wrong.statusCode, 202, wrong.body)
  const early = await app.inject({ method: 'GET', url: `/v1/jobs/${jobs['binary']!.id}/result` })
  t.equal(early.statusCode, 409, 'no result before the job succeeded')

  const results: Record<string, { metrics: Record<string, number>; modelUri: string }> = {}
  for (const [key, job] of Object.entries(jobs)) {
    const done = await waitForState(
      (id) => getJob(app, id),
      job.id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(done.state, 'succeeded', `${key}: ${JSON.stringify(done.error)}`)
    const r = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })
    t.equal(r.statusCode, 200, r.body)
    results[key] = r.json()
    const modelPath = new URL(results[key].modelUri).pathname
    t.equal((await hdfs.getFileStatus(modelPath)).type, 'DIRECTORY', `${key}: model on HDFS`)
    t.ok(await hdfs.stat(`${modelPath}/metadata`), `${key}: a saved PipelineModel`)
    // Spark ran as the tenant: Livy's proxyUser, and the owner of what the job wrote
    const batch = await livy.get(Number(done.backendRef!.batchId))
    t.equal(batch.proxyUser, tenant, `${key}: Livy ran the batch as ${tenant}`)
    t.equal(
      (await hdfs.getFileStatus(modelPath)).owner,
      tenant,
      `${key}: its files are ${tenant}'s`,
    )
  }
  t.equal((await hdfs.getFileStatus(b.path)).owner, tenant, 'the upload was staged as the tenant')
  const failed = await waitForState(
    (id) => getJob(app, id),
    wrong.json<Job>().id,
    ['succeeded', 'failed'],
    600_000,
  )
  t.equal(failed.state, 'failed')
  t.equal(failed.error?.code, 'SPARK_JOB_ERROR')
  t.equal(
    failed.error?.message,
    "label column 'target' not found; columns: x1, x2, color, label",
    "the job's own one-line explanation",
  )
  const bm = results['binary']!.metrics
  t.ok(bm['areaUnderROC']! > 0.9, `binary AUC ${bm['areaUnderROC']}`)
  t.ok(bm['accuracy']! > 0.85, `binary accuracy ${bm['accuracy']}`)
  t.ok(results['multi']!.metrics['accuracy']! > 0.95, 'multi-class accuracy')
  t.notOk('areaUnderROC' in results['multi']!.metrics, 'no AUC for three classes')
  t.ok(results['regression']!.metrics['r2']! > 0.95, 'regression r2')
  t.ok(results['clusters']!.metrics['silhouette']! > 0.6, 'silhouette')
  const multiResult = results['multi'] as unknown as { confusionMatrix: { labels: string[] } }
  t.same([...multiResult.confusionMatrix.labels].sort(), ['a', 'b', 'c'])

  // the plots of each run (issue 29): listed, served as real PNGs, the numbers behind them right
  const plotsOf: Record<string, string[]> = {
    binary: ['calibration', 'confusion-matrix', 'importances', 'pr', 'roc'],
    multi: ['confusion-matrix', 'confusion-matrix-normalized', 'importances', 'roc-per-class'],
    regression: ['importances', 'predicted-vs-actual', 'residuals'],
    clusters: [],
  }
  for (const [key, names] of Object.entries(plotsOf)) {
    const listed = await checkPlots(t, app, jobs[key]!.id, names)
    t.same(
      listed,
      (results[key] as unknown as { plots: unknown[] }).plots.map((p) => ({
        ...(p as object),
        contentType: 'image/png',
        href: `/v1/jobs/${jobs[key]!.id}/result/plots/${(p as { name: string }).name}`,
      })),
      `${key}: the list is the result's plots`,
    )
  }
  const binaryResult = results['binary'] as unknown as TrainedPlots
  const roc = binaryResult.curves.roc
  const area = roc
    .slice(1)
    .reduce((a, p, i) => a + ((p.fpr - roc[i]!.fpr) * (p.tpr + roc[i]!.tpr)) / 2, 0)
  t.ok(Math.abs(area - bm['areaUnderROC']!) < 1e-6, `ROC area ${area} = areaUnderROC`)
  for (const key of ['binary', 'multi']) {
    const r = results[key] as unknown as TrainedPlots
    const total = r.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0)
    t.equal(total, r.rows.test, `${key}: the confusion matrix sums to the test rows`)
  }
  const multiPlots = results['multi'] as unknown as TrainedPlots
  t.same(multiPlots.rocByClass.map((c) => c.label).sort(), ['a', 'b', 'c'], 'ROC per class')
  const sample = (results['regression'] as unknown as TrainedPlots).predictedVsActual
  t.equal(sample.sampled, (results['regression'] as unknown as TrainedPlots).rows.test)
  const missing = await app.inject({ url: `/v1/jobs/${jobs['binary']!.id}/result/plots/residuals` })
  t.equal(missing.statusCode, 404, 'a plot the run did not draw')
  t.match(missing.json(), { code: 'SPARKGATE_PLOT_NOT_FOUND', detail: /its plots: calibration, / })
  const notYet = await app.inject({ url: `/v1/jobs/${failed.id}/result/plots` })
  t.equal(notYet.statusCode, 409, 'a failed job has no plots')

  // a second run of the same model name: version 2, side by side with version 1
  const again = await postJob(app, {
    ...specs.binary,
    training: { ...specs.binary.training, params: { regParam: 0.1 } },
  })
  const second = await waitForState(
    (id) => getJob(app, id),
    again.json<Job>().id,
    ['succeeded', 'failed'],
    600_000,
  )
  t.equal(second.state, 'succeeded')
  const model = (await app.inject({ method: 'GET', url: '/v1/models/churn' })).json()
  t.same(
    model.versions.map((v: { version: number; jobId: string }) => [v.version, v.jobId]),
    [
      [1, jobs['binary']!.id],
      [2, second.id],
    ],
  )
  t.same(model.versions[1].params, { regParam: 0.1 })
  t.equal(model.versions[0].datasetId, b.id)
  t.ok(model.versions[0].metrics.areaUnderROC > 0.9)
  const list = (await app.inject({ method: 'GET', url: '/v1/models' })).json()
  t.same(
    list.items.map((i: { name: string; versions: number }) => [i.name, i.versions]),
    [
      ['churn', 2],
      ['groups', 1],
      ['kinds', 1],
      ['price', 1],
    ],
  )
  // each registered version is an event of the tenant's log too
  const registered = (
    await app.inject({
      url: '/v1/events?type=dev.sparkgate.model.version.registered&subject=churn',
    })
  ).json<{ items: { subject: string; data: { version: number; jobId: string } }[] }>()
  t.same(
    registered.items.map((e) => [e.subject, e.data.version, e.data.jobId]),
    [
      ['churn', 1, jobs['binary']!.id],
      ['churn', 2, second.id],
    ],
  )
})

t.test('training specs are checked before anything is queued', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { ...ON_YARN, SPARKGATE_HDFS_ROOT: root, SPARKGATE_ROLES: 'api' })
  const ds = (
    await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=binary.csv',
      headers: { 'content-type': 'text/csv' },
      payload: binary,
    })
  ).json<Dataset>()
  const cases: [unknown, string, RegExp][] = [
    [
      { dataset: ds.id, label: 'label', algorithm: 'logistic_regression', params: { depth: 3 } },
      'body.training.params.depth',
      /not a param of logistic_regression; allowed: maxIter, regParam/,
    ],
    [
      { dataset: ds.id, label: 'label', algorithm: 'kmeans', params: { k: 1 } },
      'body.training.params.k',
      /must be ≥ 2/,
    ],
    [
      { dataset: ds.id, label: 'target', algorithm: 'logistic_regression' },
      'body.training.label',
      /names no column of dataset binary\.csv: x1, x2, color, label/,
    ],
    [
      { dataset: ds.id, label: 'label', features: ['x1', 'nope'], algorithm: 'naive_bayes' },
      'body.training.features.1',
      /\(nope\) names no column/,
    ],
    [
      { dataset: ds.id, algorithm: 'linear_regression' },
      'body.training.label',
      /is required for regression/,
    ],
    [
      { dataset: ds.id, label: 'label', algorithm: 'linear_svc', task: 'regression' },
      'body.training.task',
      /linear_svc does classification/,
    ],
    [
      { dataset: ds.id, label: 'label', algorithm: 'linear_regression', classWeights: 'balanced' },
      'body.training.classWeights',
      /applies to classification, not regression/,
    ],
    [
      { dataset: ds.id, label: 'label', algorithm: 'kmeans', missing: { strategy: 'zero' } },
      'body.training.missing.strategy',
      /must be equal to one of the allowed values/,
    ],
    [
      { dataset: '0'.repeat(64), label: 'label', algorithm: 'linear_svc' },
      'body.training.dataset',
      /does not exist/,
    ],
  ]
  for (const [training, field, detail] of cases) {
    const r = await postJob(app, { training })
    t.equal(r.statusCode, 400, field)
    t.equal(r.json().code, 'SPARKGATE_VALIDATION')
    t.ok(
      r.json().errors.some((e: { field: string }) => e.field === field),
      `${field} named: ${JSON.stringify(r.json().errors)}`,
    )
    t.match(r.json().detail, detail)
  }
  const unknownAlgorithm = await postJob(app, {
    training: { dataset: ds.id, label: 'label', algorithm: 'xgboost' },
  })
  t.equal(unknownAlgorithm.statusCode, 400)
  t.equal(unknownAlgorithm.json().errors[0].field, 'body.training.algorithm')
  const both = await postJob(app, {
    batch: { file: 'hdfs://127.0.0.1:8020/app.py' },
    training: { dataset: ds.id, label: 'label', algorithm: 'linear_svc' },
  })
  t.equal(both.statusCode, 400)
  t.equal(both.json().errors[0].rule, 'oneOf')
  const neither = await postJob(app, { name: 'empty' })
  t.equal(neither.statusCode, 400)
  const listed = (await app.inject({ method: 'GET', url: '/v1/jobs' })).json()
  t.same(listed.items, [], 'nothing was queued')

  const batchJob = await postJob(app, { batch: { file: 'hdfs://127.0.0.1:8020/app.py' } })
  const notTraining = await app.inject({
    method: 'GET',
    url: `/v1/jobs/${batchJob.json<Job>().id}/result`,
  })
  t.equal(notTraining.statusCode, 409)
  t.equal(notTraining.json().code, 'SPARKGATE_NOT_TRAINING')
})
