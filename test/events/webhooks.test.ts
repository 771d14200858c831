/**
 * Webhooks on the real stack: a real Spark job on the real Livy, its transitions POSTed
 * in order and signed (checked with the reference `standardwebhooks` library); a receiver
 * that is down → retries → dead-letter queue → back → replay → each event delivered once;
 * 410 disables; ordering under retries; tenants apart; the API's refusals.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Webhook as Verifier } from 'standardwebhooks'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { CloudEvent, JobEventData } from '../../src/schemas/events.js'
import { createJob, getJob, stage, waitForState } from '../helpers/jobs.js'
import {
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  makeTenant,
  tenantOf,
  testConfig,
} from '../helpers/stack.js'

interface Received {
  headers: IncomingMessage['headers']
  body: string
  status: number
}

/** A receiver on loopback whose answer the test sets per request. */
async function receiver(t: { teardown: (fn: () => unknown) => void }) {
  const got: Received[] = []
  let answer: (r: Omit<Received, 'status'>, n: number) => number = () => 204
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      const status = answer(r, got.length)
      got.push({ ...r, status })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  server.unref()
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    answer(fn: typeof answer) {
      answer = fn
    },
    /** the events received with a 2xx, in arrival order */
    delivered() {
      return got
        .filter((r) => r.status < 300)
        .map((r) => JSON.parse(r.body) as CloudEvent<JobEventData>)
    },
  }
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function createWebhook(app: App, body: object, headers: Record<string, string> = {}) {
  const r = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: body, headers })
  if (r.statusCode !== 201) throw new Error(`POST /v1/webhooks: ${r.statusCode} ${r.body}`)
  return r.json<{ webhook: { id: string }; secret: string }>()
}

/** A job recorded straight in the store (no submission): the test moves it itself. */
async function bareJob(app: App, name = 'hooked') {
  const id = randomUUID()
  const created = await app.jobStore.create(
    id,
    { name, batch: { file: 'hdfs://127.0.0.1:8020/app.py' } },
    { tenant: tenantOf(app).id, maxActive: 1000, backend: 'livy' },
  )
  if (!('job' in created)) throw new Error('over quota')
  return created.job
}

const FAST = {
  SPARKGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
  SPARKGATE_WEBHOOK_BACKOFF_MS: 50,
  SPARKGATE_WEBHOOK_MAX_ATTEMPTS: 3,
  SPARKGATE_KAFKA_BROKERS: 'none',
} as const

t.test('a real job’s transitions arrive in order, signed', async (t) => {
  const config = testConfig()
  const app = await build(t, {
    ...FAST,
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
  })
  const hook = await receiver(t)
  const { webhook, secret } = await createWebhook(app, {
    url: hook.url,
    types: ['dev.sparkgate.job.*'],
  })
  t.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a Standard Webhooks secret')
  t.match(webhook.id, /^wh_[0-9a-f]{32}$/)

  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const example = fileURLToPath(new URL('../../jobs/examples/line_stats.py', import.meta.url))
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, example, `${dir}/ls.py`)
  await hdfs.create(`${dir}/in.txt`, Buffer.from('a b\nc\n'))
  const job = await createJob(app, {
    batch: {
      file,
      args: [
        `${config.SPARKGATE_HDFS_DEFAULT_FS}${dir}/in.txt`,
        `${config.SPARKGATE_HDFS_DEFAULT_FS}${dir}/out`,
      ],
    },
  })
  const done = await waitForState((id) => getJob(app, id), job.id, ['succeeded', 'failed'])
  t.equal(done.state, 'succeeded', 'the job ran on Livy')
  await until('the succeeded event', () =>
    hook.delivered().some((e) => e.type === 'dev.sparkgate.job.succeeded'),
  )
  const states = hook.delivered().map((e) => e.data.state)
  t.same(states, ['queued', 'staging', 'submitting', 'submitted', 'running', 'succeeded'])
  const verifier = new Verifier(secret)
  for (const r of hook.got) {
    t.equal(r.headers['content-type'], 'application/cloudevents+json')
    const e = JSON.parse(r.body) as CloudEvent<JobEventData>
    t.equal(r.headers['webhook-id'], e.id, 'webhook-id is the event id')
    t.doesNotThrow(
      () =>
        verifier.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }),
      `signature of ${e.type} verifies`,
    )
    t.equal(e.subject, job.id)
    t.equal(e.tenant, tenantOf(app).id)
  }
  t.throws(() =>
    new Verifier(secret).verify(hook.got[0]!.body.replace('queued', 'running'), {
      'webhook-id': String(hook.got[0]!.headers['webhook-id']),
      'webhook-timestamp': String(hook.got[0]!.headers['webhook-timestamp']),
      'webhook-signature': String(hook.got[0]!.headers['webhook-signature']),
    }),
  )
  const delivered = await app.inject({
    url: `/v1/webhooks/${webhook.id}/deliveries?status=delivered`,
  })
  t.equal(delivered.json().items.length, 6)
  t.match(delivered.json().items[0], { status: 'delivered', attempts: 1, lastStatusCode: 204 })
})

