/**
 * `npm run bench:jobs` — the gateway core, measured; never run as a test. Needs the local
 * stack (`npm run stack:up`): Redis and, for the Livy accept rate, the real Livy.
 *
 * 1. Accept rate: POST /v1/jobs (validation + Redis write + enqueue) against a bare
 *    Fastify JSON route in the same process and run (the ceiling), and against the real
 *    Livy's POST /batches.
 * 2. Queue-to-submit latency with an idle worker (createdAt → submittedAt), against the
 *    bare submit call it wraps.
 * 3. Tracker cost per tick with 1,000 and 10,000 live batches, against polling each job,
 *    served by a Livy-shaped responder in a child process (so CPU and RSS here are the
 *    gateway's alone).
 *
 * 4. The cost of durability: POST /v1/jobs against a private Redis with its append-only
 *    file fsynced once a second (`appendfsync everysec`: a power cut can lose the last
 *    second of 202s) and before every reply (`always`, the shipped setting), same run.
 *
 * Output: one table per part with ratios against the baseline measured in the same run.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import pino from 'pino'
import { buildApp } from '../src/app.js'
import { authPlugin } from '../src/plugins/auth.js'
import { configPlugin } from '../src/plugins/config.js'
import { redisPlugin } from '../src/plugins/redis.js'
import { LivyBackend } from '../src/backends/livy/livy-backend.js'
import { LivyClient } from '../src/backends/livy/livy-client.js'
import { configWith } from '../src/config.js'
import { JobStore } from '../src/domain/job-store.js'
import { connectionFrom, BullJobQueue } from '../src/workers/queues.js'
import { Tracker } from '../src/workers/tracker.js'
import { removePrefix } from './cleanup.js'
import { startRedisServer } from './redis-server.js'
import { table } from './table.js'

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 10)
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16)
const LATENCY_JOBS = Number(process.env['BENCH_LATENCY_JOBS'] ?? 200)
const LIVY_POSTS = Number(process.env['BENCH_LIVY_POSTS'] ?? 20)
const TRACKED = (process.env['BENCH_TRACKED'] ?? '1000,10000').split(',').map(Number)

const base = configWith({})
const body = {
  name: 'bench',
  priority: 5,
  batch: {
    file: 'hdfs://127.0.0.1:8020/sparkgate-bench/app.py',
    args: ['--rows', '1000'],
    conf: { 'spark.sql.shuffle.partitions': '4' },
  },
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

async function hammer(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    connections: CONNECTIONS,
    duration: DURATION_S,
  })
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 }
}

const ADMIN_KEY = `sgk_bench-${randomUUID()}`

/** A tenant with quotas out of the bench's way; returns a member key of it. */
async function benchTenant(url: string): Promise<string> {
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
  const name = `bench-${randomUUID().slice(0, 8)}`
  const tenant = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({
      name,
      policy: { uriPrefixes: ['hdfs://127.0.0.1:8020/sparkgate-bench/'] },
      quotas: { maxQueuedJobs: 1_000_000, requestsPerMinute: 10_000_000, maxLiveJobs: 10_000 },
    }),
  })
  if (tenant.status !== 201) throw new Error(`POST /v1/tenants: ${await tenant.text()}`)
  const made = await fetch(`${url}/v1/tenants/${name}/keys`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ role: 'member' }),
  })
  if (made.status !== 201) throw new Error(`POST keys: ${await made.text()}`)
  return ((await made.json()) as { key: string }).key
}

