/** Helpers for job tests: stage a script, create jobs over inject(), wait for states. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, mkdtemp } from 'node:fs/promises'
import { quietPort } from '../../bench/ports.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from '../../src/app.js'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import type { Job } from '../../src/domain/job-schema.js'
import type { JobState } from '../../src/domain/job-state.js'
import type { WebHdfsClient } from '../../src/storage/webhdfs-client.js'

type Tap = { teardown: (fn: () => unknown) => void }

/** Copies a local file to HDFS and returns its hdfs:// URI. */
export async function stage(
  hdfs: WebHdfsClient,
  defaultFs: string,
  localPath: string,
  hdfsPath: string,
) {
  await hdfs.create(hdfsPath, await readFile(localPath), { overwrite: true })
  return `${defaultFs}${hdfsPath}`
}

export async function postJob(app: App, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/v1/jobs', payload: body as object, headers })
}

export async function createJob(app: App, body: unknown): Promise<Job> {
  const r = await postJob(app, body)
  if (r.statusCode !== 202) throw new Error(`POST /v1/jobs: ${r.statusCode} ${r.body}`)
  return r.json<Job>()
}

/** Uploads a CSV as a dataset of the app's tenant (201, else it throws). */
export async function uploadCsv(app: App, name: string, body: string): Promise<Dataset> {
  const r = await app.inject({
    method: 'POST',
    url: `/v1/datasets?name=${name}`,
    headers: { 'content-type': 'text/csv' },
    payload: body,
  })
  if (r.statusCode !== 201) throw new Error(`POST /v1/datasets: ${r.statusCode} ${r.body}`)
  return r.json<Dataset>()
}

export async function getJob(app: App, id: string): Promise<Job> {
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<Job>()
}

/** Polls GET /v1/jobs/:id until the job is in one of `states`. */
export async function waitForState(
  get: (id: string) => Promise<Job>,
  id: string,
  states: JobState[],
  timeoutMs = 240_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = await get(id)
    if (states.includes(job.state)) return job
    if (Date.now() > deadline)
      throw new Error(`job ${id} is ${job.state}, not ${states.join('|')}, after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/**
 * A port nothing listens on, for a process a test starts (and may restart on it): below the
 * ephemeral range, so no outgoing socket takes it meanwhile (../../bench/ports.ts).
 */
export const freePort = () => quietPort()

/** Kills a detached child's whole process group (Livy and its spark-submit children). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  }
}

/**
 * A second, private Livy server (real, from the stack's jars) on its own port: batches on a
 * local master, or on the stack's YARN (`yarn`, cluster mode, recovery on). Its conf, logs
 * and recovery state are in `dir` (a fresh folder by default): a YARN one started again on
 * the same folder recovers its batches; on a fresh one, it remembers nothing.
 */
export async function startLivy(
  t: Tap,
  port: number,
  o: { dir?: string; yarn?: boolean } = {},
): Promise<ChildProcess> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'sparkgate-livy-')))
  const mode = o.yarn ? 'yarn' : 'local'
  const child = spawn('bash', ['docker/local/stack.sh', 'run-livy', String(port), dir, mode], {
    detached: true,
    stdio: 'ignore',
  })
  t.teardown(() => killGroup(child, 'SIGKILL'))
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/batches?size=1`)
      if (r.ok) return child
    } catch {
      // not up yet
    }
    if (child.exitCode !== null)
      throw new Error(`private Livy exited with ${child.exitCode}; logs in ${dir}/logs`)
    if (Date.now() > deadline) throw new Error('private Livy did not start')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** Resolves once nothing answers on a Livy's port any more (after a kill). */
export async function untilLivyDown(port: number) {
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/batches?size=1`)
    } catch {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('Livy did not stop')
}
