/**
 * Every non-terminal state has an owner and a deadline (issue 14, window 8), on the real
 * stack: a job stuck in staging or submitting fails with SUBMIT_TIMEOUT and frees its
 * slot — unless a batch under its name exists, which is adopted; a training job that can
 * never be submitted fails at once (NOT_STAGED) instead of being retried forever; the
 * jobs of a backend that no running gateway has any more fail with BACKEND_REMOVED.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { JobRecord } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, livyClient, testConfig } from '../helpers/stack.js'
import { createJob, getJob, stage, waitForState } from '../helpers/jobs.js'

const sleep = fileURLToPath(new URL('../fixtures/spark/sleep.py', import.meta.url))
const settings = {
  SPARKGATE_SUBMIT_DEADLINE: '2s',
  SPARKGATE_TRACKER_INTERVAL_MS: 300,
}

/** What a worker that died (or keeps failing) leaves: the job in `state`, attempt 1. */
async function stuckIn(app: App, job: JobRecord, state: 'staging' | 'submitting') {
  await app.jobStore.transition(job, ['queued'], 'staging', { reason: 'test' })
  if (state === 'submitting')
    await app.jobStore.transition(job, ['staging'], 'submitting', {
      reason: 'test',
      set: { attempts: 1 },
    })
}

t.test('stuck in staging or submitting: SUBMIT_TIMEOUT, and the slot is free', async (t) => {
  const app = await build(t, { ...settings, SPARKGATE_ROLES: 'api,tracker' })
  const batch = { file: 'hdfs://127.0.0.1:8020/sparkgate-test/none.py' }
  const staging = await createJob(app, { name: 'stuck-staging', batch })
  const submitting = await createJob(app, { name: 'stuck-submitting', batch })
  await stuckIn(app, staging, 'staging')
  await stuckIn(app, submitting, 'submitting')
  t.same((await app.jobStore.liveIds('livy')).sort(), [staging.id, submitting.id].sort())
  for (const job of [staging, submitting]) {
    const done = await waitForState((id) => getJob(app, id), job.id, ['failed'], 30_000)
    t.equal(done.error?.code, 'SUBMIT_TIMEOUT', `${job.name}: ${done.error?.message}`)
  }
  t.same(await app.jobStore.liveIds('livy'), [], 'their live slots are given back')
})

t.test('at the submit deadline, a batch under the job’s name is adopted', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, sleep, `${dir}/sleep.py`)
  const app = await build(t, {
    ...settings,
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_ROLES: 'api,tracker',
  })
  const job = await createJob(app, { name: 'found', batch: { file, args: ['600'] } })
  await stuckIn(app, job, 'submitting')
  const livy = livyClient(config)
  const batch = await livy.submit({ file, name: job.id, args: ['600'] })
  t.teardown(() => livy.kill(batch.id).catch(() => undefined))
  const adopted = await waitForState(
    (id) => getJob(app, id),
    job.id,
    ['submitted', 'running', 'failed'],
    30_000,
  )
  t.not(adopted.state, 'failed', JSON.stringify(adopted.error))
  t.equal(adopted.backendRef?.batchId, String(batch.id), 'the batch Livy has is the job’s')
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
})

t.test('a training job with nothing staged fails NOT_STAGED, not retried forever', async (t) => {
  const config = testConfig()
  const app = await build(t, {
    ...settings,
    SPARKGATE_SUBMIT_DEADLINE: '1h',
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_ROLES: 'api',
  })
  const job = await createJob(app, {
    name: 'unstaged',
    training: {
      dataset: { uri: 'hdfs://127.0.0.1:8020/sparkgate-test/none.csv', format: 'csv' },
      label: 'y',
      algorithm: 'logistic_regression',
    },
  })
  // a worker died after `submitting` was written without the staged files (an old record)
  await stuckIn(app, job, 'submitting')
  await build(
    t,
    {
      ...settings,
      SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
      SPARKGATE_ROLES: 'worker',
    },
    { tenant: false },
  )
  const done = await waitForState((id) => getJob(app, id), job.id, ['failed'], 30_000)
  t.equal(done.error?.code, 'NOT_STAGED', JSON.stringify(done.error))
  t.same(await app.jobStore.liveIds('livy'), [], 'no slot held')
})

t.test('a backend no gateway has any more: its jobs fail BACKEND_REMOVED', async (t) => {
  const config = testConfig()
  const backends = JSON.stringify([
    { name: 'livy', kind: 'livy', url: config.SPARKGATE_LIVY_URL },
    { name: 'old-livy', kind: 'livy', url: 'http://127.0.0.1:1' },
  ])
  const before = await build(t, {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_BACKENDS: backends,
    SPARKGATE_ROLES: 'api',
  })
  const batch = { file: 'hdfs://127.0.0.1:8020/sparkgate-test/none.py' }
  const queued = await createJob(before, { name: 'on-old', backend: 'old-livy', batch })
  // a tracker last had `old-livy` long ago; today's gateways are configured without it
  await before.redis.hset(`${config.SPARKGATE_REDIS_PREFIX}:backends:seen`, 'old-livy', '1')
  await build(
    t,
    {
      ...settings,
      SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
      SPARKGATE_ROLES: 'tracker',
    },
    { tenant: false },
  )
  const done = await waitForState((id) => getJob(before, id), queued.id, ['failed'], 30_000)
  t.equal(done.error?.code, 'BACKEND_REMOVED', JSON.stringify(done.error))
})