/** 1. Accept rate. */
async function acceptRate(redis: Redis) {
  const bare = Fastify({ logger: false })
  bare.post('/bare', async (request, reply) =>
    reply.code(202).send({ id: randomUUID(), received: request.body }),
  )
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 })
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const app = await buildApp(
    configWith({
      SPARKGATE_ROLES: 'api',
      SPARKGATE_LOG_LEVEL: 'warn',
      SPARKGATE_REDIS_PREFIX: prefix,
      SPARKGATE_PORT: 0,
      SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    }),
  )
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 })
  // a tenant whose quotas do not stop the bench, and a member key of it: auth is on
  const key = await benchTenant(appUrl)
  const auth = { authorization: `Bearer ${key}` }
  // the cost of auth alone: the bare route behind the gateway's auth plugin (key lookup,
  // tenant record, rate limit on Redis), same Redis prefix, so the same key is valid
  const authOnly = Fastify({ logger: false })
  await authOnly.register(configPlugin, { config: app.config })
  await authOnly.register(redisPlugin)
  await authOnly.register(authPlugin)
  authOnly.post('/v1/bare', { config: { access: 'write' } }, async (request, reply) =>
    reply.code(202).send({ id: randomUUID(), received: request.body }),
  )
  const authUrl = await authOnly.listen({ host: '127.0.0.1', port: 0 })

  await hammer(`${bareUrl}/bare`) // warm-up of all three, not reported
  await hammer(`${authUrl}/v1/bare`, auth)
  await hammer(`${appUrl}/v1/jobs`, auth)
  const ceiling = await hammer(`${bareUrl}/bare`)
  const authed = await hammer(`${authUrl}/v1/bare`, auth)
  const gateway = await hammer(`${appUrl}/v1/jobs`, auth)
  const queued = await app.jobStore.countByState('queued')
  await authOnly.close()
  await app.close()
  await bare.close()
  await removePrefix(redis, prefix)

  // the real Livy: every accepted batch launches spark-submit, so only a few, then killed
  const livy = new LivyClient({ url: base.SPARKGATE_LIVY_URL })
  const ids: number[] = []
  const latencies: number[] = []
  const started = performance.now()
  const tag = randomUUID().slice(0, 8)
  let next = 0
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < LIVY_POSTS) {
        const i = next++
        const t0 = performance.now()
        const batch = await livy.submit({
          file: `hdfs://127.0.0.1:8020/sparkgate-bench/missing-${tag}.py`,
          name: `bench-${tag}-${i}`,
        })
        latencies.push(performance.now() - t0)
        ids.push(batch.id)
      }
    }),
  )
  const livyRps = (LIVY_POSTS / (performance.now() - started)) * 1000
  await Promise.all(ids.map((id) => livy.kill(id).catch(() => undefined)))
  latencies.sort((a, b) => a - b)

  table(
    `1. Accept rate (${CONNECTIONS} connections, ${DURATION_S} s each; Livy: ${LIVY_POSTS} POSTs, 4 at a time)`,
    ['endpoint', 'requests/s', 'p50 ms', 'p99 ms', 'vs bare Fastify', 'vs Livy'],
    [
      [
        'bare Fastify JSON route (ceiling)',
        fmt(ceiling.rps),
        ceiling.p50,
        ceiling.p99,
        '1.00',
        fmt(ceiling.rps / livyRps, 1),
      ],
      [
        'the same route behind the auth plugin',
        fmt(authed.rps),
        authed.p50,
        authed.p99,
        fmt(authed.rps / ceiling.rps, 2),
        fmt(authed.rps / livyRps, 1),
      ],
      [
        'POST /v1/jobs (auth on)',
        fmt(gateway.rps),
        gateway.p50,
        gateway.p99,
        fmt(gateway.rps / ceiling.rps, 2),
        fmt(gateway.rps / livyRps, 1),
      ],
      [
        'Livy POST /batches (real)',
        fmt(livyRps, 1),
        fmt(pct(latencies, 50)),
        fmt(pct(latencies, 99)),
        fmt(livyRps / ceiling.rps, 4),
        '1.00',
      ],
    ],
  )
  console.log(`   (${fmt(queued)} jobs were recorded and enqueued by POST /v1/jobs during its run)`)
}

/** The responder in its own process; returns its URL and a stop function. */
async function responder(seed: number) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./livy-responder-main.ts', import.meta.url)),
      String(seed),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  const url = line.toString().trim()
  const stats = async () =>
    ((await (await fetch(`${url}/_stats`)).json()) as { requests: Record<string, number> }).requests
  return {
    url,
    stats,
    stop: () => {
      child.kill()
    },
  }
}

