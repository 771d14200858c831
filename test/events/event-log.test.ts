/**
 * The event log on real Redis: every job transition, dataset created or deleted, as one
 * CloudEvent in its tenant's stream, written by the same Lua script as the change;
 * GET /v1/events with filters and cursor; the tenant-wide SSE stream; isolation; retention.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import type { CloudEvent, JobEventData } from '../../src/schemas/events.js'
import { createJob } from '../helpers/jobs.js'
import { readUntil } from '../helpers/sse.js'
import { ADMIN_KEY, bearer, build, makeTenant, tenantOf } from '../helpers/stack.js'

const APP = 'hdfs://127.0.0.1:8020/app.py'

/** Takes a job through a whole run, with one failed attempt retried on the way. */
async function run(app: Awaited<ReturnType<typeof build>>, job: Job) {
  const store = app.jobStore
  await store.transition(job, ['queued'], 'staging')
  await store.transition(job, ['staging'], 'submitting')
  await store.transition(job, ['submitting'], 'submitted', {
    set: { backendRef: { id: 'batch-7' }, attempts: 1 },
  })
  await store.transition(job, ['submitted'], 'queued', {
    via: 'failed',
    reason: 'backend lost it',
    set: { error: { code: 'SPARKGATE_BACKEND_LOST', message: 'gone' } },
  })
  await store.transition(job, ['queued'], 'staging')
  await store.transition(job, ['staging'], 'submitting')
  await store.transition(job, ['submitting'], 'submitted', { set: { attempts: 2 } })
  await store.transition(job, ['submitted'], 'running')
  await store.transition(job, ['running'], 'succeeded', { reason: 'done' })
}