t.test('receiver down → retries → dead; back → replay → each event delivered once', async (t) => {
  const app = await build(t, { ...FAST, SPARKGATE_ROLES: 'api,worker' })
  const hook = await receiver(t)
  hook.answer(() => 503)
  const { webhook } = await createWebhook(app, { url: hook.url })
  const job = await bareJob(app)
  await app.jobStore.transition(job, ['queued'], 'staging')
  await app.jobStore.transition(job, ['staging'], 'cancelled', { reason: 'test' })

  const deliveries = (status: string) =>
    app.inject({ url: `/v1/webhooks/${webhook.id}/deliveries?status=${status}` }).then(
      (r) =>
        r.json<{
          items: { id: string; attempts: number; lastStatusCode: number; lastError: string }[]
        }>().items,
    )
  const dead = await until('three dead deliveries', async () => {
    const d = await deliveries('dead')
    return d.length === 3 ? d : undefined
  })
  for (const d of dead) t.match(d, { attempts: 3, lastStatusCode: 503, lastError: 'HTTP 503' })
  t.equal(hook.got.length, 9, 'three tries each')
  const ids = hook.got.map((r) => r.headers['webhook-id'])
  t.equal(new Set(ids).size, 3, 'the same webhook-id on every try of an event')
  t.same(await deliveries('pending'), [])

  hook.answer(() => 200)
  const one = await app.inject({
    method: 'POST',
    url: `/v1/webhooks/${webhook.id}/deliveries/${dead[0]!.id}/replay`,
  })
  t.equal(one.statusCode, 202)
  await until('the replayed one', async () => (await deliveries('delivered')).length === 1)
  const all = await app.inject({ method: 'POST', url: `/v1/webhooks/${webhook.id}/replay` })
  t.same(all.json(), { replayed: 2 })
  await until('all delivered', async () => (await deliveries('delivered')).length === 3)
  // nothing more comes: each event delivered exactly once
  await new Promise((resolve) => setTimeout(resolve, 500))
  const ok = hook.got.filter((r) => r.status === 200).map((r) => r.headers['webhook-id'])
  t.equal(ok.length, 3)
  t.equal(new Set(ok).size, 3, 'each event once')
  t.same(await deliveries('dead'), [])
  const again = await app.inject({
    method: 'POST',
    url: `/v1/webhooks/${webhook.id}/deliveries/nope/replay`,
  })
  t.equal(again.statusCode, 404)
})

t.test('a job’s events stay in order while one is retried', async (t) => {
  const app = await build(t, { ...FAST, SPARKGATE_ROLES: 'api,worker' })
  const hook = await receiver(t)
  // every event fails its first two tries
  const tries = new Map<string, number>()
  hook.answer((r) => {
    const id = String(r.headers['webhook-id'])
    tries.set(id, (tries.get(id) ?? 0) + 1)
    return tries.get(id)! <= 2 ? 500 : 200
  })
  await createWebhook(app, { url: hook.url })
  const jobs = [await bareJob(app, 'a'), await bareJob(app, 'b')]
  for (const job of jobs) {
    await app.jobStore.transition(job, ['queued'], 'staging')
    await app.jobStore.transition(job, ['staging'], 'submitting')
    await app.jobStore.transition(job, ['submitting'], 'cancelled')
  }
  await until('eight deliveries', () => hook.delivered().length === 8)
  for (const job of jobs) {
    const states = hook
      .delivered()
      .filter((e) => e.subject === job.id)
      .map((e) => e.data.state)
    t.same(states, ['queued', 'staging', 'submitting', 'cancelled'], `job ${job.name} in order`)
  }
})

