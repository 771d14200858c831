/**
 * Test helpers for the real local stack (started once per run by `npm test`).
 * Each test isolates itself: a unique Redis key prefix, its own HDFS folder (removed in
 * teardown) and its own tenant, whose member key every inject() of `build()` carries.
 *
 * Which Livy: a test's gateway uses the stack's `livy-local` (a local master) unless it
 * asks for YARN with `ON_YARN` (the stack's `livy`: YARN in cluster mode, recovery on,
 * the gateway's default). The tests whose subject is the cluster run on YARN — the Livy
 * conformance suite, training and scoring end to end, test/yarn/ (logs, queues, cancel and
 * timeout, Livy's restart, packed environments); the gateway's own behaviour (queue, caps,
 * crash windows, events) is tested on the local master, where an application costs one
 * JVM, not two, and seconds less. docs/performance.md ("The test run") has the figures.
 */
import { randomUUID } from 'node:crypto'
import { stackPort } from '../../bench/ports.js'
import { buildApp, type App, type BuildOptions } from '../../src/app.js'
import { configWith, type Config } from '../../src/config.js'
import type { JobKindDefinition } from '../../src/domain/ports/job-kind.js'
import { JOB_KINDS } from '../../src/kinds/registry.js'
import { LivyClient, type LivyBatch } from '../../src/backends/livy/livy-client.js'
import { webHdfsFromConfig } from '../../src/plugins/hdfs.js'

type Tap = { teardown: (fn: () => unknown) => void; name: string }

export function uniqueId(label = 't') {
  return `${label.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}-${randomUUID().slice(0, 8)}`
}

/** The platform admin key of every test gateway. */
export const ADMIN_KEY = 'sgk_test-admin-key-0123456789abcdef'

/** The stack's Livy on a local master: the default of a test's gateway. */
export const LOCAL_LIVY = {
  SPARKGATE_LIVY_URL: `http://127.0.0.1:${stackPort('LIVY_LOCAL_PORT')}`,
  SPARKGATE_LIVY_YARN_URL: '',
}
/** The stack's Livy on YARN (cluster mode, recovery on), and its ResourceManager. */
export const ON_YARN = {
  SPARKGATE_LIVY_URL: `http://127.0.0.1:${stackPort('LIVY_PORT')}`,
  SPARKGATE_LIVY_YARN_URL: `http://127.0.0.1:${stackPort('YARN_RM_WEB_PORT')}`,
}

export function testConfig(overrides: Partial<Record<keyof Config, string | number>> = {}): Config {
  return configWith({
    ...LOCAL_LIVY,
    // the stack's Synapse double only where a test asks for it (test/azure/)
    SPARKGATE_SYNAPSE_DOUBLE: 'none',
    SPARKGATE_REDIS_PREFIX: uniqueId('test'),
    SPARKGATE_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SPARKGATE_PORT: 0,
    SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    ...overrides,
  })
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** A fresh tenant name: lowercase, unique per test. */
export function tenantName(label = 't') {
  return `${label}-${randomUUID().slice(0, 8)}`
}

export interface TestTenant {
  id: string
  /** a member key of the tenant */
  key: string
}

/**
 * Makes a tenant (as the platform admin) with a key of `role`. Its policy lets jobs name
 * anything on the stack's HDFS (the tests stage scripts in their own folders); the
 * policy tests (test/security/) make tenants with the default policy instead.
 */
export async function makeTenant(
  app: App,
  role: 'member' | 'viewer' | 'admin' = 'member',
  body: Record<string, unknown> = {},
): Promise<TestTenant> {
  const id = tenantName()
  const fs = app.config.SPARKGATE_HDFS_DEFAULT_FS
  const created = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: bearer(ADMIN_KEY),
    payload: { name: id, policy: { uriPrefixes: [`${fs}/`] }, ...body },
  })
  if (created.statusCode !== 201) throw new Error(`POST /v1/tenants: ${created.body}`)
  return { id, key: await makeKey(app, id, role) }
}

