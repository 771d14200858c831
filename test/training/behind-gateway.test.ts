/**
 * A cluster behind a TLS gateway with Basic auth (HDInsight's layout: /livy and
 * /webhdfs/v1 on one https origin; Knox's too), against the stack's nginx proxy, its
 * private CA and its password file, in front of the real Livy (on YARN) and WebHDFS:
 *   - the demo's training end to end through it (uploads, staging, the DataNode hops and
 *     the Livy calls all through the gateway; Spark reads HDFS inside the cluster);
 *   - a wrong password: the backend is down in GET /v1/backends with the reason, a job
 *     waits in the queue instead of failing, and runs once the gateway has the right one;
 *   - a password file that cannot be read stops the gateway at boot, naming the file;
 *   - no password in any reply or log line (the gateway's, the stack's).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { postJob, stage, waitForState } from '../helpers/jobs.js'
import { demoTraining, loggedApp, secretsFound, stackStatus } from '../helpers/secured.js'
import {
  hdfsClient,
  hdfsTestDir,
  livyClient,
  makeTenant,
  ON_YARN,
  tenantName,
  testConfig,
} from '../helpers/stack.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const churn = join(root, 'jobs/examples/data/churn.csv')
const compute = join(root, 'test/fixtures/spark/compute.py')

const status = await stackStatus()
const proxy = status.proxy
if (!proxy?.up) {
  t.fail(`the stack's TLS proxy is not up: ${JSON.stringify(proxy)}`)
  process.exit(1)
}
const password = (await readFile(proxy.passwordFile, 'utf8')).trim()

/** The gateway's settings for the cluster behind the proxy, with this password file. */
function behindProxy(passwordFile: string, hdfsPasswordFile = passwordFile) {
  const basic = (file: string) => ({ type: 'basic', user: proxy!.user, passwordFile: file })
  return {
    SPARKGATE_BACKENDS: JSON.stringify([
      {
        name: 'hdi',
        kind: 'livy',
        url: `${proxy!.url}/livy`,
        yarnUrl: ON_YARN.SPARKGATE_LIVY_YARN_URL,
        auth: basic(passwordFile),
        caFile: proxy!.caFile,
      },
    ]),
    SPARKGATE_DEFAULT_BACKEND: 'hdi',
    SPARKGATE_WEBHDFS_URL: `${proxy!.url}/webhdfs/v1`,
    SPARKGATE_HDFS_AUTH: JSON.stringify(basic(hdfsPasswordFile)),
    SPARKGATE_HDFS_CA_FILE: proxy!.caFile,
    SPARKGATE_TRACKER_INTERVAL_MS: '500',
  }
}

t.test('the demo training through the TLS Basic-auth gateway', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const { app, lines } = await loggedApp(t, {
    ...behindProxy(proxy.passwordFile),
    SPARKGATE_HDFS_ROOT: dir,
  })
  const tenant = await makeTenant(app)
  const headers = { authorization: `Bearer ${tenant.key}` }

  const backends = await app.inject({ method: 'GET', url: '/v1/backends', headers })
  const hdi = backends.json<{ items: Record<string, unknown>[] }>().items[0]!
  t.match(hdi, { name: 'hdi', auth: 'basic', healthy: true, endpoint: `${proxy.url}/livy` })
  t.notMatch(backends.body, password)

  // the upload goes to HDFS through the gateway: NameNode, then the DataNode it redirects to
  const uploaded = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=churn.csv',
    headers: { ...headers, 'content-type': 'text/csv' },
    payload: await readFile(churn),
  })
  t.equal(uploaded.statusCode, 201, uploaded.body)
  const dataset = uploaded.json<{ id: string; path: string }>()
  t.equal((await hdfs.getFileStatus(dataset.path)).owner, tenant.id, "staged as the tenant's user")

  const posted = await postJob(app, demoTraining(dataset.id), headers)
  t.equal(posted.statusCode, 202, posted.body)
  const done = await waitForState(
    async (id) => (await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers })).json<Job>(),
    posted.json<Job>().id,
    ['succeeded', 'failed'],
    600_000,
  )
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.match(done.backendRef?.appId, /^application_/, 'it ran on YARN')
  const result = await app.inject({ method: 'GET', url: `/v1/jobs/${done.id}/result`, headers })
  t.equal(result.statusCode, 200, result.body)
  t.ok(result.json<{ metrics: { areaUnderROC: number } }>().metrics.areaUnderROC > 0.7)
  const logs = await app.inject({ method: 'GET', url: `/v1/jobs/${done.id}/logs`, headers })
  t.equal(logs.statusCode, 200)
  t.notMatch(logs.body, password)
  const batch = await livyClient(testConfig(ON_YARN)).get(Number(done.backendRef!.batchId))
  t.equal(batch.proxyUser, tenant.id, "Livy ran it as the tenant's cluster user")

  t.strictSame(await secretsFound([password], lines, status.stateDir), [], 'no password in any log')
  t.ok(lines.length > 50, `${lines.length} gateway log lines searched`)
})

