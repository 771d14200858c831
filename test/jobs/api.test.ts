/**
 * /v1/jobs without running Spark: this gateway has only the api role, so jobs stay
 * queued. Validation, idempotency, listing, cancel of queued jobs, 404s.
 */
import t from 'tap'
import { build } from '../helpers/stack.js'
import { postJob } from '../helpers/jobs.js'

const batch = { file: 'hdfs://127.0.0.1:8020/sparkgate-test/app.py' }

t.test('POST /v1/jobs answers 202 with Location and a queued job', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const r = await postJob(app, {
    name: 'first',
    priority: 2,
    batch: { ...batch, args: ['a', 'b'] },
  })
  t.equal(r.statusCode, 202)
  const job = r.json()
  t.equal(r.headers['location'], `/v1/jobs/${job.id}`)
  t.match(job, {
    name: 'first',
    state: 'queued',
    backend: 'livy',
    backendState: null,
    attempts: 0,
    maxAttempts: 1,
    priority: 2,
    spec: { batch: { file: batch.file, args: ['a', 'b'] } },
  })
  t.ok(Date.parse(job.createdAt))
  const got = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })
  t.equal(got.statusCode, 200)
  t.equal(got.json().id, job.id)
  const events = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events` })).json()
  t.same(
    events.items.map((e: { from: string | null; to: string }) => [e.from, e.to]),
    [[null, 'queued']],
  )
})

t.test('validation errors are 400 problem+json naming the field and the rule', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const cases: [unknown, string, string][] = [
    [{}, 'body', 'oneOf'],
    [{ batch: { file: 'app.py' } }, 'body.batch.file', 'pattern'],
    [{ batch, priority: 11 }, 'body.priority', 'maximum'],
    [{ batch, priority: 'high' }, 'body.priority', 'type'],
    [{ batch, maxAttempts: 0 }, 'body.maxAttempts', 'minimum'],
    [{ batch, resources: { driverMemory: 'lots' } }, 'body.resources.driverMemory', 'pattern'],
    [{ batch: { ...batch, conf: { 'not.spark': 'x' } } }, 'body.batch.conf', 'propertyNames'],
    [{ batch, colour: 'blue' }, 'body.colour', 'additionalProperties'],
  ]
  for (const [body, field, rule] of cases) {
    const r = await postJob(app, body)
    t.equal(r.statusCode, 400, `${field} ${rule}`)
    t.match(r.headers['content-type'], /^application\/problem\+json/)
    const problem = r.json()
    t.equal(problem.code, 'SPARKGATE_VALIDATION')
    t.ok(
      problem.errors.some(
        (e: { field: string; rule: string }) => e.field.startsWith(field) && e.rule === rule,
      ),
      `names ${field} / ${rule}: ${JSON.stringify(problem.errors)}`,
    )
  }
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: '{"batch":',
    headers: { 'content-type': 'application/json' },
  })
  t.equal(bad.statusCode, 400, 'broken JSON is a 400, not a 500')
  t.match(bad.headers['content-type'], /^application\/problem\+json/)
})

t.test('an unknown backend is a 400 naming the configured ones', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const r = await postJob(app, { backend: 'nope', batch })
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SPARKGATE_UNKNOWN_BACKEND')
  t.match(r.json().detail, /configured: livy/)
})

t.test('Idempotency-Key: same body → same job (200); other body → 409', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const headers = { 'idempotency-key': 'key-1' }
  const first = await postJob(app, { name: 'idem', batch }, headers)
  t.equal(first.statusCode, 202)
  const again = await postJob(app, { batch, name: 'idem' }, headers)
  t.equal(again.statusCode, 200, 'a retry returns the job it created')
  t.equal(again.json().id, first.json().id)
  t.equal(again.headers['location'], `/v1/jobs/${first.json().id}`)
  const other = await postJob(app, { name: 'idem', batch, priority: 1 }, headers)
  t.equal(other.statusCode, 409)
  t.equal(other.json().code, 'SPARKGATE_IDEMPOTENCY_CONFLICT')
  const list = (await app.inject({ method: 'GET', url: '/v1/jobs?name=idem' })).json()
  t.equal(list.items.length, 1, 'one job recorded')
  const fresh = await postJob(app, { name: 'idem', batch }, { 'idempotency-key': 'key-2' })
  t.equal(fresh.statusCode, 202, 'another key is another job')
})

t.test('GET /v1/jobs: newest first, filters, cursor pagination', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const ids: string[] = []
  for (let i = 0; i < 7; i++)
    ids.push((await postJob(app, { name: i % 2 ? 'odd' : 'even', batch })).json().id)
  const seen: string[] = []
  let cursor: string | undefined
  for (let page = 0; page < 10; page++) {
    const url = `/v1/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`
    const body = (await app.inject({ method: 'GET', url })).json()
    seen.push(...body.items.map((j: { id: string }) => j.id))
    cursor = body.nextCursor
    if (!cursor) break
  }
  t.same(seen, [...ids].reverse(), 'every job once, newest first')
  const odd = (await app.inject({ method: 'GET', url: '/v1/jobs?name=odd&limit=200' })).json()
  t.equal(odd.items.length, 3)
  const queued = (
    await app.inject({ method: 'GET', url: '/v1/jobs?state=queued&backend=livy' })
  ).json()
  t.equal(queued.items.length, 7)
  const none = (await app.inject({ method: 'GET', url: '/v1/jobs?state=running' })).json()
  t.same(none.items, [])
  t.equal((await app.inject({ method: 'GET', url: '/v1/jobs?limit=201' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/v1/jobs?state=bogus' })).statusCode, 400)
  const badCursor = await app.inject({ method: 'GET', url: '/v1/jobs?cursor=xyz' })
  t.equal(badCursor.statusCode, 400)
  t.equal(badCursor.json().errors[0].field, 'querystring.cursor')
})

t.test('cancel a queued job: 200 cancelled, again 200; unknown ids are 404', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const id = (await postJob(app, { batch })).json().id
  const r = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` })
  t.equal(r.statusCode, 200)
  t.equal(r.json().state, 'cancelled')
  t.ok(r.json().finishedAt)
  const again = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` })
  t.equal(again.statusCode, 200, 'cancel is idempotent')
  const logs = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs` })).json()
  t.same(logs.lines, [])
  const record = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json()
  t.notOk('internals' in record, 'internal staging data is not shown')
  t.notOk(
    Object.keys(record.inputs ?? {}).some((k) => k.startsWith('@')),
    'no magic inputs',
  )
  for (const [method, url] of [
    ['GET', '/v1/jobs/does-not-exist'],
    ['DELETE', '/v1/jobs/does-not-exist'],
    ['GET', '/v1/jobs/does-not-exist/logs'],
    ['GET', '/v1/jobs/does-not-exist/events'],
    // ids of another shape never reach a Redis key (these once answered 500 WRONGTYPE)
    ['GET', `/v1/jobs/${id}:events`],
    ['GET', `/v1/jobs/${id}:events/events`],
    ['DELETE', `/v1/jobs/${id}:events`],
    ['GET', `/v1/jobs/${id}:events/result`],
  ] as const) {
    const nf = await app.inject({ method, url })
    t.equal(nf.statusCode, 404, `${method} ${url}`)
    t.equal(nf.json().code, 'SPARKGATE_JOB_NOT_FOUND')
  }
})
