/**
 * Warm engines on the real stack: a gateway on a real port (an engine's driver polls it),
 * its engines and cold jobs on the stack's Livy (a local master) and HDFS.
 *   - a warm and a cold training of one spec: identical metrics, and identical predictions
 *     when each model scores the same rows (scoring in the engine too); `engine: "cold"`
 *     never touches the engine; the job records the engine that ran it;
 *   - another tenant: its job never runs in A's engine, it cannot see A's engine, open the
 *     engine protocol with its key, name A's engine folder (the token), or read A's results;
 *   - SIGKILL of the engine's driver mid-job: the job ends succeeded exactly once;
 *   - the live cap counts engines, and the idle timeout stops one;
 *   - a warm job starts an engine on demand; a policy minimum keeps one;
 *   - on YARN in cluster mode: an application of the tenant's user in its queue.
 */
import { execFileSync } from 'node:child_process'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import type { Job } from '../../src/domain/job-schema.js'
import type { Engine } from '../../src/engines/engine-schema.js'
import { getJob, postJob, uploadCsv, waitForState } from '../helpers/jobs.js'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  makeTenant,
  ON_YARN,
  tenantOf,
} from '../helpers/stack.js'
import { killAppsAtEnd, rmApp, waitForRmState } from '../helpers/yarn.js'

type Tap = Test

/** 1,000 rows of a binary problem (deterministic). */
function churn(rows = 1000) {
  let s = 42
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32
  const lines = ['tenure,charges,segment,label']
  for (let i = 0; i < rows; i++) {
    const tenure = Math.round(u() * 72)
    const charges = Math.round((20 + u() * 100) * 100) / 100
    const segment = ['A', 'B', 'P'][i % 3]
    const p = 1 / (1 + Math.exp(0.08 * tenure - 0.03 * charges - (segment === 'P' ? 1 : 0)))
    lines.push(`${tenure},${charges},${segment},${u() < p ? 1 : 0}`)
  }
  return lines.join('\n') + '\n'
}

