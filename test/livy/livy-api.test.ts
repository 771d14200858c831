/**
 * Sparkgate's Livy-compatible API (/livy) with Livy's own clients, against a gateway on a
 * real port whose jobs run on the stack's Livy (a local master) and HDFS:
 *   - the curl sequence of the Livy REST API document (POST /batches, GET /batches/{id},
 *     …/state, …/log, GET /batches, DELETE), with the key as HTTP Basic's password; the
 *     job then shows in /v1/jobs with its tenant, events and audit entries;
 *   - pylivy (PyPI `livy`, the stack's clients venv) drives a batch to its end, reads its log;
 *   - the Livy backend's own conformance suite, pointed at /livy (test/helpers/conformance.ts);
 *   - another tenant's key: 404; a refused conf key: 400 with Livy's `{msg}`; a retry with
 *     the same Idempotency-Key: the same batch, one job; another proxyUser: 403; sessions: 501.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { LivyBackend } from '../../src/backends/livy/livy-backend.js'
import { Secret } from '../../src/cluster-auth/credentials.js'
import { conformance } from '../helpers/conformance.js'
import { freePort, stage } from '../helpers/jobs.js'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  makeTenant,
  tenantOf,
  type TestTenant,
} from '../helpers/stack.js'

type Tap = { name: string; teardown: (fn: () => unknown) => void }

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url))
const STATE = process.env['STACK_DIR'] || fileURLToPath(new URL('../../.stack', import.meta.url))

/** A gateway on a real port (Livy's clients speak HTTP), its tenant, and a staged compute.py. */
async function gateway(t: Tap) {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, SPARKGATE_TRACKER_INTERVAL_MS: 300 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const compute = await stage(
    hdfs,
    app.config.SPARKGATE_HDFS_DEFAULT_FS,
    fixture('compute.py'),
    `${root}/compute.py`,
  )
  return { app, base, tenant: tenantOf(app), compute, hdfs, root }
}

/** curl, as the Livy document writes it: its status and its JSON. */
function curl(args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-s', '-w', '\n%{http_code}', ...args], (error, stdout) => {
      if (error) return reject(new Error(`curl ${args.join(' ')}: ${error.message}`))
      const at = stdout.lastIndexOf('\n')
      const text = stdout.slice(0, at)
      resolve({
        status: Number(stdout.slice(at + 1)),
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      })
    }),
  )
}

