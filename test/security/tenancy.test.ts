/**
 * Identity and tenancy on the real stack (Redis, HDFS): every /v1 route needs a key;
 * roles × routes give 401/403; another tenant's records are 404s and never listed;
 * revoked keys fail at once; keys are only hashes at rest; the admin API and audit.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import type { App } from '../../src/app.js'
import { ROUTES, fillRoute, routeKey } from '../helpers/routes.js'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsTestDir,
  makeKey,
  makeTenant,
  tenantOf,
} from '../helpers/stack.js'

const CSV = 'x,y\n1,2\n3,4\n'
const admin = bearer(ADMIN_KEY)

async function upload(app: App, headers: Record<string, string>, body = CSV) {
  return app.inject({
    method: 'POST',
    url: '/v1/datasets?name=data.csv',
    headers: { ...headers, 'content-type': 'text/csv' },
    payload: body,
  })
}

/** A tenant with a job, a dataset, an idempotency key: what another tenant must not see. */
async function seed(app: App, key: string) {
  const ds = await upload(app, bearer(key))
  if (ds.statusCode !== 201) throw new Error(ds.body)
  const job = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...bearer(key), 'idempotency-key': 'same-key' },
    payload: { name: 'seeded', batch: { file: `dataset://${ds.json().id}` } },
  })
  if (job.statusCode !== 202) throw new Error(job.body)
  const hook = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(key),
    payload: { url: 'https://example.com/hooks/seeded' },
  })
  if (hook.statusCode !== 201) throw new Error(hook.body)
  return {
    jobId: job.json().id as string,
    datasetId: ds.json().id as string,
    webhookId: hook.json().webhook.id as string,
  }
}

t.test('no key, a malformed, unknown or revoked key: 401 problem+json', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const { id, key } = tenantOf(app)
  for (const [what, headers] of [
    ['no header', { authorization: undefined }],
    ['not Bearer', { authorization: `Basic ${key}` }],
    ['unknown key', bearer(`sgk_${'A'.repeat(32)}`)],
    ['not a key at all', bearer('hello')],
  ] as const) {
    const r = await app.inject({ method: 'GET', url: '/v1/jobs', headers })
    t.equal(r.statusCode, 401, what)
    t.match(r.headers['content-type'], /^application\/problem\+json/)
    t.equal(r.headers['www-authenticate'], 'Bearer realm="sparkgate"')
    t.equal(r.json().code, 'SPARKGATE_UNAUTHENTICATED')
  }
  // health and docs stay open
  for (const url of ['/healthz', '/docs/json'])
    t.equal((await app.inject({ url, headers: { authorization: undefined } })).statusCode, 200)

  // revoked: 401 on the very next call
  const second = await makeKey(app, id, 'member')
  t.equal((await app.inject({ url: '/v1/me', headers: bearer(second) })).statusCode, 200)
  const keys = await app.inject({ url: `/v1/tenants/${id}/keys`, headers: admin })
  const keyId = keys.json().items.find((k: { hint: string }) => second.startsWith(k.hint)).id
  const del = await app.inject({
    method: 'DELETE',
    url: `/v1/tenants/${id}/keys/${keyId}`,
    headers: admin,
  })
  t.equal(del.statusCode, 204)
  const after = await app.inject({ url: '/v1/me', headers: bearer(second) })
  t.equal(after.statusCode, 401, 'revoked at once')
  t.equal((await app.inject({ url: '/v1/me' })).statusCode, 200, 'the other key still works')

  // expired
  const expiresAt = Date.now() + 3000
  const expiring = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${id}/keys`,
    headers: admin,
    payload: { role: 'viewer', expiresAt: new Date(expiresAt).toISOString() },
  })
  t.equal(expiring.statusCode, 201)
  const soon = expiring.json().key as string
  // works until then (a loaded machine may take that long to get here: then not asked)
  const before = await app.inject({ url: '/v1/me', headers: bearer(soon) })
  if (Date.now() < expiresAt - 500) t.equal(before.statusCode, 200)
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 200))
  const expired = await app.inject({ url: '/v1/me', headers: bearer(soon) })
  t.equal(expired.statusCode, 401)
  t.match(expired.json().detail, /expired/)
  const past = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${id}/keys`,
    headers: admin,
    payload: { role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' },
  })
  t.equal(past.statusCode, 400)
  t.equal(past.json().errors[0].field, 'body.expiresAt')
})

