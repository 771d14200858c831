/**
 * Batch scoring end to end over HTTP, against the real Livy + Spark + HDFS + MLflow: train
 * a small classifier with a string label, make its version `champion` in MLflow, score an
 * uploaded dataset by `name@champion` — with the label column, holding a value never seen
 * in training — then read the result, download the scored CSV, and find it registered as
 * a dataset (previewed, then deleted with the output). The training's plots are MLflow
 * artifacts of its run; the scoring's histogram counts every row. The checks that answer 400/404
 * before anything is queued come first.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import type { ScoringSpec } from '../../src/kinds/scoring/spec.js'
import { build, hdfsClient, hdfsTestDir, ON_YARN } from '../helpers/stack.js'
import { getJob, postJob, uploadCsv, waitForState } from '../helpers/jobs.js'
import { checkPlots } from '../helpers/plots.js'

function rows(n: number, seed: number, label: (i: number, yes: boolean) => string) {
  let state = seed
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return Math.round(((state / 2 ** 31) * 4 - 2) * 1e4) / 1e4
  }
  return Array.from({ length: n }, (_, i) => {
    const x1 = next()
    const x2 = next()
    return [x1, x2, ['red', 'green', 'blue'][i % 3]!, label(i, x1 + 2 * x2 > 0)].join(',')
  })
}
const header = 'x1,x2,color,answer'
const training = [header, ...rows(150, 7, (_, yes) => (yes ? 'yes' : 'no'))].join('\n') + '\n'
const SCORED = 40
const scoring =
  [header, ...rows(SCORED, 11, (i, yes) => (i % 4 === 0 ? 'maybe' : yes ? 'yes' : 'no'))].join(
    '\n',
  ) + '\n'

t.test(
  'train through Livy, make it champion, score by the alias, download the output, find it a dataset',
  async (t) => {
    const hdfs = hdfsClient()
    const root = await hdfsTestDir(t, hdfs)
    const app = await build(t, {
      ...ON_YARN,
      SPARKGATE_HDFS_ROOT: root,
      SPARKGATE_TRACKER_INTERVAL_MS: 500,
    })
    const upload = (name: string, body: string) => uploadCsv(app, name, body)
    const train = await upload('answers.csv', training)
    const toScore = await upload('to-score.csv', scoring)
    const narrow = await upload('narrow.csv', 'x1,shade\n1,red\n')
    const resources = { driverMemory: '512m' }
    const trained = await postJob(app, {
      name: 'answers',
      resources,
      training: { dataset: train.id, label: 'answer', algorithm: 'logistic_regression' },
    })
    t.equal(trained.statusCode, 202, trained.body)

    // before the model exists: a 404, nothing queued
    const early = await postJob(app, { scoring: { model: 'answers', dataset: toScore.id } })
    t.equal(early.statusCode, 404, early.body)
    const done = await waitForState(
      (id) => getJob(app, id),
      trained.json<Job>().id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(done.state, 'succeeded', JSON.stringify(done.error))
    // the training became an MLflow run of the tenant's experiment and a model version
    const trainedResult = await app.inject({ method: 'GET', url: `/v1/jobs/${done.id}/result` })
    t.match(trainedResult.json(), {
      modelVersion: 1,
      mlflow: { runId: /^[0-9a-f]{32}$/, registeredModel: /\.answers$/, modelVersion: 1 },
    })
    // its plots are artifacts of that MLflow run, beside its metrics (the same bytes)
    const names = ['calibration', 'confusion-matrix', 'importances', 'pr', 'roc']
    await checkPlots(t, app, done.id, names)
    const { runId } = trainedResult.json<{ mlflow: { runId: string } }>().mlflow
    const mlflow = app.config.SPARKGATE_MLFLOW_URL
    const listed = (await (
      await fetch(`${mlflow}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=plots`)
    ).json()) as { files?: { path: string; file_size: number }[] }
    t.same(
      listed.files?.map((f) => f.path),
      names.map((n) => `plots/${n}.png`),
      'MLflow lists the PNGs as run artifacts',
    )
    const served = await app.inject({ url: `/v1/jobs/${done.id}/result/plots/roc` })
    t.equal(
      listed.files?.find((f) => f.path === 'plots/roc.png')?.file_size,
      served.rawPayload.length,
      "MLflow's roc.png is the job's",
    )

    const refused = [
      [{ model: 'answers/2', dataset: toScore.id }, 404],
      [{ model: 'answers@champion', dataset: toScore.id }, 404], // MLflow: no such alias
      [{ model: 'answers', dataset: narrow.id }, 400], // lacks x2 and color
    ] as const
    for (const [spec, status] of refused) {
      const r = await postJob(app, { scoring: spec })
      t.equal(r.statusCode, status, `${spec.model}: ${r.body}`)
    }
    const narrowed = await postJob(app, { scoring: { model: 'answers', dataset: narrow.id } })
    t.match(narrowed.json(), { detail: /feature column\(s\) x2, color/ })

    // name/version resolves and is pinned at accept time (the job is not needed: cancelled)
    const pinned = await postJob(app, {
      resources,
      scoring: { model: 'answers/1', dataset: toScore.id },
    })
    t.equal(pinned.statusCode, 202, pinned.body)
    t.match((pinned.json<Job>().spec.scoring as ScoringSpec | undefined)?.resolved, {
      name: 'answers',
      version: 1,
      uri: /\/runs\/.+\/model$/,
    })
    const cancel = await app.inject({
      method: 'DELETE',
      url: `/v1/jobs/${pinned.json<Job>().id}`,
    })
    t.ok([200, 202].includes(cancel.statusCode), cancel.body)

    // the trained version becomes champion in MLflow, and is scored by its alias
    const alias = await app.inject({
      method: 'PUT',
      url: '/v1/models/answers/aliases/champion',
      payload: { version: 1 },
    })
    t.equal(alias.statusCode, 200, alias.body)
    const r = await postJob(app, {
      resources,
      scoring: { model: 'answers@champion', dataset: toScore.id, output: { format: 'csv' } },
    })
    t.equal(r.statusCode, 202, r.body)
    const job = r.json<Job>()
    t.match((job.spec.scoring as ScoringSpec | undefined)?.resolved, {
      name: 'answers',
      version: 1,
      alias: 'champion',
    })
    const scored = await waitForState(
      (id) => getJob(app, id),
      job.id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(scored.state, 'succeeded', JSON.stringify(scored.error))

    const result = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })
    t.equal(result.statusCode, 200, result.body)
    t.match(result.json(), {
      rows: { scored: SCORED, withoutPrediction: 0 },
      model: { name: 'answers', version: 1, alias: 'champion' },
      format: 'csv',
      columns: ['x1', 'x2', 'color', 'answer', 'prediction', 'probability'],
      dataset: { id: /^[0-9a-f]{64}$/, name: `answers-v1-scored-${job.id}.csv` },
    })
    // the scoring's plot: its predicted probabilities, every row counted once
    await checkPlots(t, app, job.id, ['score-histogram'])
    const distribution = result.json<{ distribution: { kind: string; counts: number[] } }>()
      .distribution
    t.equal(distribution.kind, 'histogram')
    t.equal(
      distribution.counts.reduce((a, b) => a + b, 0),
      SCORED,
      'the histogram counts every scored row',
    )
    const output = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/output` })
    t.equal(output.statusCode, 200)
    t.match(output.headers['content-type'], /^text\/csv/)
    const lines = output.body.trim().split('\n')
    t.equal(lines.length, SCORED + 1, 'a header and every row')
    t.equal(lines[0], 'x1,x2,color,answer,prediction,probability')
    t.ok(
      lines.slice(1).every((l) => /,(yes|no),"\[[0-9.eE-]+,[0-9.eE-]+\]"$/.test(l)),
      'every row: a class and its probabilities',
    )
    const notScoring = await app.inject({ method: 'GET', url: `/v1/jobs/${done.id}/output` })
    t.equal(notScoring.statusCode, 409, 'a training job has no output to download')

    // the output is a dataset of the tenant, where it lies: the same bytes, its columns sniffed
    const { id } = result.json<{ dataset: { id: string } }>().dataset
    const dataset = await app.inject({ method: 'GET', url: `/v1/datasets/${id}` })
    t.equal(dataset.statusCode, 200, dataset.body)
    t.match(dataset.json(), {
      id,
      sha256: createHash('sha256').update(output.rawPayload).digest('hex'),
      size: output.rawPayload.length,
      format: 'csv',
      path: new RegExp(`/runs/${job.id}/scored/part-`),
      source: { jobId: job.id, model: 'answers/1' },
    })
    t.same(
      dataset.json<{ columns: { name: string }[] }>().columns.map((c) => c.name),
      ['x1', 'x2', 'color', 'answer', 'prediction', 'probability'],
    )
    const preview = await app.inject({ method: 'GET', url: `/v1/datasets/${id}/preview?rows=3` })
    t.equal(preview.statusCode, 200, preview.body)
    t.same(preview.json<{ lines: string[] }>().lines, lines.slice(0, 4))
    // deleting the dataset deletes the job's output, and both say so
    const removed = await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })
    t.equal(removed.statusCode, 204, removed.body)
    const gone = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/output` })
    t.equal(gone.statusCode, 409)
    t.match(gone.json(), { detail: new RegExp(`registered as dataset ${id}, which was deleted`) })
    const after = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })
    t.match(after.json(), { dataset: null, datasetNote: /since deleted/ })
  },
)