async function gateway(t: Tap, overrides: Record<string, string | number> = {}) {
  const root = await hdfsTestDir(t, hdfsClient())
  const app = await build(t, {
    SPARKGATE_HDFS_ROOT: root,
    SPARKGATE_TRACKER_INTERVAL_MS: 300,
    SPARKGATE_LIVY_MAX_LIVE: 3,
    ...overrides,
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, root }
}

async function engineOf(app: App, id: string, key?: string): Promise<Engine> {
  const r = await app.inject({
    method: 'GET',
    url: `/v1/engines/${id}`,
    ...(key ? { headers: bearer(key) } : {}),
  })
  if (r.statusCode !== 200) throw new Error(`GET /v1/engines/${id}: ${r.statusCode} ${r.body}`)
  return r.json<Engine>()
}

async function untilEngine(app: App, id: string, states: Engine['state'][], ms = 180_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const e = await engineOf(app, id)
    if (states.includes(e.state)) return e
    if (Date.now() > deadline) throw new Error(`engine ${id}: ${JSON.stringify(e)}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

async function startEngine(app: App, body: Record<string, unknown> = {}) {
  const r = await app.inject({ method: 'POST', url: '/v1/engines', payload: body })
  if (r.statusCode !== 201) throw new Error(`POST /v1/engines: ${r.statusCode} ${r.body}`)
  return r.json<Engine>()
}

const finished = (app: App, job: Job, ms = 300_000) =>
  waitForState((id) => getJob(app, id), job.id, ['succeeded', 'failed', 'cancelled'], ms)

async function submitted(t: Tap, app: App, body: unknown) {
  const r = await postJob(app, body)
  t.equal(r.statusCode, 202, r.body)
  return r.json<Job>()
}

const result = async (app: App, id: string) =>
  (await app.inject({ method: 'GET', url: `/v1/jobs/${id}/result` })).json<
    Record<string, unknown>
  >()

/** A result's metrics without what differs between two runs of one spec (ids, times). */
function metricsOf(r: Record<string, unknown>) {
  const rest = { ...r }
  for (const k of ['jobId', 'modelUri', 'modelVersion', 'mlflow', 'timings']) delete rest[k]
  return rest
}

t.test(
  'warm and cold: identical metrics and predictions; cold never touches the engine; tenants apart',
  async (t) => {
    const { app } = await gateway(t)
    const a = tenantOf(app)
    const data = await uploadCsv(app, 'churn.csv', churn())
    const engine = await startEngine(app)
    t.equal(engine.state, 'starting')
    t.equal(engine.tenant, a.id)
    const ready = await untilEngine(app, engine.id, ['ready'])
    t.ok(ready.appId, `the engine's application: ${ready.appId}`)
    t.ok(ready.memory && ready.memory.maxBytes > 0, 'its driver reports its memory')
    const metrics = await app.inject({ url: '/metrics', headers: bearer(ADMIN_KEY) })
    t.match(
      metrics.body,
      /sparkgate_engines\{backend="livy",state="ready"[^}]*\} 1/,
      'a Prometheus series',
    )

    const training = {
      dataset: data.id,
      label: 'label',
      algorithm: 'logistic_regression',
      modelName: 'churn-warm',
    }
    const warm = await finished(app, await submitted(t, app, { engine: 'warm', training }))
    t.equal(warm.state, 'succeeded', JSON.stringify(warm.error))
    t.equal(warm.backendRef?.engine, engine.id, 'the job records the engine that ran it')
    t.equal(warm.backendRef?.appId, ready.appId, "and the engine's application")
    const cold = await finished(app, await submitted(t, app, { engine: 'cold', training }))
    t.equal(cold.state, 'succeeded', JSON.stringify(cold.error))
    t.not(cold.backendRef?.batchId, 'engine', 'cold: a batch of its own')
    t.equal(cold.backendRef?.engine, undefined)
    t.same(
      metricsOf(await result(app, warm.id)),
      metricsOf(await result(app, cold.id)),
      'identical metrics',
    )
    t.equal((await engineOf(app, engine.id)).jobsServed, 1, 'the cold job did not touch the engine')

    // each model scores the same rows, in the engine (auto: the tenant has one)
    const outputs: string[] = []
    for (const job of [warm, cold]) {
      const r = await result(app, job.id)
      const scored = await finished(
        app,
        await submitted(t, app, {
          scoring: { model: `churn-warm/${String(r['modelVersion'])}`, dataset: data.id },
        }),
      )
      t.equal(scored.state, 'succeeded', JSON.stringify(scored.error))
      t.equal(scored.backendRef?.engine, engine.id, 'auto: scored in the engine')
      const out = await app.inject({ method: 'GET', url: `/v1/jobs/${scored.id}/output` })
      t.equal(out.statusCode, 200)
      outputs.push(out.body)
    }
    t.ok(outputs[0]!.length > 1000)
    t.equal(outputs[0], outputs[1], 'identical predictions from the warm and the cold model')
    const logs = await app.inject({ method: 'GET', url: `/v1/jobs/${warm.id}/logs` })
    t.match(logs.json<{ lines: string[] }>().lines.join('\n'), /areaUnderROC/, "the job's own log")

    // another tenant
    // (the default policy: no URI prefix beyond its own area and dataset://)
    const b = await makeTenant(app, 'member', { policy: {} })
    const asB = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: bearer(b.key), ...(payload ? { payload } : {}) })
    t.equal(
      (await asB('GET', `/v1/engines/${engine.id}`)).statusCode,
      404,
      "B cannot see A's engine",
    )
    t.same((await asB('GET', '/v1/engines')).json<{ items: Engine[] }>().items, [], 'B lists none')
    t.equal((await asB('DELETE', `/v1/engines/${engine.id}`)).statusCode, 404, 'nor stop it')
    t.equal(
      (await asB('GET', `/v1/jobs/${warm.id}/result`)).statusCode,
      404,
      "nor read A's results",
    )
    const poll = await app.inject({
      method: 'POST',
      url: `/engine/v1/engines/${engine.id}/poll?wait=0`,
      headers: bearer(b.key),
      payload: {},
    })
    t.equal(poll.statusCode, 401, "B's key does not open the engine protocol")
    const fs = app.config.SPARKGATE_HDFS_DEFAULT_FS
    const tokenUri = `${fs}${app.config.SPARKGATE_HDFS_ROOT}/tenants/${a.id}/engines/${engine.id}/token`
    const steal = await asB('POST', '/v1/jobs', {
      training: {
        dataset: { uri: tokenUri, format: 'csv' },
        label: 'label',
        algorithm: 'logistic_regression',
      },
    })
    t.equal(steal.statusCode, 400, `B cannot name A's engine folder: ${steal.body}`)
    // B's training (auto: B has no engine) runs cold, never in A's engine
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=b.csv',
      headers: { ...bearer(b.key), 'content-type': 'text/csv' },
      payload: churn(100),
    })
    const bTraining = {
      dataset: upload.json<{ id: string }>().id,
      label: 'label',
      algorithm: 'logistic_regression',
    }
    const bJob = await asB('POST', '/v1/jobs', { training: bTraining })
    t.equal(bJob.statusCode, 202, bJob.body)
    const bDone = await waitForState(
      async (id) => (await asB('GET', `/v1/jobs/${id}`)).json<Job>(),
      bJob.json<Job>().id,
      ['succeeded', 'failed'],
      300_000,
    )
    t.equal(bDone.state, 'succeeded', JSON.stringify(bDone.error))
    t.not(bDone.backendRef?.batchId, 'engine', "B's job ran cold")
    const served = (await engineOf(app, engine.id)).jobsServed
    t.equal(served, 3, 'A’s engine ran A’s three jobs only')

    const stop = await app.inject({ method: 'DELETE', url: `/v1/engines/${engine.id}` })
    t.equal(stop.statusCode, 202)
    const stopped = await untilEngine(app, engine.id, ['stopped', 'failed'])
    t.equal(stopped.state, 'stopped', JSON.stringify(stopped))
    const audit = await app.inject({
      method: 'GET',
      url: '/v1/audit?limit=100',
      headers: bearer(ADMIN_KEY),
    })
    t.match(audit.body, engine.id, 'engine.start is audited')
  },
)

