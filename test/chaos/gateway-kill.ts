/**
 * Fault scenario: kill -9 of gateway process groups every 1–5 s while retrying clients
 * post a burst of N jobs with idempotency keys; some restarts carry the crash failpoint
 * (SIGKILL right after the backend accepts a batch). One or more replicas share Redis.
 * The backend is a Livy-shaped double (./livy-double.ts) in its own process, or a real
 * Livy (`livyUrl`). At the end every accepted job is read from Redis and every batch from
 * the backend, and counted: lost, duplicated, stuck, orphaned, wrong outcome.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { openSync } from 'node:fs'
import { mkdtemp, readdir, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { JobStore } from '../../src/domain/job-store.js'
import type { JobRecord } from '../../src/domain/job-schema.js'
import { configWith } from '../../src/config.js'
import { removePrefix } from '../../bench/cleanup.js'

// CHAOS_GATEWAY_ROOT: another checkout's gateway under the same faults (e.g. an older commit)
const ROOT = process.env['CHAOS_GATEWAY_ROOT'] ?? fileURLToPath(new URL('../../', import.meta.url))
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

export interface KillScenario {
  jobs: number
  replicas: number
  /** a real Livy's URL; none: the Livy-shaped double */
  livyUrl?: string
  /** the batch file jobs name (real Livy: a script that exists) */
  file?: string
  /** how long the double's batches take to start and to run */
  runMs?: number
  /** kill pause bounds, ms */
  killEveryMs?: [number, number]
  /** share of restarts that carry the crash-after-submit failpoint */
  failpointShare?: number
  /**
   * What is killed: the gateways (default), or the scenario's own Redis (`redis`: kill -9
   * and restart; `redis-cut`: the same, with the tail of its append-only file torn off
   * first, as a power cut mid-write leaves it)
   */
  fault?: 'gateway' | 'redis' | 'redis-cut'
  /** how long the burst of posts is spread over (the killing goes on meanwhile) */
  burstMs?: number
  /** how long the killing goes on after the last post (jobs being submitted, tracked) */
  killAfterMs?: number
  /** how long the jobs get to end once the killing stops */
  settleMs?: number
  logDir: string
}

export interface ScenarioRow {
  scenario: string
  accepted: number
  kills: number
  lost: number
  duplicated: number
  stuck: number
  orphaned: number
  wrong: number
  seconds: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo)

function killGroup(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** A redis-server of the scenario's own (AOF always, like the shipped ones), restartable. */
async function ownRedis(children: ChildProcess[]) {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-chaos-redis-'))
  const port = 41000 + Math.floor(Math.random() * 10000)
  let child: ChildProcess | undefined
  const url = `redis://127.0.0.1:${port}`
  const ready = async () => {
    for (let i = 0; i < 300; i++) {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      probe.on('error', () => undefined)
      try {
        await probe.connect()
        // loading the AOF answers LOADING until done
        await probe.ping()
        probe.disconnect()
        return
      } catch {
        probe.disconnect()
        await sleep(50)
      }
    }
    throw new Error('the scenario redis-server did not start')
  }
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore', detached: true },
    )
    children.push(child)
    await ready()
  }
  await start()
  return {
    url,
    /** kill -9; with `cut`, tear the last bytes off the newest AOF file; then start again */
    async crash(cut: boolean) {
      if (child) killGroup(child)
      await sleep(300 + Math.random() * 700)
      if (cut) {
        const aofDir = join(dir, 'appendonlydir')
        const incr = (await readdir(aofDir))
          .filter((f) => f.includes('.incr.aof'))
          .sort()
          .pop()
        if (incr) {
          const file = join(aofDir, incr)
          const size = (await stat(file)).size
          if (size > 40) await truncate(file, size - 17)
        }
      }
      await start()
    },
  }
}

