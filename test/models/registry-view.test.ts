/**
 * /v1/models as a view of the real MLflow registry (and of Redis with tracking off): a
 * tenant's models with versions, run metrics, dataset and job; aliases set, moved and
 * removed; invalid alias names and unknown versions refused; another tenant sees nothing
 * and can alias nothing. Training output (metrics.json and a model folder) is written to
 * HDFS directly and the success step called: no Spark run is needed.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { Job } from '../../src/domain/job-schema.js'
import {
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  makeKey,
  makeTenant,
  tenantOf,
  uniqueId,
} from '../helpers/stack.js'
import type { TrainingSpec } from '../../src/kinds/training/spec.js'
import { mlflowOf, versionsOf } from '../helpers/models.js'
import { succeededTrainingJob } from '../helpers/training.js'

type Tap = Parameters<typeof hdfsTestDir>[0]
const hdfs = hdfsClient()

interface VersionView {
  name: string
  version: number
  jobId: string
  runId: string | null
  datasetId: string | null
  dataset: string | null
  algorithm: string
  params: Record<string, unknown>
  metrics: Record<string, number>
  modelUri: string
  createdAt: string
  aliases: string[]
}
interface ModelView {
  name: string
  versions: VersionView[]
  aliases: Record<string, number>
}

/** A training job of `model` whose application succeeded (its output on HDFS). */
function succeeded(app: App, root: string, model: string, accuracy: number): Promise<Job> {
  return succeededTrainingJob(
    app,
    root,
    {
      dataset: { uri: 'hdfs://127.0.0.1:8020/data/churn.csv', format: 'csv' },
      label: 'churned',
      features: ['tenure'],
      algorithm: 'logistic_regression',
      params: { regParam: 0.1, maxIter: 20 },
      modelName: model,
    },
    {
      task: 'classification',
      algorithm: 'logistic_regression',
      metrics: { accuracy, f1: accuracy - 0.01 },
      rows: { total: 100, used: 100, train: 80, test: 20 },
      warnings: [],
    },
  )
}

/** The same, through the success step (registered and tracked). */
async function trained(app: App, root: string, model: string, accuracy: number): Promise<Job> {
  const job = await succeeded(app, root, model, accuracy)
  await app.jobResults.beforeSucceeded(job)
  return job
}

/** An app of a fresh tenant (tracking on unless overridden) and a unique model name. */
async function setup(t: Tap, overrides: Record<string, string> = {}) {
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, ...overrides })
  return { app, root, model: uniqueId('model') }
}

/** The model's `model.version.registered` events: [jobId, version, runId] each. */
async function registeredEvents(app: App, model: string) {
  const r = await app.inject({
    url: `/v1/events?type=dev.sparkgate.model.version.registered&subject=${encodeURIComponent(model)}`,
  })
  return r
    .json<{ items: { data: VersionView }[] }>()
    .items.map((e) => [e.data.jobId, e.data.version, e.data.runId ?? null])
}

const getModel = async (app: App, name: string, headers = {}) =>
  app.inject({ method: 'GET', url: `/v1/models/${name}`, headers })
const putAlias = (app: App, name: string, alias: string, version: unknown, headers = {}) =>
  app.inject({
    method: 'PUT',
    url: `/v1/models/${name}/aliases/${alias}`,
    headers,
    payload: { version },
  })
const deleteAlias = (app: App, name: string, alias: string, headers = {}) =>
  app.inject({ method: 'DELETE', url: `/v1/models/${name}/aliases/${alias}`, headers })
const deleteVersion = (app: App, name: string, version: number | string, headers = {}) =>
  app.inject({ method: 'DELETE', url: `/v1/models/${name}/versions/${version}`, headers })