t.test('keys: sgk_ prefix, ≥128 random bits, shown once, only hashes at rest', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const { id, key } = tenantOf(app)
  t.match(key, /^sgk_[A-Za-z0-9_-]{32}$/, '24 random bytes (192 bits), base64url')
  const list = await app.inject({ url: `/v1/tenants/${id}/keys`, headers: admin })
  t.equal(list.statusCode, 200)
  t.notMatch(list.body, key, 'the list never shows a key')
  t.notMatch(list.body, /hash/, 'nor its hash')
  t.equal(list.json().items[0].role, 'member')
  // every Redis value under this gateway's prefix: the key never appears, its hash may
  const redis = app.redis
  const prefix = app.config.SPARKGATE_REDIS_PREFIX
  let found = 0
  let scanned = 0
  let cursor = '0'
  do {
    const [next, names] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500)
    cursor = next
    for (const name of names) {
      scanned++
      t.notMatch(name, key)
      const type = await redis.type(name)
      const dump =
        type === 'string'
          ? await redis.get(name)
          : type === 'hash'
            ? JSON.stringify(await redis.hgetall(name))
            : type === 'list'
              ? JSON.stringify(await redis.lrange(name, 0, -1))
              : type === 'set'
                ? JSON.stringify(await redis.smembers(name))
                : ''
      if (dump?.includes(key) || dump?.includes(ADMIN_KEY)) found++
    }
  } while (cursor !== '0')
  t.ok(scanned > 0)
  t.equal(found, 0, 'no Redis value holds a key')
  const hash = createHash('sha256').update(key).digest('hex')
  t.equal(await redis.exists(`${prefix}:apikey:${hash}`), 1, 'its SHA-256 is what is kept')
})

t.test('tenant isolation: every route × another tenant → 404, never listed', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const a = tenantOf(app)
  const b = await makeTenant(app)
  const seeded = await seed(app, a.key)
  for (const route of ROUTES.filter((r) => r.target !== undefined)) {
    const url = fillRoute(route.url, seeded)
    const own = await app.inject({
      method: route.method,
      url,
      headers: bearer(a.key),
      ...(route.payload ? { payload: route.payload } : {}),
    })
    t.not(own.statusCode, 404, `${route.method} ${url}: its own tenant sees it`)
    const other = await app.inject({
      method: route.method,
      url,
      headers: bearer(b.key),
      ...(route.payload ? { payload: route.payload } : {}),
    })
    t.equal(other.statusCode, 404, `${route.method} ${route.url}: another tenant gets 404`)
    t.match(other.json().code, /NOT_FOUND$/, 'as if it did not exist')
  }
  for (const url of ['/v1/jobs', '/v1/datasets', '/v1/models']) {
    const r = await app.inject({ url, headers: bearer(b.key) })
    t.equal(r.statusCode, 200)
    t.same(r.json().items, [], `${url}: another tenant lists nothing of it`)
  }
  // the same bytes and the same Idempotency-Key from tenant b: its own dataset and job
  const ds = await upload(app, bearer(b.key))
  t.equal(ds.statusCode, 201, 'dedupe is per tenant: a new dataset for b')
  t.match(ds.json().path, `/tenants/${b.id}/datasets/`)
  const job = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...bearer(b.key), 'idempotency-key': 'same-key' },
    payload: { name: 'seeded', batch: { file: `dataset://${ds.json().id}` } },
  })
  t.equal(job.statusCode, 202, 'the same Idempotency-Key from two tenants: two jobs')
  t.not(job.json().id, seeded.jobId)
  t.equal(job.json().tenant, b.id)
  // b cannot name a dataset only a has
  const onlyA = await upload(app, bearer(a.key), 'x,y\n9,9\n')
  t.equal(onlyA.statusCode, 201)
  const stolen = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: bearer(b.key),
    payload: { batch: { file: `dataset://${onlyA.json().id}` } },
  })
  t.equal(stolen.statusCode, 400)
  t.equal(stolen.json().errors[0].field, 'body.batch.file')
  // a conflicting body under a's key: 409 without another job's id
  const conflict = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...bearer(a.key), 'idempotency-key': 'same-key' },
    payload: { name: 'other', batch: { file: 'hdfs://127.0.0.1:8020/sparkgate-test/x.py' } },
  })
  t.equal(conflict.statusCode, 409)
  t.notMatch(conflict.body, seeded.jobId, 'the 409 names no job id')

  // the platform admin reads and cancels every tenant's jobs
  const all = await app.inject({ url: '/v1/jobs', headers: admin })
  const ids = all.json().items.map((j: { id: string }) => j.id)
  t.ok(ids.includes(seeded.jobId) && ids.includes(job.json().id), 'admin lists both tenants')
  const aJobs = await app.inject({ url: `/v1/jobs?tenant=${a.id}`, headers: admin })
  t.same(
    aJobs.json().items.map((j: { id: string }) => j.id),
    [seeded.jobId],
  )
  const bSees = await app.inject({ url: `/v1/jobs?tenant=${a.id}`, headers: bearer(b.key) })
  t.same(
    bSees.json().items.map((j: { tenant: string }) => j.tenant),
    [b.id],
    'ignored for members',
  )
  const cancel = await app.inject({
    method: 'DELETE',
    url: `/v1/jobs/${seeded.jobId}`,
    headers: admin,
  })
  t.equal(cancel.statusCode, 200)
  t.equal(cancel.json().state, 'cancelled')
})

