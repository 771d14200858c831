/**
 * kill -9 of the gateway between Livy accepting a batch and the gateway recording it
 * (the crash-after-submit failpoint SIGKILLs the real server process there). After a
 * restart the job completes with exactly one Livy batch: the new worker takes over the
 * stalled submission and adopts the batch by name instead of submitting again. The
 * restarted gateway is then stopped with SIGTERM and must exit cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  livyClient,
  testConfig,
  LOCAL_LIVY,
} from '../helpers/stack.js'
import { freePort, killGroup, stage } from '../helpers/jobs.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const hello = fileURLToPath(new URL('../fixtures/spark/hello.py', import.meta.url))

function startGateway(t: Tap, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  })
  t.teardown(() => killGroup(child, 'SIGKILL'))
  return child
}
type Tap = { teardown: (fn: () => unknown) => void }

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined) return value
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

t.test('a crash between submit and record never submits twice', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const livy = livyClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, hello, `${dir}/hello.py`)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    ...LOCAL_LIVY,
    SPARKGATE_PORT: String(port),
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_WORKER_LOCK_MS: '3000',
    SPARKGATE_TRACKER_INTERVAL_MS: '500',
    SPARKGATE_ADMIN_KEY: ADMIN_KEY,
  }
  // the platform admin's own jobs: any tenant would do
  const auth = bearer(ADMIN_KEY)
  const healthy = () =>
    until('the gateway', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined))
  const getJob = async (id: string) =>
    (await fetch(`${base}/v1/jobs/${id}`, { headers: auth })).json() as Promise<Job>

  const first = startGateway(t, { ...env, SPARKGATE_FAILPOINTS: 'crash-after-submit' })
  await healthy()
  // the platform tenant may name the test's HDFS folder
  const allowed = await fetch(`${base}/v1/tenants/platform`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ policy: { uriPrefixes: [`${config.SPARKGATE_HDFS_DEFAULT_FS}/`] } }),
  })
  t.equal(allowed.status, 200)
  const r = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ name: 'crash-me', batch: { file } }),
  })
  t.equal(r.status, 202)
  const { id } = (await r.json()) as Job
  if (!id) throw new Error('the job was not accepted')

  const end = await until('the failpoint', () => exited(first), 120_000)
  t.equal(end.signal, 'SIGKILL', 'the gateway died with kill -9 right after Livy accepted')
  const batches = async () =>
    (await livy.list(0, 1000)).sessions.filter((b) => b.name === id || b.name?.startsWith(`${id}.`))
  t.equal((await batches()).length, 1, 'Livy has the batch the dead gateway submitted')

  // read the record in Redis while no gateway runs
  const api = await build(t, {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_ROLES: 'api',
  })
  const stuck = (
    await api.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth })
  ).json<Job>()
  t.equal(stuck.state, 'submitting', 'the record still says submitting: the batch id was lost')
  t.notOk(stuck.backendRef, 'no batch recorded')

  const second = startGateway(t, env)
  await healthy()

  const done = await until('the job to finish', async () => {
    const job = await getJob(id)
    return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined
  })
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.equal(done.attempts, 1)
  const after = await batches()
  t.equal(after.length, 1, 'exactly one Livy batch for the job')
  t.equal(done.backendRef?.batchId, String(after[0]!.id), 'the job adopted that batch')

  process.kill(second.pid!, 'SIGTERM')
  const stopped = await exited(second)
  t.same(stopped, { code: 0, signal: null }, 'SIGTERM: a graceful, clean exit')
})
