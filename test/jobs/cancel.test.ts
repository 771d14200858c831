/**
 * Cancels and kills that survive faults (issue 14, windows 3–5), on the stack's real Livy:
 * - a cancel that arrives while a crashed worker's batch is unrecorded: the batch is
 *   adopted and killed, the job ends cancelled — never `cancelled` with its batch running;
 * - a kill that fails once: the client hears 503, the intent stays, the tracker kills and
 *   ends the job cancelled;
 * - a kill done but not recorded (a crash in between), for a cancel and for a timeout:
 *   the job ends as intended — never BACKEND_LOST, never a second attempt.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { Job } from '../../src/domain/job-schema.js'
import { BackendError } from '../../src/domain/ports/spark-backend.js'
import { build, hdfsClient, hdfsTestDir, livyClient, testConfig } from '../helpers/stack.js'
import { createJob, getJob, stage, waitForState } from '../helpers/jobs.js'

const sleep = fileURLToPath(new URL('../fixtures/spark/sleep.py', import.meta.url))

async function setup(t: Parameters<typeof build>[0], roles = 'api,worker,tracker') {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, sleep, `${dir}/sleep.py`)
  const app = await build(t, {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
    SPARKGATE_ROLES: roles,
  })
  return { app, file, livy: livyClient(config), get: (id: string) => getJob(app, id) }
}

/** The Livy batches named after a job (any attempt), as Livy sees them now. */
async function batchesOf(livy: ReturnType<typeof livyClient>, id: string) {
  return (await livy.list(0, 1000)).sessions.filter(
    (b) => b.name === id || b.name?.startsWith(`${id}.`),
  )
}

const LIVE = ['starting', 'not_started', 'running', 'busy', 'idle', 'recovering']

t.test('a cancel during crash recovery kills the adopted batch', async (t) => {
  const { app, file, livy, get } = await setup(t, 'api')
  const job = await createJob(app, { name: 'adopt-then-cancel', batch: { file, args: ['600'] } })
  // what a worker that died right after Livy's accept leaves: `submitting`, attempt 1,
  // a Livy batch under the job's name, no batch id recorded
  await app.jobStore.transition(job, ['queued'], 'staging', { reason: 'test' })
  await app.jobStore.transition(job, ['staging'], 'submitting', {
    reason: 'test',
    set: { attempts: 1 },
  })
  const orphan = await livy.submit({ file, name: job.id, args: ['600'] })
  t.teardown(() => livy.kill(orphan.id).catch(() => undefined))
  // the client cancels meanwhile: the job is flagged (no batch known to cancel)
  const cancel = await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  t.equal(cancel.json().state, 'submitting')
  t.equal(cancel.json().cancelRequested, true)

  // a new worker takes the submission over
  const worker = await build(
    t,
    {
      SPARKGATE_REDIS_PREFIX: app.config.SPARKGATE_REDIS_PREFIX,
      SPARKGATE_ROLES: 'worker,tracker',
      SPARKGATE_TRACKER_INTERVAL_MS: 500,
    },
    { tenant: false },
  )
  void worker
  const done = await waitForState(get, job.id, ['cancelled', 'failed', 'succeeded'], 120_000)
  t.equal(done.state, 'cancelled')
  t.equal(done.backendRef?.batchId, String(orphan.id), 'the batch was adopted first')
  const [batch] = await batchesOf(livy, job.id)
  t.notOk(batch && LIVE.includes(batch.state), `and killed (${batch?.state ?? 'gone'})`)
  t.equal((await batchesOf(livy, job.id)).length <= 1, true, 'never a second batch')
})

t.test('a kill that fails once: 503, then the tracker kills and cancels', async (t) => {
  const { app, file, livy, get } = await setup(t)
  const job = await createJob(app, { name: 'kill-fails', batch: { file, args: ['600'] } })
  await waitForState(get, job.id, ['running'], 180_000)
  const backend = app.backends.byName.get('livy')!.backend
  const cancel = backend.cancel.bind(backend)
  backend.cancel = async () => {
    backend.cancel = cancel
    throw new BackendError('transient', 'Livy unreachable (kill batch): ECONNRESET')
  }
  const r = await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  t.equal(r.statusCode, 503, 'the client hears the backend is unavailable')
  const flagged = await get(job.id)
  t.equal(flagged.state, 'running')
  t.equal(flagged.cancelRequested, true, 'the intent is recorded')
  const done = await waitForState(get, job.id, ['cancelled', 'failed', 'succeeded'], 60_000)
  t.equal(done.state, 'cancelled', 'the tracker finished the cancel')
  const [batch] = await batchesOf(livy, job.id)
  t.notOk(batch && LIVE.includes(batch.state), `the batch is dead (${batch?.state ?? 'gone'})`)
})

/** A running job whose batch was killed by a process that died before recording why. */
async function killedUnrecorded(app: App, livy: ReturnType<typeof livyClient>, job: Job) {
  await livy.kill(Number(job.backendRef!.batchId))
}

t.test('killed for a cancel, then a crash before the record: cancelled', async (t) => {
  const { app, file, livy, get } = await setup(t)
  const job = await createJob(app, {
    name: 'cancel-crash',
    maxAttempts: 2,
    batch: { file, args: ['600'] },
  })
  const running = await waitForState(get, job.id, ['running'], 180_000)
  await app.jobStore.update(job.id, { cancelRequested: true })
  await killedUnrecorded(app, livy, running)
  const done = await waitForState(get, job.id, ['cancelled', 'failed', 'succeeded', 'queued'])
  t.equal(done.state, 'cancelled', JSON.stringify(done.error))
  t.equal(done.attempts, 1, 'no second attempt')
  t.equal((await batchesOf(livy, job.id)).length, 0, 'no second batch')
})

t.test('killed for a timeout, then a crash before the record: TIMEOUT', async (t) => {
  const { app, file, livy, get } = await setup(t)
  const job = await createJob(app, {
    name: 'timeout-crash',
    maxAttempts: 2,
    timeoutSeconds: 3600,
    batch: { file, args: ['600'] },
  })
  const running = await waitForState(get, job.id, ['running'], 180_000)
  const record = (await app.jobStore.get(job.id))!
  await app.jobStore.update(job.id, { internals: { ...record.internals, killReason: 'timeout' } })
  await killedUnrecorded(app, livy, running)
  const done = await waitForState(get, job.id, ['cancelled', 'failed', 'succeeded', 'queued'])
  t.equal(done.state, 'failed')
  t.equal(done.error?.code, 'TIMEOUT', 'the reason it was killed for')
  t.equal(done.attempts, 1, 'a timeout is not retried')
})
