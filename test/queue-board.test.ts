/**
 * Bull Board at /admin/queues on the real Redis: the platform admin only (HTTP Basic, the
 * key as password, so a browser asks for it), the gateway's queues — submit per backend,
 * the tracker's, one per webhook — read-only by default, and not part of the OpenAPI
 * document.
 */
import t from 'tap'
import { createJob } from './helpers/jobs.js'
import { ADMIN_KEY, build, tenantOf } from './helpers/stack.js'

const basic = (key: string) => ({
  authorization: `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`,
})

interface BoardQueue {
  name: string
  readOnlyMode: boolean
  counts: Record<string, number>
}

t.test('the queue board: admin only, every queue of the gateway, read-only', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_KAFKA_BROKERS: 'none' })
  const none = await app.inject({ url: '/admin/queues', headers: { authorization: undefined } })
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /^Basic realm="sparkgate admin"/, 'a browser asks')
  t.match(none.headers['content-type'], /^application\/problem\+json/)
  const member = await app.inject({ url: '/admin/queues', headers: basic(tenantOf(app).key) })
  t.equal(member.statusCode, 403, 'a member key is not enough')
  t.equal(member.json().code, 'SPARKGATE_FORBIDDEN')
  const wrong = await app.inject({ url: '/admin/queues', headers: basic('sgk_nope') })
  t.equal(wrong.statusCode, 401)

  const page = await app.inject({ url: '/admin/queues', headers: basic(ADMIN_KEY) })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, '<title>Sparkgate queues</title>')

  // a queued job and a webhook: both show up
  await createJob(app, { backend: 'livy', batch: { file: 'hdfs://127.0.0.1:8020/app.py' } })
  const hook = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    payload: { url: 'https://example.com/hooks' },
  })
  const webhookId = hook.json<{ webhook: { id: string } }>().webhook.id
  const api = await app.inject({
    url: '/admin/queues/api/queues?activeQueue=submit-livy&status=latest&page=1&jobsPerPage=10',
    headers: basic(ADMIN_KEY),
  })
  t.equal(api.statusCode, 200)
  const queues = api.json<{ queues: BoardQueue[] }>().queues
  const names = queues.map((q) => q.name)
  for (const name of ['submit-livy', 'tracker', `webhook-${webhookId}`])
    t.ok(names.includes(name), `${name} is on the board`)
  const submit = queues.find((q) => q.name === 'submit-livy')!
  t.equal(
    Object.values(submit.counts).reduce((a, b) => a + b, 0),
    1,
    'the queued job is counted',
  )
  t.ok(
    queues.every((q) => q.readOnlyMode),
    'read-only by default',
  )
  const clean = await app.inject({
    method: 'PUT',
    url: '/admin/queues/api/queues/submit-livy/clean/waiting',
    headers: basic(ADMIN_KEY),
  })
  t.not(clean.statusCode, 200, 'a write is refused in read-only mode')

  const doc = app.swagger() as { paths: Record<string, unknown> }
  t.same(
    Object.keys(doc.paths).filter((p) => p.startsWith('/admin')),
    [],
    'not in the OpenAPI document',
  )
})
