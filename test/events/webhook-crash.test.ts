/**
 * kill -9 of the gateway while webhook deliveries are in flight: nothing is lost. A real
 * gateway (child process, default roles) relays a tenant's job events to a slow receiver
 * (each request held 300–500 ms, four at a time); it is SIGKILLed mid-delivery, a second
 * gateway on the same Redis prefix takes the dead one's deliveries over (lock
 * SPARKGATE_WORKER_LOCK_MS) and the relay lease. Every event of the tenant's log then
 * reaches the receiver with a 2xx, each job's events in order; duplicates (at least once)
 * are only the few deliveries the kill hit. The second gateway stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import type { CloudEvent, JobEventData } from '../../src/schemas/events.js'
import { freePort, killGroup, stage } from '../helpers/jobs.js'
import {
  ADMIN_KEY,
  bearer,
  hdfsClient,
  hdfsTestDir,
  tenantName,
  testConfig,
  LOCAL_LIVY,
} from '../helpers/stack.js'

type Tap = { teardown: (fn: () => unknown) => void }

const root = fileURLToPath(new URL('../../', import.meta.url))
const hello = fileURLToPath(new URL('../fixtures/spark/hello.py', import.meta.url))
const JOBS = 40

function startGateway(t: Tap, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  })
  t.teardown(() => killGroup(child, 'SIGKILL'))
  return child
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms: number,
) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined && value !== false) return value
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface Arrival {
  id: string
  event: CloudEvent<JobEventData>
  /** when the body was in (ms since the test began) */
  at: number
  /** the receiver's 200 was written out (false: the sender was gone before it) */
  answered: boolean
}

/** A slow receiver on loopback: holds each request 300–500 ms, then answers 200. */
async function slowReceiver(t: Tap) {
  const arrivals: Arrival[] = []
  let inFlight = 0
  const began = Date.now()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const arrival: Arrival = {
        id: String(req.headers['webhook-id']),
        event: JSON.parse(body) as CloudEvent<JobEventData>,
        at: Date.now() - began,
        answered: false,
      }
      arrivals.push(arrival)
      inFlight++
      let open = true
      res.once('close', () => {
        if (open) inFlight--
        open = false
      })
      res.once('finish', () => {
        arrival.answered = true
      })
      setTimeout(
        () => {
          if (!res.destroyed) res.writeHead(200).end()
        },
        300 + Math.floor(Math.random() * 200),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  server.unref()
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    inFlight: () => inFlight,
    /** the arrivals the receiver answered with 200, in arrival order */
    delivered: () => arrivals.filter((a) => a.answered),
  }
}