async function untilLivyState(base: string, key: string, id: number, states: string[]) {
  const deadline = Date.now() + 300_000
  for (;;) {
    const r = await curl(['-u', `airflow:${key}`, `${base}/livy/batches/${id}/state`])
    if (states.includes(String(r.body['state']))) return String(r.body['state'])
    if (Date.now() > deadline) throw new Error(`batch ${id}: ${JSON.stringify(r.body)}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

t.test('the Livy document’s curl sequence, and what Sparkgate records of it', async (t) => {
  const { app, base, tenant, compute } = await gateway(t)
  const u = ['-u', `airflow:${tenant.key}`]
  const json = ['-H', 'Content-Type: application/json', '-H', 'X-Requested-By: airflow']

  // curl -X POST --data '{"file": "…/pi.py", "args": […]}' -H "Content-Type: application/json" localhost:8998/batches
  const created = await curl([
    '-X',
    'POST',
    ...u,
    ...json,
    '--data',
    JSON.stringify({ file: compute, args: ['100'], name: 'sum', driverMemory: '512m' }),
    `${base}/livy/batches`,
  ])
  t.equal(created.status, 201, JSON.stringify(created.body))
  t.match(created.body, {
    id: 0,
    name: 'sum',
    owner: tenant.id,
    proxyUser: tenant.id,
    state: /^(not_started|starting)$/,
    appId: null,
    appInfo: { driverLogUrl: null, sparkUiUrl: null },
    log: [],
  })
  const jobId = String(created.body['sparkgateJob'])

  t.equal(await untilLivyState(base, tenant.key, 0, ['success', 'dead', 'killed']), 'success')
  const batch = await curl([...u, `${base}/livy/batches/0`])
  // appId: the backend's (a YARN application's id; a local master's Livy gives none)
  t.match(batch.body, { id: 0, state: 'success', sparkgateJob: jobId })
  const log = await curl([...u, `${base}/livy/batches/0/log?from=0&size=10000`])
  t.match(log.body, { id: 0, from: 0 })
  t.ok(
    (log.body['log'] as string[]).some((l) => l.includes('SPARKGATE_SUM=5050')),
    'its log, from the backend',
  )
  const list = await curl([...u, `${base}/livy/batches`])
  t.match(list.body, { from: 0, total: 1, sessions: [{ id: 0, state: 'success' }] })
  const deleted = await curl(['-X', 'DELETE', ...u, ...json, `${base}/livy/batches/0`])
  t.same(deleted, { status: 200, body: { msg: 'deleted' } }, 'a finished batch: deleted')
  t.equal((await curl([...u, `${base}/livy/batches/7`])).status, 404)

  // the same job in Sparkgate's own API: its tenant, its events, the audit trail
  const job = (await app.inject(`/v1/jobs/${jobId}`)).json()
  t.match(job, {
    id: jobId,
    tenant: tenant.id,
    state: 'succeeded',
    spec: { batch: { file: compute } },
  })
  const events = (await app.inject(`/v1/jobs/${jobId}/events`)).json()
  t.same(
    events.items.map((e: { to: string }) => e.to).slice(0, 4),
    ['queued', 'staging', 'submitting', 'submitted'],
    'its events',
  )
  const audit = (
    await app.inject({ url: '/v1/audit?limit=200', headers: bearer(ADMIN_KEY) })
  ).json()
  t.ok(
    audit.items.some(
      (e: { action: string; target: string; tenant: string }) =>
        e.action === 'job.create' && e.target === `job/${jobId}` && e.tenant === tenant.id,
    ),
    'job.create audited',
  )
})

t.test('pylivy drives a batch to its end and reads its log', async (t) => {
  const { base, tenant, compute } = await gateway(t)
  const python = join(
    readFileSync(join(STATE, 'run', 'clients-venv'), 'utf8').trim(),
    'bin',
    'python',
  )
  const script = `
import json, sys
from livy import LivyBatch
batch = LivyBatch.create(sys.argv[1], sys.argv[2], auth=("pylivy", sys.argv[3]), args=["100"],
                         driver_memory="512m", name="pylivy-sum")
state = batch.wait()
print(json.dumps({"id": batch.batch_id, "state": state.value, "log": batch.log(from_=0, size=10000)}))
`
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      python,
      ['-c', script, `${base}/livy`, compute, tenant.key],
      { timeout: 300_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  )
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
    id: number
    state: string
    log: string[]
  }
  t.equal(result.state, 'success')
  t.equal(result.id, 0)
  t.ok(
    result.log.some((l) => l.includes('SPARKGATE_SUM=5050')),
    'the computed sum in its log',
  )
})

t.test(
  "tenants, policy, idempotency, proxyUser and sessions, as Livy's clients see them",
  async (t) => {
    const { app, base, tenant, compute } = await gateway(t)
    const other: TestTenant = await makeTenant(app)
    const post = (key: string, body: object, headers: string[] = []) =>
      curl([
        '-X',
        'POST',
        '-u',
        `x:${key}`,
        '-H',
        'Content-Type: application/json',
        ...headers,
        '--data',
        JSON.stringify(body),
        `${base}/livy/batches`,
      ])
    const first = await post(tenant.key, { file: compute, args: ['3'] }, [
      '-H',
      'Idempotency-Key: retry-1',
    ])
    t.equal(first.status, 201)
    const again = await post(tenant.key, { file: compute, args: ['3'] }, [
      '-H',
      'Idempotency-Key: retry-1',
    ])
    t.equal(again.status, 200, 'a retry: the same batch')
    t.equal(again.body['id'], first.body['id'])
    t.equal(again.body['sparkgateJob'], first.body['sparkgateJob'], 'one job')
    const jobs = (await app.inject('/v1/jobs')).json().items as unknown[]
    t.equal(jobs.length, 1, 'it ran once')

    // another tenant's key: no such batch (its own ids start at 0 too)
    const theirs = await curl([
      '-u',
      `x:${other.key}`,
      `${base}/livy/batches/${String(first.body['id'])}`,
    ])
    t.equal(theirs.status, 404)
    t.same(theirs.body, { msg: `Session '${String(first.body['id'])}' not found.` })

    // the policy, in Livy's words
    const refused = await post(tenant.key, {
      file: compute,
      conf: { 'spark.driver.extraJavaOptions': '-Dx=1' },
    })
    t.equal(refused.status, 400)
    t.match(refused.body, {
      msg: /^conf\.spark\.driver\.extraJavaOptions .*\(rule: conf-policy\)$/,
    })
    t.same(Object.keys(refused.body), ['msg'], "Livy's error body: {msg}")
    const badField = await post(tenant.key, { file: compute, numExecutors: 'many' })
    t.equal(badField.status, 400)
    t.match(badField.body, { msg: /numExecutors/ })
    const proxy = await post(tenant.key, { file: compute, proxyUser: 'root' })
    t.equal(proxy.status, 403)
    t.match(proxy.body, { msg: /proxyUser root is not allowed/ })
    const mine = await post(tenant.key, { file: compute, args: ['1'], proxyUser: tenant.id })
    t.equal(mine.status, 201, 'its own cluster user: accepted')

    const sessions = await curl(['-u', `x:${tenant.key}`, `${base}/livy/sessions`])
    t.equal(sessions.status, 501)
    t.match(sessions.body, { msg: /interactive sessions are not served/ })
    const anonymous = await curl([`${base}/livy/batches`])
    t.equal(anonymous.status, 401)
    t.match(anonymous.body, { msg: /./ })
    const bearerToo = await curl([
      '-H',
      `Authorization: Bearer ${tenant.key}`,
      `${base}/livy/batches`,
    ])
    t.equal(bearerToo.status, 200, 'a Bearer token works too')
    for (const id of [first.body['id'], mine.body['id']])
      await curl(['-X', 'DELETE', '-u', `x:${tenant.key}`, `${base}/livy/batches/${String(id)}`])
  },
)

conformance(t, async () => {
  const { base, tenant, hdfs, root, app } = await gateway(t)
  const password = new Secret(tenant.key)
  const fs = app.config.SPARKGATE_HDFS_DEFAULT_FS
  return {
    backend: new LivyBackend({
      name: 'sparkgate-livy',
      url: `${base}/livy`,
      auth: { type: 'basic', user: 'conformance', password },
    }),
    down: new LivyBackend({
      name: 'sparkgate-livy-down',
      url: `http://127.0.0.1:${await freePort()}/livy`,
      auth: { type: 'basic', user: 'conformance', password },
    }),
    stage: (local, name) => stage(hdfs, fs, local, `${root}/${name}`),
    // the tenant's policy refuses a local file outside the platform's folders: a 400
    refusedFile: 'file:///etc/passwd',
    // Sparkgate does not guard batch names (the submit worker looks a name up before it
    // resubmits)
    refusesDuplicateNames: false,
  }
})