t.test("a job's transitions are CloudEvents in its tenant's log, in order", async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const tenant = tenantOf(app).id
  const job = await createJob(app, { batch: { file: APP } })
  await run(app, job)

  const page = await app.inject({ url: `/v1/events?subject=${job.id}&limit=200` })
  t.equal(page.statusCode, 200)
  const items = page.json<{ items: CloudEvent<JobEventData>[] }>().items
  t.same(
    items.map((e) => [e.data.previousState, e.data.state, e.data.sequence]),
    [
      [null, 'queued', 0],
      ['queued', 'staging', 1],
      ['staging', 'submitting', 2],
      ['submitting', 'submitted', 3],
      ['submitted', 'failed', 4],
      ['failed', 'queued', 5],
      ['queued', 'staging', 6],
      ['staging', 'submitting', 7],
      ['submitting', 'submitted', 8],
      ['submitted', 'running', 9],
      ['running', 'succeeded', 10],
    ],
    'every transition, the retry as failed then queued',
  )
  const first = items[0]!
  t.match(first, {
    specversion: '1.0',
    source: `/sparkgate/${tenant}`,
    type: 'dev.sparkgate.job.queued',
    subject: job.id,
    datacontenttype: 'application/json',
    tenant,
    data: { jobId: job.id, name: job.name, reason: 'accepted', attempt: 0, backend: job.backend },
  })
  t.ok(Date.parse(first.time) > 0)
  t.equal(new Set(items.map((e) => e.id)).size, items.length, 'ids are unique')
  t.same(
    items.map((e) => e.type.replace('dev.sparkgate.job.', '')),
    items.map((e) => e.data.state),
    'the type names the state entered',
  )
  const failed = items[4]!
  t.match(failed.data, {
    reason: 'backend lost it',
    attempt: 1,
    backendRef: { id: 'batch-7' },
    error: { code: 'SPARKGATE_BACKEND_LOST' },
  })
  t.match(items[10]!.data, { reason: 'done', attempt: 2 })

  // the job's own history (GET /v1/jobs/{id}/events) is unchanged
  const history = await app.inject({ url: `/v1/jobs/${job.id}/events` })
  t.equal(history.json().items.length, 11)

  // type filters: exact, several, a prefix
  const typed = await app.inject({
    url: `/v1/events?subject=${job.id}&type=dev.sparkgate.job.failed,dev.sparkgate.job.succeeded`,
  })
  t.same(
    typed.json<{ items: CloudEvent[] }>().items.map((e) => e.type),
    ['dev.sparkgate.job.failed', 'dev.sparkgate.job.succeeded'],
  )
  const prefixed = await app.inject({ url: `/v1/events?type=dev.sparkgate.job.*&limit=200` })
  t.equal(prefixed.json<{ items: CloudEvent[] }>().items.length, 11)
  const none = await app.inject({ url: `/v1/events?type=dev.sparkgate.dataset.*` })
  t.same(none.json().items, [])

  // cursor paging, oldest first: three pages of 4, 4 and 3, then an empty one
  const seen: string[] = []
  let cursor: string | undefined
  for (let i = 0; i < 4; i++) {
    const r = await app.inject({
      url: `/v1/events?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
    })
    const body = r.json<{ items: CloudEvent[]; nextCursor?: string }>()
    seen.push(...body.items.map((e) => e.id))
    t.equal(body.items.length, [4, 4, 3, 0][i])
    t.ok(body.nextCursor, 'a position to carry on from, also at the end')
    cursor = body.nextCursor
  }
  t.same(
    seen,
    items.map((e) => e.id),
    'paging reads each event once, in order',
  )

  // since: a time after everything → nothing
  const later = new Date(Date.now() + 60_000).toISOString()
  t.same((await app.inject({ url: `/v1/events?since=${later}` })).json().items, [])
  const earlier = new Date(Date.now() - 60_000).toISOString()
  t.equal((await app.inject({ url: `/v1/events?since=${earlier}` })).json().items.length, 11)

  // bad queries are 400s naming the field
  for (const q of ['type=job.done', 'cursor=abc', 'since=yesterday', 'limit=0', 'tenant=A!']) {
    const r = await app.inject({ url: `/v1/events?${q}` })
    t.equal(r.statusCode, 400, q)
    t.match(r.json().errors[0].field, /^querystring\./)
  }
})

t.test('datasets created and deleted are events too', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const up = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=events.csv',
    headers: { 'content-type': 'text/csv' },
    payload: `a,b\n1,${Date.now()}\n`,
  })
  t.equal(up.statusCode, 201)
  const id = up.json().id as string
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode, 204)
  const events = (await app.inject({ url: '/v1/events?type=dev.sparkgate.dataset.*' })).json<{
    items: CloudEvent<{ id: string; name: string }>[]
  }>().items
  t.same(
    events.map((e) => [e.type, e.subject, e.data.id, e.data.name]),
    [
      ['dev.sparkgate.dataset.created', id, id, 'events.csv'],
      ['dev.sparkgate.dataset.deleted', id, id, 'events.csv'],
    ],
  )
})

t.test("a tenant never reads another tenant's events", async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const a = tenantOf(app)
  const b = await makeTenant(app)
  const job = await createJob(app, { batch: { file: APP } })

  const asB = await app.inject({ url: '/v1/events', headers: bearer(b.key) })
  t.same(asB.json().items, [], "B's log is empty")
  const bySubject = await app.inject({
    url: `/v1/events?subject=${job.id}`,
    headers: bearer(b.key),
  })
  t.same(bySubject.json().items, [], "naming A's job as subject finds nothing")
  const asked = await app.inject({ url: `/v1/events?tenant=${a.id}`, headers: bearer(b.key) })
  t.equal(asked.statusCode, 403, "a member asking for A's log")
  const admin = await app.inject({ url: `/v1/events?tenant=${a.id}`, headers: bearer(ADMIN_KEY) })
  t.same(
    admin.json<{ items: CloudEvent[] }>().items.map((e) => e.subject),
    [job.id],
    'the platform admin reads any tenant',
  )
  const anonymous = await app.inject({ url: '/v1/events', headers: { authorization: undefined } })
  t.equal(anonymous.statusCode, 401)
})

t.test('the tenant-wide SSE stream: live events, filters, Last-Event-ID resume', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const headers = { accept: 'text/event-stream', ...bearer(tenantOf(app).key) }
  const other = await makeTenant(app)

  const live = await fetch(`${base}/v1/events?type=dev.sparkgate.job.*`, { headers })
  t.equal(live.status, 200)
  t.match(live.headers.get('content-type'), /^text\/event-stream/)
  // another tenant's job must not show up here
  await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: bearer(other.key),
    payload: { batch: { file: APP } },
  })
  const job = await createJob(app, { batch: { file: APP } })
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  const got = await readUntil(live, (events) => events.length >= 2)
  t.same(
    got.map((e) => e.event),
    ['dev.sparkgate.job.queued', 'dev.sparkgate.job.cancelled'],
  )
  const events = got.map((e) => JSON.parse(e.data!) as CloudEvent)
  t.same(
    events.map((e) => e.subject),
    [job.id, job.id],
    "only the tenant's own job",
  )
  t.equal(got[0]!.id, got[0]!.id!.match(/^\d+-\d+$/)?.[0], 'the SSE id is the stream position')

  // resume after the first: only the second comes back (then live, so stop reading there)
  const resumed = await fetch(`${base}/v1/events`, {
    headers: { ...headers, 'last-event-id': got[0]!.id! },
  })
  const rest = await readUntil(resumed, (e) => e.length >= 1)
  t.same(
    rest.map((e) => (JSON.parse(e.data!) as CloudEvent).id),
    [events[1]!.id],
  )
  // since: replays from a time
  const since = new Date(Date.now() - 60_000).toISOString()
  const replay = await fetch(`${base}/v1/events?since=${since}&subject=${job.id}`, { headers })
  const all = await readUntil(replay, (e) => e.length >= 2)
  t.same(
    all.map((e) => (JSON.parse(e.data!) as CloudEvent).id),
    events.map((e) => e.id),
  )
})

t.test('open streams are fed by one blocking read, not a poll per stream', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_MAX_EVENT_STREAMS: 100 })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const headers = { accept: 'text/event-stream', ...bearer(tenantOf(app).key) }
  const job = await createJob(app, { batch: { file: APP } })
  const streams = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      fetch(`${base}/v1/${i % 2 ? 'events' : `jobs/${job.id}/events`}`, { headers }),
    ),
  )
  const before = app.eventHub.stats()
  t.equal(before.listeners, 30)
  t.equal(before.streams, 1, "one tenant's stream followed once")
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const idle = app.eventHub.stats().reads - before.reads
  t.ok(idle <= 1, `idle for 1.5 s with 30 streams: ${idle} reads of Redis`)
  // one change reaches every stream
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  const seen = await Promise.all(
    streams.map((s, i) =>
      readUntil(s, (e) =>
        e.some((x) => (i % 2 ? x.event === 'dev.sparkgate.job.cancelled' : x.event === 'end')),
      ),
    ),
  )
  t.equal(seen.length, 30)
  t.ok(app.eventHub.stats().reads - before.reads <= 4, 'a handful of reads for 30 streams')
})

t.test('events older than the retention are trimmed as new ones come', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_EVENTS_RETENTION: '1s' })
  const old = await createJob(app, { batch: { file: APP } })
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const fresh = await createJob(app, { batch: { file: APP } })
  const subjects = (await app.inject({ url: '/v1/events' }))
    .json<{ items: CloudEvent[] }>()
    .items.map((e) => e.subject)
  t.same(subjects, [fresh.id], 'the older event is gone')
  t.equal(
    (await app.inject({ url: `/v1/jobs/${old.id}/events` })).json().items.length,
    1,
    "the job's own history stays",
  )
})