t.test('roles × routes: viewer reads, member writes, admin administers', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const member = tenantOf(app)
  const viewer = await makeKey(app, member.id, 'viewer')
  const seeded = await seed(app, member.key)
  const expect = {
    read: ['viewer', 'member', 'admin'],
    write: ['member', 'admin'],
    admin: ['admin'],
  }
  const keys = { viewer, member: member.key, admin: ADMIN_KEY }
  for (const route of ROUTES) {
    const url = fillRoute(route.url, { ...seeded, tenant: member.id })
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const r = await app.inject({
        method: route.method,
        url,
        headers: bearer(keys[role]),
        ...(route.payload ? { payload: route.payload } : {}),
      })
      const allowed = expect[route.access].includes(role)
      if (allowed) t.not(r.statusCode, 403, `${role} ${route.method} ${route.url}: ${r.body}`)
      else {
        t.equal(r.statusCode, 403, `${role} ${route.method} ${route.url}`)
        t.equal(r.json().code, 'SPARKGATE_FORBIDDEN')
      }
    }
    const anonymous = await app.inject({
      method: route.method,
      url,
      headers: { authorization: undefined },
      ...(route.payload ? { payload: route.payload } : {}),
    })
    t.equal(anonymous.statusCode, 401, `anonymous ${route.method} ${route.url}`)
  }
  t.ok(ROUTES.length >= 20, `${ROUTES.length} routes checked`)
})

