/**
 * Batch scoring end to end over HTTP, against the real Livy + Spark + HDFS: train a small
 * classifier with a string label, score an uploaded dataset by `name/version` — with the
 * label column, holding a value never seen in training — then read the result and download
 * the scored CSV. The checks that answer 400/404 before anything is queued come first.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir } from '../helpers/stack.js'
import { getJob, postJob, uploadCsv, waitForState } from '../helpers/jobs.js'

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

t.test('train through Livy, then score by name/version and download the output', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, SPARKGATE_TRACKER_INTERVAL_MS: 500 })
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

  const r = await postJob(app, {
    resources,
    scoring: { model: 'answers/1', dataset: toScore.id, output: { format: 'csv' } },
  })
  t.equal(r.statusCode, 202, r.body)
  const job = r.json<Job>()
  t.match(job.spec.scoring?.resolved, { name: 'answers', version: 1, uri: /\/runs\/.+\/model$/ })
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
    model: { name: 'answers', version: 1 },
    format: 'csv',
    columns: ['x1', 'x2', 'color', 'answer', 'prediction', 'probability'],
  })
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
})
