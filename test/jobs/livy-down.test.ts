/**
 * Livy down while jobs are queued: submissions fail with connection refused, which is
 * transient — the jobs wait (none fails) and succeed once a real Livy comes up on the
 * configured port.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { LivyClient } from '../../src/backends/livy/livy-client.js'
import { build, hdfsClient, hdfsTestDir, testConfig } from '../helpers/stack.js'
import { createJob, freePort, getJob, stage, startLivy, waitForState } from '../helpers/jobs.js'

const hello = fileURLToPath(new URL('../fixtures/spark/hello.py', import.meta.url))

t.test('jobs queued while Livy is down wait and succeed once it is back', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, hello, `${dir}/hello.py`)
  const port = await freePort()
  const app = await build(t, {
    SPARKGATE_LIVY_URL: `http://127.0.0.1:${port}`,
    SPARKGATE_SUBMIT_BACKOFF_MS: 200,
    SPARKGATE_SUBMIT_BACKOFF_MAX_MS: 2000,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
  })
  const jobs = [
    await createJob(app, { name: 'while-down-1', batch: { file, args: ['1'] } }),
    await createJob(app, { name: 'while-down-2', batch: { file, args: ['2'] } }),
    await createJob(app, { name: 'while-down-3', batch: { file, args: ['3'] } }),
  ]

  // several backoff rounds against a closed port
  await new Promise((resolve) => setTimeout(resolve, 5000))
  for (const { id } of jobs) {
    const job = await getJob(app, id)
    t.not(job.state, 'failed', `${job.name} waits (${job.state})`)
    t.notOk(job.error, 'no error recorded')
  }
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, 'readiness reports Livy down meanwhile')

  await startLivy(t, port)
  for (const { id } of jobs) {
    const job = await waitForState((i) => getJob(app, i), id, ['succeeded', 'failed', 'cancelled'])
    t.equal(job.state, 'succeeded', `${job.name}: ${JSON.stringify(job.error)}`)
    t.equal(job.attempts, 1, 'a transient fault does not use up an attempt')
  }
  const names = (await new LivyClient({ url: `http://127.0.0.1:${port}` }).list(0, 100)).sessions
    .map((b) => b.name)
    .sort()
  t.same(names, jobs.map((j) => j.id).sort(), 'exactly one batch per job on the new Livy')
})