t.test(
  'the models of a tenant, from MLflow: versions with run, metrics, dataset, job',
  async (t) => {
    const { app, root, model } = await setup(t)
    const first = await trained(app, root, model, 0.8)
    const second = await trained(app, root, model, 0.9)
    const tracked = await mlflowOf(app)!.runOf(second.id)
    t.ok(tracked, 'tracked in MLflow')

    const r = await getModel(app, model)
    t.equal(r.statusCode, 200, r.body)
    const m = r.json<ModelView>()
    t.equal(m.name, model, 'the name without the tenant prefix')
    t.same(m.aliases, {})
    t.same(
      m.versions.map((v) => [v.version, v.jobId]),
      [
        [1, first.id],
        [2, second.id],
      ],
      'oldest first, each with its job',
    )
    const v2 = m.versions[1]!
    t.equal(v2.runId, tracked!.runId)
    t.equal(v2.name, model)
    t.match(v2.metrics, { accuracy: 0.9, f1: 0.89, 'rows.train': 80 })
    t.equal(v2.dataset, 'hdfs://127.0.0.1:8020/data/churn.csv')
    t.equal(v2.datasetId, null, 'a dataset named by URI has no id')
    t.equal(v2.algorithm, 'logistic_regression')
    t.same(v2.params, { regParam: 0.1, maxIter: 20 })
    t.match(v2.modelUri, new RegExp(`/tenants/${tenantOf(app).id}/runs/${second.id}/model$`))
    t.ok(Date.parse(v2.createdAt) > Date.parse('2026-01-01'), 'MLflow creation time')
    t.same(v2.aliases, [])

    const list = await app.inject({ url: '/v1/models' })
    t.equal(list.statusCode, 200, list.body)
    const items = list.json<{ items: { name: string; versions: number; latest: VersionView }[] }>()
      .items
    t.same(
      items.map((i) => [i.name, i.versions, i.latest.version, i.latest.jobId]),
      [[model, 2, 2, second.id]],
    )
    t.equal(items[0]!.latest.metrics['accuracy'], 0.9)
  },
)

t.test(
  "one number per version, MLflow's: the view, the job's MLflow ids and scoring agree when MLflow numbered jobs out of order",
  async (t) => {
    const { app, root, model } = await setup(t, { SPARKGATE_ROLES: 'api' })
    // A succeeds while MLflow is down: the Redis registry only (version 1 there) …
    const a = await succeeded(app, root, model, 0.7)
    await versionsOf(app).register({
      tenant: a.tenant,
      jobId: a.id,
      jobName: a.name,
      spec: a.spec.training as TrainingSpec,
    })
    t.equal(await versionsOf(app).versionOf(a.id), 1)
    // … B succeeds with MLflow up (Redis 2, MLflow 1), then the repair pass tracks A (MLflow 2)
    const b = await succeeded(app, root, model, 0.9)
    await app.jobResults.beforeSucceeded(b)
    await app.jobResults.beforeSucceeded(a)
    t.equal((await mlflowOf(app)!.runOf(b.id))?.modelVersion, 1)
    t.equal((await mlflowOf(app)!.runOf(a.id))?.modelVersion, 2)

    await app.jobResults.beforeSucceeded(b) // a step run again changes nothing
    const view = (await getModel(app, model)).json<ModelView>()
    t.same(
      view.versions.map((v) => [v.version, v.jobId]),
      [
        [1, b.id],
        [2, a.id],
      ],
      "the view numbers by MLflow's registry",
    )
    t.same(
      await registeredEvents(app, model),
      [
        [b.id, 1, view.versions[0]!.runId],
        [a.id, 2, view.versions[1]!.runId],
      ],
      "the events too: one per version, with MLflow's number and run, when MLflow has it",
    )
    const score = async (ref: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: {
          scoring: {
            model: ref,
            dataset: { uri: 'hdfs://127.0.0.1:8020/data/x.csv', format: 'csv' },
          },
        },
      })
    const resolved = async (ref: string) => {
      const r = await score(ref)
      t.equal(r.statusCode, 202, r.body)
      return r.json<{ spec: { scoring: { resolved: { version: number; uri: string } } } }>().spec
        .scoring.resolved
    }
    const uriOf = (job: Job) => view.versions.find((v) => v.jobId === job.id)!.modelUri
    t.same(await resolved(`${model}/1`), { name: model, version: 1, uri: uriOf(b) }, 'v1 is B')
    t.same(await resolved(`${model}/2`), { name: model, version: 2, uri: uriOf(a) }, 'v2 is A')
    t.same(await resolved(model), { name: model, version: 2, uri: uriOf(a) }, 'the newest: 2')
    const none = await score(`${model}/3`)
    t.equal(none.statusCode, 404)
    t.equal(none.json().code, 'SPARKGATE_MODEL_NOT_FOUND')
    const huge = await score(`${model}/999999999`)
    t.equal(huge.statusCode, 404, huge.body)
  },
)

