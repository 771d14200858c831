/**
 * Jobs through the real stack: POST /v1/jobs → BullMQ → the real Livy → real Spark (and
 * HDFS), followed by the tracker to a terminal state. The jobs run side by side (cap 4)
 * to keep the file short; each subtest checks its own job.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, livyClient, testConfig } from '../helpers/stack.js'
import { createJob, getJob, stage, waitForState } from '../helpers/jobs.js'

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url))
const example = fileURLToPath(new URL('../../jobs/examples/line_stats.py', import.meta.url))

t.test('jobs through the real Livy', async (t) => {
  const config = testConfig()
  const app = await build(t, {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
    SPARKGATE_LIVY_MAX_LIVE: 4,
    // /tmp is open to jobs here, so that Livy itself refuses file:///tmp/nope.py
    SPARKGATE_POLICY_LOCAL_FOLDERS: '/tmp',
  })
  const hdfs = hdfsClient(config)
  const livy = livyClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const fs = config.SPARKGATE_HDFS_DEFAULT_FS
  const lineStats = await stage(hdfs, fs, example, `${dir}/line_stats.py`)
  const raising = await stage(hdfs, fs, fixture('raise_error.py'), `${dir}/raise_error.py`)
  const sleeping = await stage(hdfs, fs, fixture('sleep.py'), `${dir}/sleep.py`)
  await hdfs.create(`${dir}/input.txt`, Buffer.from('to be or not to be\nthat is the question\n'))
  const get = (id: string) => getJob(app, id)

  // Queued first, so it takes a free slot at once: with the cap (4) full of the Spark
  // applications below (one sleeps 600 s until a later subtest) it would wait, rightly, for
  // two of them to end, which under load can take minutes. Livy refuses local paths outside
  // livy.file.local-dir-whitelist with a 400.
  const rejected = await createJob(app, {
    name: 'rejected',
    batch: { file: 'file:///tmp/nope.py' },
  })
  // then five at once: the cap (4) holds the fifth in the queue until a slot frees
  const ok = await createJob(app, {
    name: 'line-stats',
    batch: { file: lineStats, args: [`${fs}${dir}/input.txt`, `${fs}${dir}/out`] },
    resources: { driverMemory: '512m' },
  })
  const bad = await createJob(app, { name: 'raises', batch: { file: raising } })
  const retried = await createJob(app, {
    name: 'raises-twice',
    maxAttempts: 2,
    batch: { file: raising },
  })
  const slow = await createJob(app, { name: 'to-cancel', batch: { file: sleeping, args: ['600'] } })
  const late = await createJob(app, {
    name: 'too-slow',
    timeoutSeconds: 5,
    batch: { file: sleeping, args: ['600'] },
  })

  await t.test("a 4xx from Livy fails the job at once with Livy's message", async (t) => {
    const done = await waitForState(get, rejected.id, ['failed', 'succeeded', 'cancelled'], 60_000)
    t.equal(done.state, 'failed')
    t.equal(done.error?.code, 'BACKEND_REJECTED')
    t.match(done.error?.message, /cannot be added to user sessions/)
    // Livy 0.7 leaves a refused batch registered, `starting` forever: Sparkgate kills it
    const left = []
    for (let from = 0; ; from += 500) {
      const page = await livy.list(from, 500)
      left.push(...page.sessions.filter((b) => b.name === rejected.id && b.state === 'starting'))
      if (page.sessions.length < 500) break
    }
    t.same(left, [], 'no phantom batch of the refused job stays in Livy')
    t.notOk(done.backendRef, 'nothing was submitted')
  })

  await t.test('a batch that succeeds writes its output to HDFS', async (t) => {
    const job = await waitForState(get, ok.id, ['succeeded', 'failed', 'cancelled'])
    t.equal(job.state, 'succeeded', JSON.stringify(job.error))
    t.equal(job.attempts, 1)
    t.equal(job.backendState, 'success')
    t.match(job.backendRef?.batchId, /^\d+$/, 'the Livy batch id')
    t.equal(job.backendRef?.batchName, ok.id, 'the Livy batch is named after the job')
    // Livy knows the application id on YARN; with a local master it reports none
    if (job.backendRef?.appId) t.match(job.backendRef.appId, /^(local-|application_)/)
    for (const k of ['submittedAt', 'startedAt', 'finishedAt'] as const) t.ok(job[k], k)
    const batch = await livy.get(Number(job.backendRef!.batchId))
    t.equal(batch.name, ok.id)
    const parts = await hdfs.listStatus(`${dir}/out`)
    const part = parts.find((p) => p.pathSuffix.startsWith('part-'))
    t.ok(part, 'a part file was written')
    const result = JSON.parse((await hdfs.readFile(`${dir}/out/${part!.pathSuffix}`)).toString())
    t.same(result, {
      lines: 2,
      words: 10,
      top: [
        { word: 'be', count: 2 },
        { word: 'to', count: 2 },
        { word: 'is', count: 1 },
      ],
    })
    const events = (await app.inject({ method: 'GET', url: `/v1/jobs/${ok.id}/events` })).json()
    t.same(
      events.items.map((e: { to: string }) => e.to),
      ['queued', 'staging', 'submitting', 'submitted', 'running', 'succeeded'],
    )
    const logs = (
      await app.inject({ method: 'GET', url: `/v1/jobs/${ok.id}/logs?size=1000` })
    ).json()
    t.ok(logs.total > 0, 'Livy has log lines')
    t.ok(logs.lines.length > 0)
  })

  await t.test("one that raises fails with the error's log lines", async (t) => {
    const job = await waitForState(get, bad.id, ['succeeded', 'failed', 'cancelled'])
    t.equal(job.state, 'failed')
    t.equal(job.error?.code, 'SPARK_APP_FAILED')
    t.match(job.error?.message, /Livy|livy|state dead|state error/)
    t.ok(
      job.error?.logLines.some((l) => l.includes('sparkgate-intended-failure')),
      'the last log lines show the exception',
    )
    t.equal(job.attempts, 1)
  })

  await t.test('with maxAttempts 2 a failed application runs once more', async (t) => {
    const job = await waitForState(get, retried.id, ['succeeded', 'failed', 'cancelled'])
    t.equal(job.state, 'failed')
    t.equal(job.attempts, 2)
    const events = (
      await app.inject({ method: 'GET', url: `/v1/jobs/${retried.id}/events` })
    ).json()
    const path = events.items.map((e: { from: string | null; to: string }) => `${e.from}>${e.to}`)
    t.ok(path.includes('failed>queued'), `a retry is recorded: ${path.join(' ')}`)
    t.equal(path.filter((p: string) => p === 'submitting>submitted').length, 2)
    const names = (await livy.list(0, 1000)).sessions.map((b) => b.name)
    t.ok(names.includes(retried.id), 'first attempt batch')
    t.ok(names.includes(`${retried.id}.2`), 'second attempt batch')
  })

  await t.test('cancel of a running job kills its Livy batch', async (t) => {
    const running = await waitForState(get, slow.id, ['running'])
    const r = await app.inject({ method: 'DELETE', url: `/v1/jobs/${slow.id}` })
    t.equal(r.statusCode, 200, r.body)
    t.equal(r.json<Job>().state, 'cancelled')
    const again = await app.inject({ method: 'DELETE', url: `/v1/jobs/${slow.id}` })
    t.equal(again.statusCode, 200, 'cancel is idempotent')
    const batchId = running.backendRef!.batchId
    const deadline = Date.now() + 60_000
    let state = 'gone'
    while (Date.now() < deadline) {
      try {
        state = (await livy.get(Number(batchId))).state
      } catch {
        state = 'gone'
      }
      if (state === 'killed' || state === 'gone' || state === 'dead') break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    t.match(state, /^(killed|gone|dead)$/, `Livy batch ${batchId} is ${state}`)
    // the tracker sees the kill and leaves the job cancelled
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.equal((await get(slow.id)).state, 'cancelled')
    const terminal = await app.inject({ method: 'DELETE', url: `/v1/jobs/${ok.id}` })
    t.equal(terminal.statusCode, 409, 'a succeeded job cannot be cancelled')
    t.equal(terminal.json().code, 'SPARKGATE_JOB_TERMINAL')
  })

  await t.test('timeoutSeconds kills the batch and fails the job with TIMEOUT', async (t) => {
    const job = await waitForState(get, late.id, ['succeeded', 'failed', 'cancelled'])
    t.equal(job.state, 'failed')
    t.equal(job.error?.code, 'TIMEOUT')
    const batch = await livy.get(Number(job.backendRef!.batchId)).catch(() => undefined)
    if (batch) t.not(batch.state, 'running', 'the batch no longer runs')
  })

  // nothing of ours is left running on Livy
  const ours = new Set([ok.id, bad.id, retried.id, `${retried.id}.2`, slow.id, late.id])
  const deadline = Date.now() + 60_000
  let live: string[] = []
  do {
    live = (await livy.list(0, 1000)).sessions
      .filter(
        (b) => ours.has(b.name ?? '') && !['success', 'dead', 'killed', 'error'].includes(b.state),
      )
      .map((b) => `${b.name}:${b.state}`)
    if (live.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 1000))
  } while (Date.now() < deadline)
  t.same(live, [], 'no batch of this test is still live on Livy')
})