t.test('410 Gone disables the webhook', async (t) => {
  const app = await build(t, { ...FAST, SPARKGATE_ROLES: 'api,worker' })
  const hook = await receiver(t)
  hook.answer(() => 410)
  const { webhook } = await createWebhook(app, { url: hook.url })
  await bareJob(app)
  const disabled = await until('disabled', async () => {
    const r = (await app.inject({ url: `/v1/webhooks/${webhook.id}` })).json<{ status: string }>()
    return r.status === 'disabled' ? r : undefined
  })
  t.match(disabled, { status: 'disabled', disabledReason: /410/ })
  t.equal(hook.got.length, 1, 'one try, no retries')
  const dead = await app.inject({ url: `/v1/webhooks/${webhook.id}/deliveries?status=dead` })
  t.match(dead.json().items, [{ lastStatusCode: 410, attempts: 1 }])
  // enabled again, a replay delivers it
  hook.answer(() => 200)
  const patch = await app.inject({
    method: 'PATCH',
    url: `/v1/webhooks/${webhook.id}`,
    payload: { status: 'enabled' },
  })
  t.equal(patch.json().status, 'enabled')
  await app.inject({ method: 'POST', url: `/v1/webhooks/${webhook.id}/replay` })
  await until('delivered', () => hook.delivered().length === 1)
})

t.test('tenants apart: B’s webhook never gets A’s events', async (t) => {
  const app = await build(t, { ...FAST, SPARKGATE_ROLES: 'api,worker' })
  const hookA = await receiver(t)
  const hookB = await receiver(t)
  const b = await makeTenant(app)
  await createWebhook(app, { url: hookA.url })
  const { webhook: whB } = await createWebhook(app, { url: hookB.url }, bearer(b.key))
  await bareJob(app)
  await until('A’s event at A', () => hookA.delivered().length === 1)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(hookB.got.length, 0, 'nothing at B')
  const asA = await app.inject({ url: `/v1/webhooks/${whB.id}` })
  t.equal(asA.statusCode, 404, 'A cannot see B’s webhook')
  const listA = await app.inject({ url: '/v1/webhooks' })
  t.equal(listA.json().items.length, 1)
})

t.test('the webhook API: secrets once, refusals, rotation, delete', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_KAFKA_BROKERS: 'none' })
  for (const [url, rule] of [
    ['http://127.0.0.1:9/x', 'private-address'],
    ['https://10.1.2.3/x', 'private-address'],
    ['http://169.254.169.254/latest/meta-data', 'private-address'],
    ['http://localhost/x', 'private-host'],
    ['ftp://example.com/x', 'scheme'],
    ['https://user:pw@example.com/x', 'credentials'],
  ] as const) {
    const r = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { url } })
    t.equal(r.statusCode, 400, url)
    t.match(r.json().errors, [{ field: 'body.url', rule }], url)
  }
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    payload: { url: 'https://example.com/x', types: ['job.done'] },
  })
  t.equal(bad.statusCode, 400)
  const { webhook, secret } = await createWebhook(app, {
    url: 'https://example.com/hooks',
    types: ['dev.sparkgate.job.succeeded'],
  })
  const got = await app.inject({ url: `/v1/webhooks/${webhook.id}` })
  t.notOk('secret' in got.json(), 'no secret on GET')
  t.notMatch(JSON.stringify((await app.inject({ url: '/v1/webhooks' })).json()), secret)
  const rotated = await app.inject({
    method: 'POST',
    url: `/v1/webhooks/${webhook.id}/rotate-secret`,
  })
  t.equal(rotated.statusCode, 200)
  t.not(rotated.json().secret, secret, 'a new secret')
  const viewer = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    payload: { url: 'https://example.com/x' },
    headers: bearer((await makeTenant(app, 'viewer')).key),
  })
  t.equal(viewer.statusCode, 403, 'a viewer cannot create one')
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}` })).statusCode,
    204,
  )
  t.equal((await app.inject({ url: `/v1/webhooks/${webhook.id}` })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/webhooks/wh_nope' })).statusCode, 404)
})

t.test(
  'events handed over twice by the relay are delivered once and hold nothing up',
  async (t) => {
    const app = await build(t, { ...FAST, SPARKGATE_ROLES: 'api,worker' })
    const hook = await receiver(t)
    await createWebhook(app, { url: hook.url })
    const job = await bareJob(app)
    await until('the first event', () => hook.delivered().length === 1)
    // as after a crash between handing a batch over and saving the relay's position
    const tenant = tenantOf(app).id
    const { items } = await app.eventLog.read(tenant, { limit: 10 })
    await app.webhookDeliveries.enqueue(await app.webhooks.list(tenant), items)
    await app.jobStore.transition(job, ['queued'], 'cancelled')
    await until('the next event of the job', () => hook.delivered().length === 2)
    t.same(
      hook.delivered().map((e) => e.data.state),
      ['queued', 'cancelled'],
    )
    t.equal(hook.got.length, 2, 'the repeated event was not sent again')
  },
)