t.test('kill -9 during webhook deliveries: nothing lost, in order, few duplicates', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const fs = config.SPARKGATE_HDFS_DEFAULT_FS
  const file = await stage(hdfs, fs, hello, `${dir}/hello.py`)
  const hook = await slowReceiver(t)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    ...LOCAL_LIVY,
    SPARKGATE_PORT: String(port),
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_WORKER_LOCK_MS: '3000',
    SPARKGATE_TRACKER_INTERVAL_MS: '500',
    SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    SPARKGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
    SPARKGATE_WEBHOOK_BACKOFF_MS: '100',
    SPARKGATE_KAFKA_BROKERS: 'none',
  }
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...bearer(key),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await r.text()
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as unknown }
  }
  const healthy = () =>
    until('the gateway', async () => (await fetch(`${base}/healthz`)).ok, 120_000)

  const first = startGateway(t, env)
  await healthy()

  // a tenant whose jobs may name the test's HDFS folder; one live job at a time, so the
  // jobs cancelled right away seldom reach Livy
  const tenant = tenantName('whcrash')
  const made = await call('POST', '/v1/tenants', ADMIN_KEY, {
    name: tenant,
    policy: { uriPrefixes: [`${fs}/`] },
    quotas: { maxLiveJobs: 1 },
  })
  t.equal(made.status, 201, 'tenant created')
  const keyed = await call('POST', `/v1/tenants/${tenant}/keys`, ADMIN_KEY, { role: 'member' })
  t.equal(keyed.status, 201, 'member key created')
  const key = (keyed.body as { key: string }).key

  const created = await call('POST', '/v1/webhooks', key, {
    url: hook.url,
    types: ['dev.sparkgate.job.*'],
  })
  t.equal(created.status, 201, 'webhook created')
  const webhookId = (created.body as { webhook: { id: string } }).webhook.id

  // many events quickly: each job is accepted (queued) and cancelled at once
  const jobIds: string[] = []
  for (let i = 0; i < JOBS; i++) {
    const r = await call('POST', '/v1/jobs', key, { name: `crash-${i}`, batch: { file } })
    if (r.status !== 202) throw new Error(`POST /v1/jobs: ${r.status} ${JSON.stringify(r.body)}`)
    const id = (r.body as Job).id
    jobIds.push(id)
    const c = await call('DELETE', `/v1/jobs/${id}`, key)
    if (c.status !== 200 && c.status !== 202)
      throw new Error(`DELETE /v1/jobs/${id}: ${c.status} ${JSON.stringify(c.body)}`)
  }

  // kill -9 while the receiver holds requests and has answered some, not all
  await until(
    'deliveries under way',
    () => hook.delivered().length >= 8 && hook.inFlight() >= 2,
    60_000,
  )
  const inFlightAtKill = hook.inFlight()
  const answeredAtKill = hook.delivered().length
  const arrivedAtKill = hook.arrivals.length
  killGroup(first, 'SIGKILL')
  const end = await exited(first)
  t.equal(end.signal, 'SIGKILL', 'gateway #1 died with kill -9')
  const killedAt = Date.now()
  t.comment(
    `at the kill: ${arrivedAtKill} arrived, ${answeredAtKill} answered, ${inFlightAtKill} in flight`,
  )

  const second = startGateway(t, env)
  await healthy()

  // the log stops growing once every job has ended
  for (const id of jobIds)
    await until(
      `job ${id} to end`,
      async () => {
        const r = await call('GET', `/v1/jobs/${id}`, key)
        const state = (r.body as Job).state
        return ['cancelled', 'failed', 'succeeded'].includes(state) ? state : undefined
      },
      120_000,
    )

  // the tenant's whole log, all pages
  const log: CloudEvent<JobEventData>[] = []
  let cursor: string | undefined
  for (;;) {
    const q = `type=dev.sparkgate.job.*&limit=200${cursor ? `&cursor=${cursor}` : ''}`
    const r = await call('GET', `/v1/events?${q}`, key)
    if (r.status !== 200) throw new Error(`GET /v1/events: ${r.status}`)
    const page = r.body as { items: CloudEvent<JobEventData>[]; nextCursor?: string }
    log.push(...page.items)
    if (page.items.length === 0 || !page.nextCursor) break
    cursor = page.nextCursor
  }
  t.ok(log.length >= 2 * JOBS, `the log has ${log.length} events (≥ 2 per job)`)
  t.ok(answeredAtKill < log.length, 'the kill came before everything was delivered')

  const logIds = new Set(log.map((e) => e.id))
  const missing = () => {
    const got = new Set(hook.delivered().map((a) => a.id))
    return [...logIds].filter((id) => !got.has(id))
  }
  await until('every event of the log delivered', () => missing().length === 0, 90_000).catch(
    (err: unknown) => {
      t.fail(`${missing().length} events never delivered: ${missing().slice(0, 5).join(', ')}`)
      throw err
    },
  )
  t.comment(`all ${log.length} events delivered ${Date.now() - killedAt} ms after the kill`)
  t.same(missing(), [], 'nothing lost')

  t.same(
    hook.arrivals.filter((a) => a.id !== a.event.id || !logIds.has(a.id)).map((a) => a.id),
    [],
    'every request: webhook-id is the id of an event of the log',
  )

  // per job: the first successful arrivals follow the log (data.sequence ascending)
  const firstOk = new Map<string, Arrival>()
  for (const a of hook.delivered()) if (!firstOk.has(a.id)) firstOk.set(a.id, a)
  const outOfOrder: string[] = []
  for (const id of jobIds) {
    const inLog = log.filter((e) => e.subject === id).map((e) => e.data.sequence)
    const arrived = [...firstOk.values()]
      .filter((a) => a.event.subject === id)
      .map((a) => a.event.data.sequence)
    const sorted = [...inLog].sort((x, y) => x - y)
    if (
      JSON.stringify(arrived) !== JSON.stringify(inLog) ||
      JSON.stringify(inLog) !== JSON.stringify(sorted)
    )
      outOfOrder.push(`${id}: log ${inLog.join(',')}, arrived ${arrived.join(',')}`)
  }
  t.same(outOfOrder, [], `each of the ${JOBS} jobs: its events arrived in sequence order`)

  // the gateway's books agree: nothing pending, nothing dead, all delivered
  const deliveries = async (status: string) => {
    const ids: string[] = []
    let c: string | undefined
    for (;;) {
      const r = await call(
        'GET',
        `/v1/webhooks/${webhookId}/deliveries?status=${status}&limit=200${c ? `&cursor=${c}` : ''}`,
        key,
      )
      if (r.status !== 200) throw new Error(`deliveries: ${r.status}`)
      const page = r.body as { items: { id: string }[]; nextCursor?: string }
      ids.push(...page.items.map((d) => d.id))
      if (!page.nextCursor) return ids
      c = page.nextCursor
    }
  }
  await until(
    'no pending deliveries',
    async () => (await deliveries('pending')).length === 0,
    30_000,
  )
  t.same(await deliveries('pending'), [], 'no delivery pending')
  t.same(await deliveries('dead'), [], 'no delivery dead')
  const done = await deliveries('delivered')
  t.equal(done.length, log.length, 'one delivered delivery per event')
  t.same(new Set(done), logIds, 'the delivered ones are the log’s events')

  // at least once: only what the kill hit comes twice
  const counts = new Map<string, number>()
  for (const a of hook.arrivals) counts.set(a.id, (counts.get(a.id) ?? 0) + 1)
  const okCounts = new Map<string, number>()
  for (const a of hook.delivered()) okCounts.set(a.id, (okCounts.get(a.id) ?? 0) + 1)
  const dupes = [...counts.values()].reduce((n, c) => n + c - 1, 0)
  const okDupes = [...okCounts.values()].reduce((n, c) => n + c - 1, 0)
  t.comment(
    `${hook.arrivals.length} requests for ${log.length} events: ${dupes} duplicates, ` +
      `${okDupes} of them answered 200 twice; ${inFlightAtKill} were in flight at the kill`,
  )
  t.ok(dupes <= 8, `duplicates (${dupes}) only from the deliveries the kill hit`)

  process.kill(second.pid!, 'SIGTERM')
  const stopped = await exited(second)
  t.same(stopped, { code: 0, signal: null }, 'SIGTERM: a graceful, clean exit')
})