t.test('an alias is set, shown, moved and removed', async (t) => {
  const { app, root, model } = await setup(t)
  await trained(app, root, model, 0.8)
  await trained(app, root, model, 0.9)

  const set = await putAlias(app, model, 'champion', 1)
  t.equal(set.statusCode, 200, set.body)
  const m = set.json<ModelView>()
  t.same(m.aliases, { champion: 1 }, 'on the model')
  t.same(
    m.versions.map((v) => v.aliases),
    [['champion'], []],
    'on the version',
  )
  await putAlias(app, model, 'challenger', 2)

  const moved = await putAlias(app, model, 'champion', 2)
  t.equal(moved.statusCode, 200)
  t.same(moved.json<ModelView>().aliases, { champion: 2, challenger: 2 }, 'moved to v2')
  t.same(
    moved.json<ModelView>().versions.map((v) => v.aliases),
    [[], ['challenger', 'champion']],
  )
  const list = (await app.inject({ url: '/v1/models' })).json<{
    items: { aliases: Record<string, number>; latest: VersionView }[]
  }>()
  t.same(list.items[0]!.aliases, { champion: 2, challenger: 2 }, 'in the list too')
  t.same(list.items[0]!.latest.aliases, ['challenger', 'champion'])

  const removed = await deleteAlias(app, model, 'champion')
  t.equal(removed.statusCode, 204)
  t.same((await getModel(app, model)).json<ModelView>().aliases, { challenger: 2 })
  const again = await deleteAlias(app, model, 'champion')
  t.equal(again.statusCode, 404, 'an alias not set')
  t.equal(again.json().code, 'SPARKGATE_ALIAS_NOT_FOUND')
  t.equal((await deleteAlias(app, model, 'constructor')).statusCode, 404, 'no inherited names')

  const audit = await app.inject({
    url: '/v1/audit',
    headers: bearer(app.config.SPARKGATE_ADMIN_KEY),
  })
  const actions = audit
    .json<{ items: { action: string; target: string }[] }>()
    .items.filter((e) => e.target.startsWith(`model/${model}/`))
    .map((e) => e.action)
  t.same(actions.sort(), [
    'model.alias.delete',
    'model.alias.set',
    'model.alias.set',
    'model.alias.set',
  ])
})

t.test('a version is deleted: gone from the view, its aliases and scoring', async (t) => {
  const { app, root, model } = await setup(t, { SPARKGATE_ROLES: 'api' })
  const first = await trained(app, root, model, 0.8)
  await trained(app, root, model, 0.9)
  t.equal((await putAlias(app, model, 'champion', 1)).statusCode, 200)

  const viewer = await makeKey(app, tenantOf(app).id, 'viewer')
  t.equal((await deleteVersion(app, model, 1, bearer(viewer))).statusCode, 403, 'not a viewer')
  const b = await makeTenant(app)
  const other = await deleteVersion(app, model, 1, bearer(b.key))
  t.equal(other.statusCode, 404, 'nor another tenant')
  t.equal(other.json().code, 'SPARKGATE_MODEL_NOT_FOUND')

  const deleted = await deleteVersion(app, model, 1)
  t.equal(deleted.statusCode, 204, deleted.body)
  const m = (await getModel(app, model)).json<ModelView>()
  t.same(
    m.versions.map((v) => v.version),
    [2],
    'the other keeps its number',
  )
  t.same(m.aliases, {}, 'the alias went with it')
  const again = await deleteVersion(app, model, 1)
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'SPARKGATE_MODEL_VERSION_NOT_FOUND')
  t.equal((await deleteVersion(app, `${model}-nope`, 1)).statusCode, 404)
  t.equal((await deleteVersion(app, model, 0)).statusCode, 400, 'versions start at 1')

  const score = (ref: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: {
        scoring: { model: ref, dataset: { uri: 'hdfs://127.0.0.1:8020/x.csv', format: 'csv' } },
      },
    })
  t.equal((await score(`${model}/1`)).statusCode, 404, 'no longer scored')
  t.equal((await score(`${model}@champion`)).statusCode, 404)
  t.equal((await score(`${model}/2`)).statusCode, 202)
  // the job's run and files stay: its result still names what it became
  t.equal((await mlflowOf(app)!.runOf(first.id))?.modelVersion, 1)
  t.ok(await hdfs.getFileStatus(`${root}/tenants/${tenantOf(app).id}/runs/${first.id}/model`))
  // and the repair pass does not bring it back
  await app.jobResults.repair()
  t.same(
    (await getModel(app, model)).json<ModelView>().versions.map((v) => v.version),
    [2],
  )
  const audit = await app.inject({
    url: '/v1/audit',
    headers: bearer(app.config.SPARKGATE_ADMIN_KEY),
  })
  t.ok(
    audit
      .json<{ items: { action: string; target: string }[] }>()
      .items.some(
        (e) => e.action === 'model.version.delete' && e.target === `model/${model}/versions/1`,
      ),
    'audited',
  )

  // with tracking off there is nothing to delete it from
  const off = await setup(t, { SPARKGATE_MLFLOW_URL: 'none', SPARKGATE_ROLES: 'api' })
  await trained(off.app, off.root, off.model, 0.8)
  const refused = await deleteVersion(off.app, off.model, 1)
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'SPARKGATE_MLFLOW_OFF')
})

