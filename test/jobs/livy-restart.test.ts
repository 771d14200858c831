/**
 * Livy restarted without recovery (issue 14, window 6): it numbers its batches from 0
 * again, so an old job's batch id names a new job's batch. Status, cancel and logs match
 * by id AND name: the old job never takes the new one's state, its cancel never kills the
 * new batch, its logs never show the new job's output. And a training job whose batch
 * Livy forgot after it succeeded is read from what it wrote (metrics.json): succeeded,
 * not BACKEND_LOST. Two private real Livy servers on one port, one after the other.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { LivyClient } from '../../src/backends/livy/livy-client.js'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, testConfig } from '../helpers/stack.js'
import {
  createJob,
  freePort,
  getJob,
  killGroup,
  stage,
  startLivy,
  waitForState,
  untilLivyDown,
} from '../helpers/jobs.js'

const sleep = fileURLToPath(new URL('../fixtures/spark/sleep.py', import.meta.url))
const CHURN = fileURLToPath(new URL('../../jobs/examples/data/churn.csv', import.meta.url))

t.test('after a Livy restart, reused batch ids never mix two jobs up', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, sleep, `${dir}/sleep.py`)
  const port = await freePort()
  const livy = new LivyClient({ url: `http://127.0.0.1:${port}` })
  const first = await startLivy(t, port)
  const settings = {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_LIVY_URL: `http://127.0.0.1:${port}`,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
  }
  // no tracker until the old jobs have been looked at: one ticking meanwhile would find
  // their batches gone and end them (BACKEND_LOST) before the cancel below
  const app = await build(t, { ...settings, SPARKGATE_ROLES: 'api,worker' })
  const get = (id: string) => getJob(app, id)
  const old = [
    await createJob(app, { name: 'old-1', batch: { file, args: ['600'] } }),
    await createJob(app, { name: 'old-2', batch: { file, args: ['600'] } }),
  ]
  const before: Job[] = []
  for (const j of old) before.push(await waitForState(get, j.id, ['submitted', 'running']))
  t.same(before.map((j) => j.backendRef?.batchId).sort(), ['0', '1'], 'batches 0 and 1')

  // Livy dies with its batches and comes back empty: its ids start at 0 again
  killGroup(first, 'SIGKILL')
  await untilLivyDown(port)
  await startLivy(t, port)
  const fresh = [
    await createJob(app, { name: 'new-1', batch: { file, args: ['600'] } }),
    await createJob(app, { name: 'new-2', batch: { file, args: ['600'] } }),
  ]
  const after: Job[] = []
  for (const j of fresh) after.push(await waitForState(get, j.id, ['submitted', 'running']))
  t.same(after.map((j) => j.backendRef?.batchId).sort(), ['0', '1'], 'the same ids again')

  // an old job's logs: not the new batch's (what was kept, or nothing)
  const oldByBatch = (id: string) => before.find((j) => j.backendRef?.batchId === id)!
  const newByBatch = (id: string) => after.find((j) => j.backendRef?.batchId === id)!
  const logs = await app.inject(`/v1/jobs/${oldByBatch('1').id}/logs`)
  t.equal(logs.statusCode, 200)
  t.equal(logs.json().source, 'stored', 'not read from the batch that now has its id')

  // cancelling an old job kills nothing of the new one's
  const cancel = await app.inject({ method: 'DELETE', url: `/v1/jobs/${oldByBatch('1').id}` })
  t.equal(cancel.json().state, 'cancelled', cancel.body)
  const stillThere = await livy.get(1)
  t.equal(stillThere.name, newByBatch('1').id)
  t.notOk(
    ['killed', 'dead'].includes(stillThere.state),
    `new-2's batch lives (${stillThere.state})`,
  )

  // the other old job is lost (its batch is gone), not given the new batch's state
  await build(t, { ...settings, SPARKGATE_ROLES: 'tracker' }, { tenant: false })
  const lost = await waitForState(get, oldByBatch('0').id, ['failed', 'succeeded', 'cancelled'])
  t.equal(lost.state, 'failed')
  t.equal(lost.error?.code, 'BACKEND_LOST')
  for (const j of after) {
    const now = await get(j.id)
    t.ok(['submitted', 'running'].includes(now.state), `${now.name} runs on (${now.state})`)
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${j.id}` })
  }
})

t.test('a training job Livy forgot after it succeeded ends succeeded', async (t) => {
  const config = testConfig()
  const port = await freePort()
  const first = await startLivy(t, port)
  const settings = {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_LIVY_URL: `http://127.0.0.1:${port}`,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
  }
  // no tracker: nobody sees the batch end
  const app = await build(t, { ...settings, SPARKGATE_ROLES: 'api,worker' })
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=churn.csv',
    headers: { 'content-type': 'text/csv' },
    payload: readFileSync(CHURN),
  })
  const dataset = upload.json().id
  const job = await createJob(app, {
    name: 'forgotten',
    resources: { driverMemory: '512m' },
    training: {
      dataset,
      label: 'churned',
      features: ['tenure_months', 'monthly_charges', 'support_calls'],
      algorithm: 'logistic_regression',
    },
  })
  const submitted = await waitForState((id) => getJob(app, id), job.id, ['submitted'])
  const livy = new LivyClient({ url: `http://127.0.0.1:${port}` })
  const batchId = Number(submitted.backendRef!.batchId)
  for (let i = 0; ; i++) {
    const state = (await livy.get(batchId)).state
    if (state === 'success') break
    if (['dead', 'killed', 'error'].includes(state) || i > 600)
      throw new Error(`the training batch ended ${state}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  // Livy restarts empty: the batch is forgotten before any tracker saw it end
  killGroup(first, 'SIGKILL')
  await untilLivyDown(port)
  await startLivy(t, port)

  await build(t, { ...settings, SPARKGATE_ROLES: 'api,tracker' }, { tenant: false })
  const done = await waitForState((id) => getJob(app, id), job.id, ['succeeded', 'failed'])
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  const result = await app.inject(`/v1/jobs/${job.id}/result`)
  t.equal(result.statusCode, 200)
  t.equal(result.json().modelVersion, 1, 'its model registered')
})