t.test('a wrong password: the backend is down with the reason, the job waits', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'sparkgate-wrong-'))
  const wrong = `wrong-${tenantName('pw')}-password`
  const wrongFile = join(scratch, 'wrong-password')
  await writeFile(wrongFile, `${wrong}\n`, { mode: 0o600 })
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const script = await stage(
    hdfs,
    testConfig().SPARKGATE_HDFS_DEFAULT_FS,
    compute,
    `${dir}/compute.py`,
  )
  // Livy behind the gateway with a wrong password; WebHDFS with the right one
  const settings = {
    ...behindProxy(wrongFile, proxy.passwordFile),
    SPARKGATE_HDFS_ROOT: dir,
    SPARKGATE_SUBMIT_BACKOFF_MS: 200,
    SPARKGATE_SUBMIT_BACKOFF_MAX_MS: 1000,
  }
  const { app, lines } = await loggedApp(t, settings)
  const tenant = await makeTenant(app)
  const headers = { authorization: `Bearer ${tenant.key}` }
  const backends = await app.inject({ method: 'GET', url: '/v1/backends', headers })
  const hdi = backends.json<{ items: Record<string, unknown>[] }>().items[0]!
  t.match(hdi, {
    name: 'hdi',
    auth: 'basic',
    healthy: false,
    error: /Livy refused the gateway's credentials \(HTTP 401; basic auth\)/,
  })
  t.notMatch(backends.body, wrong)
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, 'not ready: its one backend refuses it')

  const posted = await postJob(app, { name: 'waits', batch: { file: script } }, headers)
  t.equal(posted.statusCode, 202, posted.body)
  const id = posted.json<Job>().id
  // several submit attempts later (backoff 200 ms to 1 s), it still waits
  await new Promise((resolve) => setTimeout(resolve, 5000))
  const waiting = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers })).json<Job>()
  t.ok(['queued', 'submitting'].includes(waiting.state), `still waiting: ${waiting.state}`)
  t.notOk(waiting.backendRef, 'never reached Livy')
  t.strictSame(await secretsFound([wrong, password], lines, status.stateDir), [])
  await app.close()

  // the operator fixes the password: the same job runs, once
  const { app: fixed } = await loggedApp(t, {
    ...behindProxy(proxy.passwordFile),
    SPARKGATE_HDFS_ROOT: dir,
    SPARKGATE_REDIS_PREFIX: app.config.SPARKGATE_REDIS_PREFIX,
  })
  const done = await waitForState(
    async (jobId) =>
      (await fixed.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers })).json<Job>(),
    id,
    ['succeeded', 'failed'],
    600_000,
  )
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.equal(done.attempts, 1, 'submitted once')
})

t.test('an unreadable password file stops the gateway at boot, naming it', async (t) => {
  const missing = join(await mkdtemp(join(tmpdir(), 'sparkgate-boot-')), 'no-such-password')
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/root',
      SPARKGATE_PORT: '0',
      SPARKGATE_ADMIN_KEY: 'sgk_test-admin-key-0123456789abcdef',
      ...behindProxy(missing, proxy.passwordFile),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 2, stderr)
  t.match(stderr, `livy backend hdi: auth.passwordFile: ${missing} does not exist`)
  t.notMatch(stderr, password)
})