/** 2. Queue-to-submit latency with an idle worker. */
async function queueLatency(redis: Redis) {
  const livy = await responder(0)
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const app = await buildApp(
    configWith({
      SPARKGATE_ROLES: 'api,worker',
      SPARKGATE_LOG_LEVEL: 'warn',
      SPARKGATE_REDIS_PREFIX: prefix,
      SPARKGATE_LIVY_URL: livy.url,
      SPARKGATE_LIVY_MAX_LIVE: 10000,
      SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    }),
  )
  await app.ready()
  const tenant = await app.tenants.create({
    name: `bench-${randomUUID().slice(0, 8)}`,
    policy: { uriPrefixes: ['hdfs://127.0.0.1:8020/sparkgate-bench/'] },
    quotas: { maxLiveJobs: 10_000, maxQueuedJobs: 1_000_000 },
  })
  const samples: number[] = []
  for (let i = 0; i < LATENCY_JOBS + 10; i++) {
    const { job } = await app.jobService.create(tenant, { ...body, name: `lat-${i}` })
    for (;;) {
      const now = await app.jobStore.get(job.id)
      if (now?.submittedAt) {
        if (i >= 10) samples.push(Date.parse(now.submittedAt) - Date.parse(now.createdAt))
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  await app.close()
  await removePrefix(redis, prefix)

  // the baseline: the submit call alone, straight to the same responder
  const client = new LivyClient({ url: livy.url })
  const direct: number[] = []
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const t0 = performance.now()
    await client.submit({ file: body.batch.file, name: `direct-${i}` })
    direct.push(performance.now() - t0)
  }
  livy.stop()
  samples.sort((a, b) => a - b)
  direct.sort((a, b) => a - b)
  table(
    `2. Queue-to-submit latency, idle worker (${LATENCY_JOBS} jobs one after another; Livy-shaped responder)`,
    ['path', 'p50 ms', 'p99 ms', 'p50 vs direct'],
    [
      ['POST /batches alone (direct)', fmt(pct(direct, 50), 1), fmt(pct(direct, 99), 1), '1.0'],
      [
        'record → queue → worker → submitted',
        fmt(pct(samples, 50), 1),
        fmt(pct(samples, 99), 1),
        fmt(pct(samples, 50) / pct(direct, 50), 1),
      ],
    ],
  )
}

/** 3. Tracker cost per tick against per-job polling. */
async function trackerCost(redis: Redis) {
  const rows: (string | number)[][] = []
  for (const n of TRACKED) {
    const livy = await responder(n)
    const prefix = `bench-${randomUUID().slice(0, 8)}`
    const store = new JobStore(redis, prefix)
    const backend = new LivyBackend({ name: 'livy', url: livy.url })
    const backends = { byName: new Map([['livy', { backend, maxLive: n }]]), defaultName: 'livy' }
    const connection = connectionFrom(base.SPARKGATE_REDIS_URL)
    const queues = new BullJobQueue(connection, prefix)
    // n jobs in `running`, each bound to one of the responder's seeded batches
    for (let i = 0; i < n; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, n - i) }, async (_, k) => {
          const batchId = i + k
          const created = await store.create(
            randomUUID(),
            { ...body, name: `seeded-${batchId}` },
            { backend: 'livy', tenant: 'bench', maxActive: Number.MAX_SAFE_INTEGER },
          )
          if (!('job' in created)) throw new Error('over quota')
          const { job } = created
          await store.reserveSlot(job, n, n)
          await store.transition(job, ['queued'], 'staging')
          await store.transition(job, ['staging'], 'submitting', { set: { attempts: 1 } })
          await store.transition(job, ['submitting'], 'submitted', {
            set: { backendRef: { batchId: String(batchId), batchName: `seeded-${batchId}` } },
          })
          await store.transition(job, ['submitted'], 'running')
        }),
      )
    }
    const tracker = new Tracker({
      store,
      queues,
      backends,
      connection,
      prefix,
      log: pino({ level: 'warn' }),
      intervalMs: 1000,
      failureLogLines: 0,
      reconcileEvery: 1_000_000,
    })
    await tracker.tick('livy') // warm-up (JIT, connections, backendState written)

    const measure = async (fn: () => Promise<unknown>) => {
      const before = await livy.stats()
      global.gc?.()
      const rss0 = process.memoryUsage().rss
      let peak = rss0
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const TICKS = 5
      for (let i = 0; i < TICKS; i++) await fn()
      const wall = (performance.now() - t0) / TICKS
      const cpu = process.cpuUsage(cpu0)
      clearInterval(sampler)
      peak = Math.max(peak, process.memoryUsage().rss)
      const after = await livy.stats()
      const calls = Object.keys(after).reduce((s, k) => s + (after[k]! - (before[k] ?? 0)), 0)
      return {
        calls: calls / TICKS,
        cpuMs: (cpu.user + cpu.system) / 1000 / TICKS,
        wallMs: wall,
        rssMiB: (peak - rss0) / 1024 / 1024,
      }
    }
    const tick = await measure(() => tracker.tick('livy'))
    // per-job polling: what a gateway without a list call does — GET /batches/{id}/state
    // for every live job, 16 at a time, after the same Redis read
    const poll = await measure(async () => {
      const jobs = await store.getMany(await store.liveIds('livy'))
      let next = 0
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < jobs.length) {
            const job = jobs[next++]!
            await backend.client.state(Number(job.backendRef!.batchId))
          }
        }),
      )
    })
    rows.push(
      [
        `${fmt(n)} live: one list call per tick`,
        fmt(tick.calls),
        fmt(tick.cpuMs, 1),
        fmt(tick.wallMs, 1),
        fmt(tick.rssMiB, 1),
        '1.00',
      ],
      [
        `${fmt(n)} live: per-job polling`,
        fmt(poll.calls),
        fmt(poll.cpuMs, 1),
        fmt(poll.wallMs, 1),
        fmt(poll.rssMiB, 1),
        fmt(poll.cpuMs / tick.cpuMs, 2),
      ],
    )
    await queues.close()
    await removePrefix(redis, prefix)
    livy.stop()
  }
  table(
    '3. Tracker cost per tick (mean of 5 ticks; Livy-shaped responder in a child process, page size 500)',
    ['what', 'backend requests', 'CPU ms', 'wall ms', 'RSS growth MiB', 'CPU vs list'],
    rows,
  )
}

