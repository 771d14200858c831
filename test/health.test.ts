import t from 'tap'
import { build } from './helpers/stack.js'

t.test('GET /healthz answers while the process is up', async (t) => {
  const app = await build(t)
  const r = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(r.statusCode, 200)
  t.equal(r.json().status, 'ok')
  t.ok(r.headers['x-request-id'], 'every answer carries its request id')
})

t.test('GET /readyz is 200 when Redis, WebHDFS and Livy answer', async (t) => {
  const app = await build(t)
  const r = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(r.statusCode, 200, r.body)
  const body = r.json()
  t.equal(body.status, 'ready')
  // every configured backend (livy, and local when SPARK_HOME is known) plus redis, webhdfs
  // and the Kafka the events go to
  t.same(
    Object.keys(body.dependencies).sort(),
    [...app.backends.byName.keys(), 'kafka', 'redis', 'webhdfs'].sort(),
  )
  t.ok(body.dependencies.livy)
  const deps: Record<string, { up: boolean }> = body.dependencies
  for (const dep of Object.values(deps)) t.equal(dep.up, true)
})

t.test('GET /readyz is 503 problem+json naming what is down', async (t) => {
  const app = await build(t, {
    SPARKGATE_LIVY_URL: 'http://127.0.0.1:1',
    SPARKGATE_WEBHDFS_URL: 'http://127.0.0.1:2/webhdfs/v1',
  })
  const r = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(r.statusCode, 503)
  t.match(r.headers['content-type'], /^application\/problem\+json/)
  const problem = r.json()
  t.equal(problem.code, 'SPARKGATE_DEPENDENCY_DOWN')
  t.match(problem.detail, /webhdfs, livy down|livy, webhdfs down|webhdfs.*livy/)
  t.equal(problem.dependencies.redis.up, true)
  t.equal(problem.dependencies.livy.up, false)
  t.match(problem.dependencies.livy.error, /ECONNREFUSED/)
  t.equal(problem.dependencies.webhdfs.up, false)
})

t.test('GET /readyz reports Redis down without hanging', async (t) => {
  const app = await build(
    t,
    { SPARKGATE_REDIS_URL: 'redis://127.0.0.1:3', SPARKGATE_READY_TIMEOUT_MS: 1000 },
    { tenant: false },
  )
  const r = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(r.statusCode, 503)
  t.equal(r.json().dependencies.redis.up, false)
  // keys live in Redis: a /v1 call cannot be authenticated, and says why (never a 500)
  const v1 = await app.inject({ method: 'GET', url: '/v1/jobs' })
  t.equal(v1.statusCode, 503, v1.body)
  t.equal(v1.json().code, 'SPARKGATE_REDIS_UNAVAILABLE')
})

t.test('unknown routes are problem+json 404s', async (t) => {
  const app = await build(t)
  const r = await app.inject({ method: 'GET', url: '/v1/nothing-here' })
  t.equal(r.statusCode, 404)
  t.match(r.headers['content-type'], /^application\/problem\+json/)
  t.equal(r.json().code, 'SPARKGATE_ROUTE_NOT_FOUND')
})

t.test('Swagger UI and the OpenAPI document are served', async (t) => {
  const app = await build(t)
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(ui.statusCode, 200)
  const spec = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  t.equal(spec.json().openapi, '3.1.0')
  t.ok(spec.json().paths['/readyz'], 'documents /readyz')
})