export async function makeKey(app: App, tenant: string, role: string): Promise<string> {
  const r = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenant}/keys`,
    headers: bearer(ADMIN_KEY),
    payload: { role },
  })
  if (r.statusCode !== 201) throw new Error(`POST /v1/tenants/${tenant}/keys: ${r.body}`)
  return r.json<{ key: string }>().key
}

const tenants = new WeakMap<object, TestTenant>()

/** The tenant whose member key a `build()` app's inject() carries. */
export function tenantOf(app: App): TestTenant {
  const tenant = tenants.get(app)
  if (!tenant) throw new Error('not an app of build()')
  return tenant
}

/**
 * The app in-process, closed when the test ends, acting as a member of a fresh tenant:
 * each inject() without an Authorization header carries its key.
 */
export async function build(
  t: Tap,
  overrides: Parameters<typeof testConfig>[0] = {},
  options: { tenant?: boolean } & BuildOptions = {},
): Promise<App> {
  const app = await buildApp(
    testConfig(overrides),
    {},
    { ...(options.kinds ? { kinds: options.kinds } : {}) },
  )
  t.teardown(() => app.close())
  await app.ready()
  // without a tenant (Redis down, no api role): inject() carries the admin key
  const api = app.config.SPARKGATE_ROLES.split(',').includes('api')
  const tenant =
    options.tenant === false || !api ? { id: 'platform', key: ADMIN_KEY } : await makeTenant(app)
  tenants.set(app, tenant)
  const inject = app.inject.bind(app)
  const withKey = (opts: unknown) => {
    if (typeof opts === 'string') return { url: opts, headers: bearer(tenant.key) }
    const o = (opts ?? {}) as { headers?: Record<string, unknown> }
    const headers = { ...o.headers }
    // no Authorization: the tenant's key; `authorization: undefined`: none at all
    if (!('authorization' in headers)) Object.assign(headers, bearer(tenant.key))
    else if (headers['authorization'] === undefined) delete headers['authorization']
    return { ...o, headers }
  }
  ;(app as unknown as { inject: (opts: unknown) => unknown }).inject = (opts: unknown) =>
    (inject as (o: unknown) => unknown)(withKey(opts))
  return app
}

/**
 * build() with one more job kind beside the gateway's own, on the local backend alone (a
 * real spark-submit, SPARK_HOME from the stack's env), its tracker ticking every 300 ms.
 */
export async function buildWithKind<S>(t: Tap, kind: JobKindDefinition<S>, maxLive = 1) {
  const sparkHome = process.env['SPARK_HOME']
  if (!sparkHome) throw new Error('SPARK_HOME is not set: run through npm test')
  return build(
    t,
    {
      SPARKGATE_TRACKER_INTERVAL_MS: 300,
      SPARKGATE_BACKENDS: JSON.stringify([{ name: 'local', kind: 'local', sparkHome, maxLive }]),
      SPARKGATE_DEFAULT_BACKEND: 'local',
    },
    { kinds: [...JOB_KINDS, kind] },
  )
}

export function hdfsClient(config: Config = testConfig()) {
  return webHdfsFromConfig(config)
}

export function livyClient(config: Config = testConfig()) {
  return new LivyClient({ url: config.SPARKGATE_LIVY_URL })
}

/** A fresh HDFS folder for one test, deleted (recursively) at teardown. */
export async function hdfsTestDir(t: Tap, hdfs = hdfsClient()): Promise<string> {
  const dir = `/sparkgate-test/${uniqueId(t.name)}`
  await hdfs.mkdirs(dir)
  t.teardown(() => hdfs.delete(dir, true).catch(() => undefined))
  return dir
}

const TERMINAL = new Set(['success', 'dead', 'killed', 'error'])

/** Polls one Livy batch until it reaches a terminal state. */
export async function waitForBatch(
  livy: LivyClient,
  id: number,
  timeoutMs = 300_000,
): Promise<LivyBatch> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await livy.get(id)
    if (TERMINAL.has(batch.state)) return batch
    if (Date.now() > deadline)
      throw new Error(`batch ${id} still ${batch.state} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