export async function gatewayKillScenario(o: KillScenario): Promise<ScenarioRow> {
  const started = Date.now()
  const base = configWith({})
  const fault = o.fault ?? 'gateway'
  const prefix = `chaos-${randomUUID().slice(0, 8)}`
  const adminKey = `sgk_chaos-${randomUUID()}`
  const children: ChildProcess[] = []
  const redisOwn = fault === 'gateway' ? undefined : await ownRedis(children)
  const redisUrl = redisOwn?.url ?? base.SPARKGATE_REDIS_URL
  let livyUrl = o.livyUrl
  if (!livyUrl) {
    const double = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./livy-double.ts', import.meta.url)),
        String(o.runMs ?? 500),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    )
    children.push(double)
    livyUrl = String(((await once(double.stdout, 'data')) as [Buffer])[0]).trim()
  }
  const ports = Array.from(
    { length: o.replicas },
    (_, i) => 21000 + Math.floor(Math.random() * 20000) + i,
  )
  const env = (i: number, failpoint: boolean) => ({
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/root',
    SPARKGATE_PORT: String(ports[i]),
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_REDIS_URL: redisUrl,
    SPARKGATE_ADMIN_KEY: adminKey,
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_BACKENDS: JSON.stringify([
      { name: 'livy', kind: 'livy', url: livyUrl, maxLive: 10000 },
    ]),
    SPARKGATE_DEFAULT_BACKEND: 'livy',
    SPARKGATE_KAFKA_BROKERS: 'none',
    SPARKGATE_TRACKER_INTERVAL_MS: '300',
    SPARKGATE_WORKER_LOCK_MS: '2000',
    SPARKGATE_SUBMIT_BACKOFF_MS: '100',
    SPARKGATE_SUBMIT_BACKOFF_MAX_MS: '1000',
    ...(failpoint ? { SPARKGATE_FAILPOINTS: 'crash-after-submit' } : {}),
  })
  const gateways: (ChildProcess | undefined)[] = new Array(o.replicas)
  const log = openSync(`${o.logDir}/gateways.log`, 'a')
  const start = (i: number, failpoint = false) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: env(i, failpoint),
      stdio: ['ignore', log, log],
      detached: true,
    })
    gateways[i] = child
    children.push(child)
  }
  const up = async (i: number) => {
    for (let t = 0; t < 200; t++) {
      try {
        if ((await fetch(`http://127.0.0.1:${ports[i]}/healthz`)).ok) return
      } catch {
        // starting
      }
      await sleep(100)
    }
    throw new Error(`gateway ${i} did not start`)
  }
  const redis = new Redis(redisUrl, { lazyConnect: true })
  try {
    for (let i = 0; i < o.replicas; i++) start(i)
    await Promise.all(ports.map((_, i) => up(i)))
    // a tenant whose quotas stay out of the way, and its key
    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }
    const gw = `http://127.0.0.1:${ports[0]}`
    const tenant = `chaos-${randomUUID().slice(0, 6)}`
    const made = await fetch(`${gw}/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name: tenant,
        policy: { uriPrefixes: ['hdfs://'] },
        quotas: { maxQueuedJobs: 1_000_000, maxLiveJobs: 10_000, requestsPerMinute: 1_000_000 },
      }),
    })
    if (made.status !== 201) throw new Error(`POST /v1/tenants: ${await made.text()}`)
    const key = (
      (await (
        await fetch(`${gw}/v1/tenants/${tenant}/keys`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ role: 'member' }),
        })
      ).json()) as { key: string }
    ).key

    // the killer: every 1–5 s one replica dies (kill -9 of its group) and comes back
    let kills = 0
    let killing = true
    const killer = (async () => {
      while (killing) {
        await sleep(between(o.killEveryMs ?? [1000, 5000]))
        if (!killing) break
        kills++
        if (redisOwn) {
          await redisOwn.crash(fault === 'redis-cut')
          continue
        }
        const i = Math.floor(Math.random() * o.replicas)
        killGroup(gateways[i]!)
        start(i, Math.random() < (o.failpointShare ?? 0.25))
      }
    })()
    // a replica that died by its failpoint comes back too
    const watcher = setInterval(() => {
      gateways.forEach((g, i) => {
        if (killing && g && g.exitCode === null && g.signalCode === null) return
        if (killing && g) start(i, false)
      })
    }, 500)

    // the clients: each job posted until acknowledged, with its own idempotency key
    const acked = new Map<string, Set<string>>()
    let next = 0
    const body = (i: number) =>
      JSON.stringify({
        name: `chaos-${i}`,
        batch: { file: o.file ?? 'hdfs://127.0.0.1:8020/chaos/app.py' },
      })
    const pause = (16 * (o.burstMs ?? 30_000)) / o.jobs
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < o.jobs) {
          await sleep(pause * (0.5 + Math.random()))
          if (next >= o.jobs) break
          const i = next++
          const idem = `${prefix}-${i}`
          for (;;) {
            const port = ports[Math.floor(Math.random() * o.replicas)]
            try {
              const r = await fetch(`http://127.0.0.1:${port}/v1/jobs`, {
                method: 'POST',
                headers: {
                  authorization: `Bearer ${key}`,
                  'content-type': 'application/json',
                  'idempotency-key': idem,
                },
                body: body(i),
                signal: AbortSignal.timeout(10_000),
              })
              if (r.status === 202 || r.status === 200) {
                const { id } = (await r.json()) as { id: string }
                acked.set(idem, (acked.get(idem) ?? new Set()).add(id))
                break
              }
              if (r.status < 500) throw new Error(`POST /v1/jobs: ${r.status} ${await r.text()}`)
            } catch (error) {
              if (error instanceof Error && error.message.startsWith('POST /v1/jobs')) throw error
            }
            await sleep(100 + Math.random() * 200)
          }
        }
      }),
    )
    await sleep(o.killAfterMs ?? 15_000)
    killing = false
    await killer
    clearInterval(watcher)
    // clean restarts (no failpoint), then the jobs get their time to end
    for (let i = 0; i < o.replicas; i++) {
      killGroup(gateways[i]!)
      start(i)
    }
    const store = new JobStore(redis, prefix)
    const ids = [...new Set([...acked.values()].flatMap((s) => [...s]))]
    const deadline = Date.now() + (o.settleMs ?? 180_000)
    let jobs: JobRecord[] = []
    for (;;) {
      jobs = await store.getMany(ids)
      if (jobs.every((j) => TERMINAL.has(j.state)) && jobs.length === ids.length) break
      if (Date.now() > deadline) break
      await sleep(1000)
    }
    const batches = (await (await fetch(`${livyUrl}/_batches`)).json()) as {
      id: number
      name: string | null
      state: string
    }[]
    const byJob = new Map<string, typeof batches>()
    for (const b of batches) {
      const id = b.name?.split('.')[0]
      if (id) byJob.set(id, [...(byJob.get(id) ?? []), b])
    }
    const known = new Map(jobs.map((j) => [j.id, j]))
    const row: ScenarioRow = {
      scenario: `${o.replicas} replica${o.replicas > 1 ? 's' : ''}, kill -9 of ${
        fault === 'gateway' ? 'a gateway' : fault === 'redis' ? 'Redis' : 'Redis, AOF tail torn'
      } every ${(o.killEveryMs ?? [1000, 5000]).map((x) => x / 1000).join('–')} s`,
      accepted: ids.length,
      kills,
      lost: ids.length - jobs.length,
      // a key answered with two jobs, or a job that ran two batches
      duplicated:
        [...acked.values()].filter((s) => s.size > 1).length +
        [...byJob.entries()].filter(
          ([id, bs]) => known.has(id) && bs.filter((b) => b.state !== 'killed').length > 1,
        ).length,
      stuck: jobs.filter((j) => !TERMINAL.has(j.state)).length,
      orphaned: batches.filter((b) => {
        const job = known.get(b.name?.split('.')[0] ?? '')
        if (!job) return b.state !== 'killed'
        return job.backendRef?.batchId !== String(b.id) && b.state !== 'killed'
      }).length,
      wrong: jobs.filter((j) => TERMINAL.has(j.state) && j.state !== 'succeeded').length,
      seconds: Math.round((Date.now() - started) / 1000),
    }
    return row
  } finally {
    for (const c of children) killGroup(c)
    // the scenario's own Redis died with its children; in the stack's, our prefix goes
    if (!redisOwn) await removePrefix(redis, prefix)
    redis.disconnect()
  }
}
