/**
 * What a job may name, on the real stack: a tenant with the default policy (its own HDFS
 * area, dataset:// references; no file://, no other host, no protected Spark setting);
 * secret conf values never leave in a reply or a log line; the generated admin key;
 * limits (upload idle timeout, event streams).
 */
import { Writable } from 'node:stream'
import { readFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { serverOptions } from '../../src/server-options.js'
import { ADMIN_KEY, bearer, build, makeTenant, tenantOf, testConfig } from '../helpers/stack.js'

const admin = bearer(ADMIN_KEY)
const FS = 'hdfs://127.0.0.1:8020'

t.test(
  'the default policy: own area and dataset:// only; each refusal names the field',
  async (t) => {
    const app = await build(t, { SPARKGATE_ROLES: 'api' })
    // a tenant with the default policy (the test tenant of build() may name all of HDFS)
    const strict = await makeTenant(app, 'member', { policy: { uriPrefixes: [] } })
    const own = `${FS}/sparkgate/tenants/${strict.id}`
    const post = (body: unknown) =>
      app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: bearer(strict.key),
        payload: body as object,
      })
    const refused: [string, unknown, string][] = [
      [
        'a training dataset on the gateway host',
        {
          training: {
            dataset: { uri: 'file:///etc/passwd', format: 'csv' },
            label: 'y',
            algorithm: 'logistic_regression',
          },
        },
        'body.training.dataset.uri',
      ],
      ['file:// script', { batch: { file: 'file:///etc/passwd' } }, 'body.batch.file'],
      [
        'another tenant’s area',
        { batch: { file: `${FS}/sparkgate/tenants/other/app.py` } },
        'body.batch.file',
      ],
      ['a way out of its area', { batch: { file: `${own}/../other/app.py` } }, 'body.batch.file'],
      ['another host', { batch: { file: 'hdfs://evil.example:8020/x.py' } }, 'body.batch.file'],
      [
        'a jar from elsewhere',
        { batch: { file: `${own}/app.py`, jars: ['s3a://bucket/x.jar'] } },
        'body.batch.jars.0',
      ],
      [
        'a URI-like argument',
        { batch: { file: `${own}/app.py`, args: ['--rows=5', '--in=hdfs://other:8020/x'] } },
        'body.batch.args.1',
      ],
      [
        'a protected Spark setting',
        {
          batch: {
            file: `${own}/app.py`,
            conf: { 'spark.driver.extraJavaOptions': '-javaagent:/tmp/x.jar' },
          },
        },
        'body.batch.conf.spark.driver.extraJavaOptions',
      ],
      [
        'another protected one',
        { batch: { file: `${own}/app.py`, conf: { 'spark.jars.repositories': 'http://x' } } },
        'body.batch.conf.spark.jars.repositories',
      ],
      [
        'a Spark setting not on the list',
        { batch: { file: `${own}/app.py`, conf: { 'spark.made.up': '1' } } },
        'body.batch.conf.spark.made.up',
      ],
      [
        'an allowed setting with a bad value',
        { batch: { file: `${own}/app.py`, conf: { 'spark.executor.memory': '900g' } } },
        'body.batch.conf.spark.executor.memory',
      ],
    ]
    for (const [what, body, field] of refused) {
      const r = await post(body)
      t.equal(r.statusCode, 400, `${what}: ${r.body}`)
      t.match(r.headers['content-type'], /^application\/problem\+json/)
      const fields = (r.json().errors as { field: string }[]).map((e) => e.field)
      t.ok(fields.includes(field), `${what}: names ${field} (${fields.join(', ')})`)
      t.notMatch(r.body, /root:x:0:0/, 'never a line of a file')
    }
    const allowed = await post({
      batch: {
        file: `${own}/app.py`,
        args: ['--rows=5', `--in=${own}/data.csv`],
        conf: { 'spark.sql.shuffle.partitions': '8', 'spark.executor.memory': '2g' },
      },
    })
    t.equal(allowed.statusCode, 202, allowed.body)

    // the admin allows a shared folder and a protected key for this tenant
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/tenants/${strict.id}`,
      headers: admin,
      payload: {
        policy: { uriPrefixes: [`${FS}/shared/`], confAllow: ['spark.driver.extraJavaOptions'] },
      },
    })
    t.equal(patched.statusCode, 200)
    const now = await post({
      batch: {
        file: `${FS}/shared/app.py`,
        conf: { 'spark.driver.extraJavaOptions': '-Dx=1' },
      },
    })
    t.equal(now.statusCode, 202, now.body)
    const stillNot = await post({ batch: { file: `${FS}/sharedX/app.py` } })
    t.equal(stillNot.statusCode, 400, 'a prefix ends at a folder boundary')
  },
)

t.test('secret conf values: *** in every reply and never in a log line', async (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const config = testConfig({ SPARKGATE_ROLES: 'api', SPARKGATE_LOG_LEVEL: 'trace' })
  // the production logger options (level, redaction), writing here
  const logger = serverOptions(config).logger as object
  const app = await buildApp(config, { logger: { ...logger, stream: sink } })
  t.teardown(() => app.close())
  await app.ready()
  const tenant = await makeTenant(app)
  const secret = 'hunter2-very-secret-value'
  const file = `${FS}/sparkgate/tenants/${tenant.id}/app.py`
  const r = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...bearer(tenant.key), 'idempotency-key': 'k1' },
    payload: {
      batch: {
        file,
        conf: {
          'spark.hadoop.fs.s3a.secret.key': secret,
          'spark.sql.shuffle.partitions': '4',
        },
      },
    },
  })
  // spark.hadoop.* is protected: the admin allows this one key for the tenant first
  t.equal(r.statusCode, 400)
  await app.inject({
    method: 'PATCH',
    url: `/v1/tenants/${tenant.id}`,
    headers: admin,
    payload: { policy: { confAllow: ['spark.hadoop.fs.s3a.secret.key'] } },
  })
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...bearer(tenant.key), 'idempotency-key': 'k1' },
    payload: {
      batch: { file, conf: { 'spark.hadoop.fs.s3a.secret.key': secret } },
    },
  })
  t.equal(ok.statusCode, 202, ok.body)
  t.equal(ok.json().spec.batch.conf['spark.hadoop.fs.s3a.secret.key'], '***')
  for (const url of [`/v1/jobs/${ok.json().id}`, '/v1/jobs']) {
    const got = await app.inject({ url, headers: bearer(tenant.key) })
    t.notMatch(got.body, secret, `${url} never shows it`)
    t.match(got.body, '***')
  }
  // the job record keeps the real value: it is what Spark runs with
  const record = await app.jobStore.get(ok.json().id)
  const batch = record?.spec.batch as { conf?: Record<string, string> } | undefined
  t.equal(batch?.conf?.['spark.hadoop.fs.s3a.secret.key'], secret)
  // webhook signing secrets: in the replies that make them, never in the log
  const hook = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(tenant.key),
    payload: { url: 'https://example.com/hooks' },
  })
  const whsec = hook.json<{ secret: string }>().secret
  const rotated = await app.inject({
    method: 'POST',
    url: `/v1/webhooks/${hook.json().webhook.id}/rotate-secret`,
    headers: bearer(tenant.key),
  })
  const whsec2 = rotated.json<{ secret: string }>().secret
  t.match(whsec2, /^whsec_/)
  await app.close()
  const log = lines.join('')
  t.ok(log.length > 0, 'the gateway logged')
  t.notMatch(log, secret, 'no conf secret in the log')
  t.notMatch(log, tenant.key, 'no API key in the log')
  t.notMatch(log, ADMIN_KEY, 'no admin key in the log')
  t.notMatch(log, whsec, 'no webhook secret in the log')
  t.notMatch(log, whsec2, 'nor the rotated one')
})

t.test('no SPARKGATE_ADMIN_KEY: one is made, printed once to stderr and a file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-admin-'))
  const file = join(dir, 'admin-key')
  const config = testConfig({ SPARKGATE_ADMIN_KEY: '', SPARKGATE_ADMIN_KEY_FILE: file })
  const written: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = (chunk: string) => {
    written.push(String(chunk))
    return true
  }
  let key = ''
  try {
    const first = await buildApp(config)
    await first.ready()
    key = (await readFile(file, 'utf8')).trim()
    await first.close()
    // a second start (or replica) on the same Redis: the same key, printed nowhere
    const second = await buildApp(config)
    await second.ready()
    const me = await second.inject({ url: '/v1/me', headers: bearer(key) })
    t.equal(me.statusCode, 200)
    t.equal(me.json().role, 'admin')
    await second.close()
  } finally {
    process.stderr.write = write
  }
  t.match(key, /^sgk_[A-Za-z0-9_-]{32}$/)
  t.equal(written.filter((w) => w.includes(key)).length, 1, 'printed exactly once')
  const stored = await (async () => {
    const app = await buildApp(config)
    await app.ready()
    t.teardown(() => app.close())
    return app.redis.get(`${config.SPARKGATE_REDIS_PREFIX}:admin-key`)
  })()
  t.match(stored, /^[0-9a-f]{64}$/, 'only its hash is kept')
})

t.test('limits: an idle upload is cut (408) and nothing is kept', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_UPLOAD_IDLE_TIMEOUT_MS: 300 })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const { key } = tenantOf(app)
  // an upload that sends a few bytes, then nothing
  const body = new PassThrough()
  const pending = fetch(`${address}/v1/datasets?name=idle.csv`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  })
  body.write('a,b\n1,2\n')
  const r = await pending
  t.equal(r.status, 408)
  t.equal(((await r.json()) as { code: string }).code, 'SPARKGATE_UPLOAD_IDLE')
  body.end()
  const list = await app.inject({ url: '/v1/datasets' })
  t.same(list.json().items, [], 'nothing kept')
})

t.test('limits: event streams per tenant (429 past SPARKGATE_MAX_EVENT_STREAMS)', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api', SPARKGATE_MAX_EVENT_STREAMS: 1 })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const { key } = tenantOf(app)
  const job = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { batch: { file: `${FS}/sparkgate-test/app.py` } },
  })
  const url = `${address}/v1/jobs/${job.json().id}/events`
  const headers = { ...bearer(key), accept: 'text/event-stream' }
  const first = new AbortController()
  const open = await fetch(url, { headers, signal: first.signal })
  t.equal(open.status, 200, 'one stream (the job stays queued: it never ends)')
  const second = await fetch(url, { headers })
  t.equal(second.status, 429)
  t.equal(((await second.json()) as { code: string }).code, 'SPARKGATE_TOO_MANY_STREAMS')
  first.abort()
  await open.body?.cancel().catch(() => undefined)
  // the slot is given back when the stream closes
  let again = 0
  for (let i = 0; i < 40 && again !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const controller = new AbortController()
    const r = await fetch(url, { headers, signal: controller.signal })
    again = r.status
    controller.abort()
    await r.body?.cancel().catch(() => undefined)
  }
  t.equal(again, 200, 'a closed stream frees its place')
})