t.test('SIGKILL of the engine’s driver mid-job: the job ends succeeded exactly once', async (t) => {
  const { app } = await gateway(t)
  const data = await uploadCsv(app, 'churn.csv', churn(3000))
  const engine = await startEngine(app)
  await untilEngine(app, engine.id, ['ready'])
  const job = await submitted(t, app, {
    engine: 'auto',
    name: 'killed-engine',
    training: {
      dataset: data.id,
      label: 'label',
      algorithm: 'random_forest_classifier',
      params: { numTrees: 20, seed: 3 },
      crossValidation: { folds: 4, grid: { maxDepth: [3, 5, 7] } },
      modelName: 'killed-engine',
    },
  })
  await waitForState((id) => getJob(app, id), job.id, ['running'], 120_000)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  // the driver: the spark-submit JVM Livy started for the engine (its name in --name)
  const name = `sparkgate-engine-${engine.id.slice(4, 12)}`
  const pids = execFileSync('pgrep', ['-f', '--', `--name ${name}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
  t.ok(pids.length > 0, `the engine's driver process: ${pids.join(' ')}`)
  for (const pid of pids) process.kill(Number(pid), 'SIGKILL')
  const failed = await untilEngine(app, engine.id, ['failed', 'stopped'], 120_000)
  t.equal(failed.state, 'failed', failed.reason ?? '')
  const done = await finished(app, job, 600_000)
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.not(done.backendRef?.batchId, 'engine', 'retried cold (auto, its engine lost)')
  const events = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events` })).json<{
    items: { to: string; reason?: string }[]
  }>().items
  t.equal(events.filter((e) => e.to === 'succeeded').length, 1, 'succeeded once')
  t.ok(
    events.some((e) => /ENGINE_LOST/.test(e.reason ?? '')),
    'the lost engine is in its history',
  )
  const model = await app.inject({ method: 'GET', url: '/v1/models/killed-engine' })
  t.equal(
    model.json<{ versions: unknown[] }>().versions.length,
    1,
    'one model version: its result written once',
  )
})

t.test('the live cap counts engines; the idle timeout stops one', async (t) => {
  const { app } = await gateway(t, { SPARKGATE_LIVY_MAX_LIVE: 1, SPARKGATE_ENGINE_IDLE_SECONDS: 8 })
  const data = await uploadCsv(app, 'churn.csv', churn(200))
  const engine = await startEngine(app)
  t.equal(engine.idleTimeoutSeconds, 8)
  await untilEngine(app, engine.id, ['ready'])
  const second = await app.inject({ method: 'POST', url: '/v1/engines', payload: {} })
  t.equal(second.statusCode, 409, 'the backend is at its cap (and the tenant at its max)')
  const cold = await submitted(t, app, {
    engine: 'cold',
    training: { dataset: data.id, label: 'label', algorithm: 'logistic_regression' },
  })
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal((await getJob(app, cold.id)).state, 'queued', 'the engine holds the one live slot')
  const stopped = await untilEngine(app, engine.id, ['stopped', 'failed'], 120_000)
  t.equal(stopped.state, 'stopped')
  t.match(stopped.reason ?? '', /idle for 8s/)
  const done = await finished(app, cold)
  t.equal(done.state, 'succeeded', 'then the cold job gets the slot')
  const events = await app.inject({ method: 'GET', url: '/v1/events?type=dev.sparkgate.engine.*' })
  t.equal(events.statusCode, 200, events.body)
  const types = events.json<{ items: { type: string }[] }>().items.map((e) => e.type)
  t.same(
    types.filter((x) => x.startsWith('dev.sparkgate.engine.')),
    [
      'dev.sparkgate.engine.starting',
      'dev.sparkgate.engine.ready',
      'dev.sparkgate.engine.stopping',
      'dev.sparkgate.engine.stopped',
    ],
    "the engine's events",
  )
})

t.test('a warm job starts an engine on demand; a policy minimum keeps one running', async (t) => {
  const { app } = await gateway(t)
  const c = tenantOf(app)
  const data = await uploadCsv(app, 'churn.csv', churn(200))
  const warm = await finished(
    app,
    await submitted(t, app, {
      engine: 'warm',
      training: { dataset: data.id, label: 'label', algorithm: 'logistic_regression' },
    }),
  )
  t.equal(warm.state, 'succeeded', JSON.stringify(warm.error))
  const [started] = (await app.inject({ url: '/v1/engines' })).json<{ items: Engine[] }>().items
  t.equal(started?.startedBy, 'job', 'started on demand by the warm job')
  t.equal(warm.backendRef?.engine, started?.id, 'which ran it')

  const policy = (engines: Record<string, number>) =>
    app.inject({
      method: 'PATCH',
      url: `/v1/tenants/${c.id}`,
      headers: bearer(ADMIN_KEY),
      payload: { policy: { engines } },
    })
  t.equal((await policy({ min: 1, max: 1, idleSeconds: 600 })).statusCode, 200)
  // the on-demand engine is stopped; the minimum starts another
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/engines/${started!.id}` })).statusCode,
    202,
  )
  const deadline = Date.now() + 180_000
  let kept: Engine | undefined
  while (!kept && Date.now() < deadline) {
    const { items } = (await app.inject({ url: '/v1/engines?state=live' })).json<{
      items: Engine[]
    }>()
    kept = items.find((e) => e.startedBy === 'policy' && e.state === 'ready')
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  t.ok(kept, 'the policy minimum started an engine ahead of any job')
  t.equal((await engineOf(app, started!.id)).state, 'stopped', 'after the first one stopped')
  t.equal((await policy({ min: 0, max: 1, idleSeconds: 600 })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/engines/${kept!.id}` })).statusCode, 202)
  t.equal((await untilEngine(app, kept!.id, ['stopped', 'failed'])).state, 'stopped')
})

t.test(
  'on YARN (cluster mode): the engine is an application of the tenant’s user in its queue',
  async (t) => {
    const { app } = await gateway(t, { ...ON_YARN })
    const tenant = tenantOf(app)
    killAppsAtEnd(t, tenant.id)
    const data = await uploadCsv(app, 'churn.csv', churn(300))
    const job = await finished(
      app,
      await submitted(t, app, {
        engine: 'warm',
        training: { dataset: data.id, label: 'label', algorithm: 'logistic_regression' },
      }),
      400_000,
    )
    t.equal(job.state, 'succeeded', JSON.stringify(job.error))
    const engineId = job.backendRef?.engine
    t.ok(engineId, 'ran in an engine')
    const engine = await engineOf(app, engineId!)
    t.match(engine.appId, /^application_/, 'a YARN application')
    const rm = await rmApp(engine.appId!)
    t.equal(rm.user, tenant.id, "as the tenant's cluster user")
    t.match(rm.queue, /default$/, 'in its queue')
    t.equal(rm.state, 'RUNNING', 'still up for the next job')
    t.equal(
      (await app.inject({ method: 'DELETE', url: `/v1/engines/${engineId}` })).statusCode,
      202,
    )
    t.equal((await untilEngine(app, engineId!, ['stopped', 'failed'])).state, 'stopped')
    const ended = await waitForRmState(engine.appId!, ['FINISHED', 'KILLED', 'FAILED'], 120_000)
    t.equal(ended.finalStatus, 'SUCCEEDED', 'it stopped by itself, asked')
  },
)