t.test('invalid aliases, unknown versions and models are refused', async (t) => {
  const { app, root, model } = await setup(t)
  await trained(app, root, model, 0.8)

  for (const alias of ['latest', 'LATEST', 'v1', 'V12']) {
    const r = await putAlias(app, model, alias, 1)
    t.equal(r.statusCode, 400, `${alias}: ${r.body}`)
    t.match(r.json().errors, [{ field: 'params.alias', rule: 'reserved' }])
  }
  for (const alias of ['1st', 'a.b', `a${'x'.repeat(64)}`]) {
    const r = await putAlias(app, model, alias, 1)
    t.equal(r.statusCode, 400, alias)
    t.match(r.json().errors, [{ field: 'params.alias', rule: 'pattern' }])
  }
  const badVersion = await putAlias(app, model, 'champion', 0)
  t.equal(badVersion.statusCode, 400)
  t.match(badVersion.json().errors, [{ field: 'body.version' }])

  const unknownVersion = await putAlias(app, model, 'champion', 7)
  t.equal(unknownVersion.statusCode, 404, unknownVersion.body)
  t.equal(unknownVersion.json().code, 'SPARKGATE_MODEL_VERSION_NOT_FOUND')
  t.match(unknownVersion.headers['content-type'], /^application\/problem\+json/)
  const unknownModel = await putAlias(app, `${model}-nope`, 'champion', 1)
  t.equal(unknownModel.statusCode, 404)
  t.equal(unknownModel.json().code, 'SPARKGATE_MODEL_NOT_FOUND')
  t.equal((await getModel(app, `${model}-nope`)).statusCode, 404)
  t.equal((await deleteAlias(app, `${model}-nope`, 'champion')).statusCode, 404)
})

t.test("a model named after a job name with ':' (MLflow refuses it in a name)", async (t) => {
  const { app, root, model } = await setup(t)
  const job = await succeededTrainingJob(
    app,
    root,
    {
      dataset: { uri: 'hdfs://127.0.0.1:8020/data/churn.csv', format: 'csv' },
      label: 'churned',
      algorithm: 'logistic_regression',
    },
    { task: 'classification', algorithm: 'logistic_regression', metrics: { accuracy: 0.8 } },
  )
  const name = `${model}:v2`
  await app.jobResults.beforeSucceeded({ ...job, name })
  t.match(await mlflowOf(app)?.runOf(job.id), {
    registeredModel: `${tenantOf(app).id}.${model}%3Av2`,
    modelVersion: 1,
  })
  const list = await app.inject('/v1/models')
  t.match(list.json<{ items: { name: string }[] }>().items, [{ name }], 'listed by its own name')
  const set = await putAlias(app, encodeURIComponent(name), 'champion', 1)
  t.equal(set.statusCode, 200, set.body)
  t.match((await getModel(app, encodeURIComponent(name))).json(), {
    name,
    aliases: { champion: 1 },
  })
  // an alias of a name MLflow could not hold: unknown, not a server error
  const scoring = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { scoring: { model: 'Q:nothing@mSW', dataset: 'a'.repeat(64) } },
  })
  t.equal(scoring.statusCode, 404, scoring.body)
  t.equal(scoring.json().code, 'SPARKGATE_MODEL_NOT_FOUND')
})