/** 4. POST /v1/jobs with the AOF fsynced every second vs before every reply. */
async function durabilityCost() {
  const server = await startRedisServer({ appendfsync: 'everysec' })
  const url = server.url
  const admin = new Redis(url)
  const rows: (string | number)[][] = []
  try {
    const app = await buildApp(
      configWith({
        SPARKGATE_ROLES: 'api',
        SPARKGATE_LOG_LEVEL: 'warn',
        SPARKGATE_REDIS_URL: url,
        SPARKGATE_PORT: 0,
        SPARKGATE_ADMIN_KEY: ADMIN_KEY,
      }),
    )
    try {
      const appUrl = await app.listen({ host: '127.0.0.1', port: 0 })
      const auth = { authorization: `Bearer ${await benchTenant(appUrl)}` }
      await hammer(`${appUrl}/v1/jobs`, auth) // warm-up
      let everysec = 0
      for (const mode of ['everysec', 'always']) {
        await admin.config('SET', 'appendfsync', mode)
        const r = await hammer(`${appUrl}/v1/jobs`, auth)
        if (mode === 'everysec') everysec = r.rps
        rows.push([`appendfsync ${mode}`, fmt(r.rps), r.p50, r.p99, fmt(r.rps / everysec, 2)])
      }
    } finally {
      await app.close()
    }
  } finally {
    admin.disconnect()
    await server.stop()
  }
  table(
    `4. Durability: POST /v1/jobs, ${CONNECTIONS} connections, ${DURATION_S} s each, private Redis (AOF on)`,
    ['Redis fsync', 'requests/s', 'p50 ms', 'p99 ms', 'vs everysec'],
    rows,
  )
}

const redis = new Redis(base.SPARKGATE_REDIS_URL)
console.log(
  `sparkgate bench:jobs — node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${new Date().toISOString()}`,
)
const parts = (process.env['BENCH_PARTS'] ?? '1,2,3,4').split(',')
if (parts.includes('1')) await acceptRate(redis)
if (parts.includes('2')) await queueLatency(redis)
if (parts.includes('3')) await trackerCost(redis)
if (parts.includes('4')) await durabilityCost()
redis.disconnect()