t.test('admin API: tenants, keys, /v1/me, audit', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const { id, key } = tenantOf(app)
  const me = await app.inject({ url: '/v1/me' })
  t.equal(me.statusCode, 200)
  t.match(me.json(), {
    tenant: id,
    role: 'member',
    clusterUser: id,
    quotas: { maxQueuedJobs: 1000, maxLiveJobs: 20, requestsPerMinute: 6000 },
    usage: { activeJobs: 0, liveJobs: 0, datasetBytes: 0 },
  })
  const adminMe = await app.inject({ url: '/v1/me', headers: admin })
  t.match(adminMe.json(), { tenant: 'platform', role: 'admin', keyId: 'admin' })

  const dup = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: admin,
    payload: { name: id },
  })
  t.equal(dup.statusCode, 409)
  const reserved = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: admin,
    payload: { name: 'platform' },
  })
  t.equal(reserved.statusCode, 409)
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: admin,
    payload: { name: 'Not A Slug' },
  })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().errors[0].field, 'body.name')

  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/tenants/${id}`,
    headers: admin,
    payload: { clusterUser: 'analytics', quotas: { maxQueuedJobs: 7 } },
  })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), {
    clusterUser: 'analytics',
    quotas: { maxQueuedJobs: 7, maxLiveJobs: 20 },
  })
  t.equal((await app.inject({ url: '/v1/me' })).json().quotas.maxQueuedJobs, 7)

  const listed = await app.inject({ url: '/v1/tenants?limit=200', headers: admin })
  const names = listed.json().items.map((x: { id: string }) => x.id) as string[]
  t.ok(names.includes('platform') && names.includes(id))
  t.same(names, [...names].sort(), 'by id')
  // one at a time: every tenant once, the platform tenant at its place, pages of `limit`
  const paged: string[] = []
  let cursor: string | undefined
  do {
    const page = await app.inject({
      url: `/v1/tenants?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      headers: admin,
    })
    t.ok(page.json().items.length <= 1)
    paged.push(...page.json().items.map((x: { id: string }) => x.id))
    cursor = page.json().nextCursor
  } while (cursor)
  t.same(paged, names)
  t.equal((await app.inject({ url: '/v1/tenants/nobody-here', headers: admin })).statusCode, 404)
  t.equal(
    (
      await app.inject({
        method: 'DELETE',
        url: `/v1/tenants/${id}/keys/key_0000`,
        headers: admin,
      })
    ).statusCode,
    404,
  )

  // a cancel and a dataset delete by the member, then the trail
  const seeded = await seed(app, key)
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${seeded.jobId}` })
  await app.inject({ method: 'DELETE', url: `/v1/datasets/${seeded.datasetId}` })
  const audit = await app.inject({ url: '/v1/audit?limit=4', headers: admin })
  t.equal(audit.statusCode, 200)
  const entries = audit.json().items as { action: string; actor: { tenant: string }; ip: string }[]
  t.same(
    entries.map((e) => e.action),
    ['dataset.delete', 'job.cancel', 'webhook.create', 'tenant.update'],
  )
  t.equal(entries[0]!.actor.tenant, id)
  t.ok(entries[0]!.ip)
  const page2 = await app.inject({
    url: `/v1/audit?limit=4&cursor=${audit.json().nextCursor}`,
    headers: admin,
  })
  t.same(
    page2
      .json()
      .items.map((e: { action: string }) => e.action)
      .slice(0, 2),
    ['key.create', 'tenant.create'],
  )
  t.equal((await app.inject({ url: '/v1/audit?cursor=nope', headers: admin })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/audit' })).statusCode, 403, 'members cannot read it')
})

t.test(
  'quotas: queued jobs 409, dataset bytes 413, request rate 429 with Retry-After',
  async (t) => {
    const dir = await hdfsTestDir(t)
    const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_HDFS_ROOT: dir })
    const { id } = tenantOf(app)
    await app.inject({
      method: 'PATCH',
      url: `/v1/tenants/${id}`,
      headers: admin,
      payload: { quotas: { maxQueuedJobs: 2, datasetBytes: 20 } },
    })
    const batch = { file: 'hdfs://127.0.0.1:8020/sparkgate-test/app.py' }
    for (let i = 0; i < 2; i++)
      t.equal(
        (await app.inject({ method: 'POST', url: '/v1/jobs', payload: { batch } })).statusCode,
        202,
      )
    const over = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { batch } })
    t.equal(over.statusCode, 409)
    t.equal(over.json().code, 'SPARKGATE_QUOTA_EXCEEDED')
    t.equal(over.json().quota, 'maxQueuedJobs')

    const small = await upload(app, {}, 'a,b\n1,2\n') // 8 bytes
    t.equal(small.statusCode, 201)
    const big = await upload(app, {}, 'a,b\n1,2\n3,4\n5,6\n') // 16 bytes: 24 > 20
    t.equal(big.statusCode, 413)
    t.equal(big.json().quota, 'datasetBytes')
    const me = (await app.inject({ url: '/v1/me' })).json()
    t.same(me.usage, { activeJobs: 2, liveJobs: 0, datasetBytes: 8 })

    // the rate: a fresh tenant allowed 3 requests a minute
    const slow = await makeTenant(app, 'member', { quotas: { requestsPerMinute: 3 } })
    const replies = []
    for (let i = 0; i < 5; i++)
      replies.push(await app.inject({ url: '/v1/me', headers: bearer(slow.key) }))
    const codes = replies.map((r) => r.statusCode)
    const limited = replies.at(-1)!
    t.same(codes.slice(0, 3), [200, 200, 200])
    t.equal(codes.at(-1), 429)
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
    t.equal(limited.json().code, 'SPARKGATE_RATE_LIMITED')
    t.match(limited.headers['content-type'], /^application\/problem\+json/)
    t.equal((await app.inject({ url: '/v1/me' })).statusCode, 200, 'other tenants go on')
  },
)

t.test('the security tests cover every /v1 route of the OpenAPI document', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const doc = app.swagger() as { paths: Record<string, Record<string, unknown>> }
  const listed = new Set(ROUTES.map((r) => routeKey(r.method, r.url)))
  const generic = (path: string) =>
    path
      .replace('{id}', '{job}')
      .replace(/\/v1\/datasets\/\{job\}/, '/v1/datasets/{dataset}')
      .replace('/v1/models/{name}', '/v1/models/nothing-here')
      .replace('/aliases/{alias}', '/aliases/champion')
      .replace('/versions/{version}', '/versions/1')
      .replace('/keys/{keyId}', '/keys/key_none')
      .replace(/\/v1\/webhooks\/\{job\}/, '/v1/webhooks/{webhook}')
      .replace(/\/v1\/engines\/\{job\}/, '/v1/engines/eng-none')
      .replace('/deliveries/{deliveryId}', '/deliveries/none')
      .replace('/plots/{name}', '/plots/roc')
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1')) continue
    for (const method of Object.keys(ops)) {
      const key = `${method.toUpperCase()} ${generic(path)}`
      t.ok(listed.has(key), `${key} is in test/security/routes.ts`)
    }
  }
})