t.test("another tenant can neither see nor alias a tenant's model", async (t) => {
  const { app, root, model } = await setup(t)
  await trained(app, root, model, 0.8)
  t.equal((await putAlias(app, model, 'champion', 1)).statusCode, 200)
  const b = await makeTenant(app)
  const as = bearer(b.key)

  const read = await getModel(app, model, as)
  t.equal(read.statusCode, 404)
  t.equal(read.json().code, 'SPARKGATE_MODEL_NOT_FOUND')
  t.same((await app.inject({ url: '/v1/models', headers: as })).json().items, [])
  const set = await putAlias(app, model, 'stolen', 1, as)
  t.equal(set.statusCode, 404, 'as if it did not exist')
  t.equal(set.json().code, 'SPARKGATE_MODEL_NOT_FOUND')
  t.equal((await deleteAlias(app, model, 'champion', as)).statusCode, 404)
  t.same((await getModel(app, model)).json<ModelView>().aliases, { champion: 1 }, 'untouched')

  // a viewer reads but does not write; a member of another tenant may not name it
  const viewer = await makeKey(app, tenantOf(app).id, 'viewer')
  t.equal((await getModel(app, model, bearer(viewer))).statusCode, 200)
  const denied = await putAlias(app, model, 'champion', 1, bearer(viewer))
  t.equal(denied.statusCode, 403)
  const named = await app.inject({
    url: `/v1/models?tenant=${tenantOf(app).id}`,
    headers: as,
  })
  t.equal(named.statusCode, 403, 'only the platform admin names a tenant')
  const admin = await app.inject({
    url: `/v1/models/${model}?tenant=${tenantOf(app).id}`,
    headers: bearer(app.config.SPARKGATE_ADMIN_KEY),
  })
  t.equal(admin.statusCode, 200, admin.body)
  t.same(admin.json<ModelView>().aliases, { champion: 1 })
})

t.test('tracking off: the Redis registry in the same shape; aliases refused', async (t) => {
  const { app, root, model } = await setup(t, { SPARKGATE_MLFLOW_URL: 'none' })
  const job = await trained(app, root, model, 0.8)

  const r = await getModel(app, model)
  t.equal(r.statusCode, 200, r.body)
  const m = r.json<ModelView>()
  t.same(m.aliases, {})
  t.match(m.versions, [
    { version: 1, jobId: job.id, runId: null, aliases: [], metrics: { accuracy: 0.8 } },
  ])
  const list = (await app.inject({ url: '/v1/models' })).json()
  t.match(list.items, [{ name: model, versions: 1, aliases: {}, latest: { runId: null } }])
  t.same(await registeredEvents(app, model), [[job.id, 1, null]], 'the event: the registry’s')

  for (const res of [
    await putAlias(app, model, 'champion', 1),
    await deleteAlias(app, model, 'champion'),
  ]) {
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'SPARKGATE_MLFLOW_OFF')
    t.match(res.json().detail, /SPARKGATE_MLFLOW_URL=none/)
  }
})

t.test('MLflow down: the view answers 503, not a stale or empty list', async (t) => {
  const { app } = await setup(t, { SPARKGATE_MLFLOW_URL: 'http://127.0.0.1:9' })
  const r = await app.inject({ url: '/v1/models' })
  t.equal(r.statusCode, 503)
  t.equal(r.json().code, 'SPARKGATE_MLFLOW_UNAVAILABLE')
})

t.test('the CLI sets and removes an alias, and deletes a version', async (t) => {
  const { app, root, model } = await setup(t)
  await trained(app, root, model, 0.8)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SPARKGATE_')),
  )
  const env = { ...base, SPARKGATE_URL: url, SPARKGATE_API_KEY: tenantOf(app).key }
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli/bin.js', ...args], { env })
  const set = await cli('models', 'alias', 'set', model, 'champion', '1')
  t.match(set.stdout, `${model}@champion → version 1`)
  const show = await cli('models', 'show', model)
  t.match(show.stdout, /champion/)
  const rm = await cli('models', 'alias', 'rm', model, 'champion')
  t.match(rm.stdout, `removed ${model}@champion`)
  t.same((await getModel(app, model)).json<ModelView>().aliases, {})
  const deleted = await cli('models', 'rm', model, '1', '--json')
  t.same(JSON.parse(deleted.stdout), { name: model, version: 1, deleted: true })
  t.same((await getModel(app, model)).json<ModelView>().versions, [])
})
