/**
 * A cancel that lands after the application succeeded but before any tracker saw it (the
 * window the fault suite found): the cancel reads the batch first, answers 409 and kills
 * nothing, and the job ends succeeded once a tracker looks — its end is not turned into
 * `cancelled`. The stack's real Livy; the app has no tracker until the cancel was answered.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, livyClient, testConfig } from '../helpers/stack.js'
import { createJob, getJob, stage, waitForState } from '../helpers/jobs.js'

const sleep = fileURLToPath(new URL('../fixtures/spark/sleep.py', import.meta.url))

t.test('a cancel after an unseen success is refused, and the job ends succeeded', async (t) => {
  const config = testConfig({ SPARKGATE_TRACKER_INTERVAL_MS: 500 })
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, sleep, `${dir}/sleep.py`)
  const settings = {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
  }
  // no tracker: nobody sees the batch end
  const app = await build(t, { ...settings, SPARKGATE_ROLES: 'api,worker' })
  const get = (id: string) => getJob(app, id)
  const job = await createJob(app, { name: 'quick', batch: { file, args: ['1'] } })
  const submitted = await waitForState(get, job.id, ['submitted'])
  const livy = livyClient(config)
  const batchId = Number(submitted.backendRef!.batchId)
  let state = ''
  for (let i = 0; i < 600; i++) {
    state = (await livy.get(batchId)).state
    if (!['not_started', 'starting', 'running', 'busy', 'idle'].includes(state)) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  t.equal(state, 'success', 'the application succeeded')

  const cancel = await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  t.equal(cancel.statusCode, 409, cancel.body)
  t.match(cancel.json(), {
    code: 'SPARKGATE_JOB_TERMINAL',
    state: 'succeeded',
    detail: /application already succeeded \(livy state success\)/,
  })
  const after = await get(job.id)
  t.equal(after.state, 'submitted', 'the record waits for a tracker')
  t.notOk(after.cancelRequested, 'no cancel flag')
  t.equal((await livy.get(batchId)).state, 'success', 'nothing killed')

  await build(t, { ...settings, SPARKGATE_ROLES: 'tracker' }, { tenant: false })
  const done = await waitForState(get, job.id, ['succeeded', 'failed', 'cancelled'])
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  const again = await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  t.equal(again.statusCode, 409)
  t.match(again.json<Job & { detail: string }>(), { detail: /is already succeeded/ })
})
