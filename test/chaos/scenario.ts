/**
 * One fault scenario: retrying clients post a burst of N jobs with idempotency keys to one
 * or more gateway replicas sharing Redis, while something is killed with kill -9 every
 * few seconds:
 * - `gateway`: a replica's process group (some restarts carry the crash failpoint: SIGKILL
 *   right after the backend accepts a batch);
 * - `redis` / `redis-cut`: the scenario's own Redis (AOF always, as shipped), restarted on
 *   its files — with `redis-cut`, the AOF's tail torn off first, as a power cut leaves it;
 * - `backend`: the backend itself (Livy), restarted without recovery: it forgets every
 *   batch and numbers new ones from 0 again, so new batches take old jobs' ids; or (the
 *   real Livy on YARN, `recovery`) restarted on its state store, recovering its batches.
 * With a `mix`, some jobs' applications fail, some run past their `timeoutSeconds`, and
 * some are cancelled by their client at a random moment (racing the submission, the
 * timeout and the kills). The backend (./backends.ts): the Livy-shaped double, the real
 * Livy, or the local backend.
 *
 * At the end every accepted job is read from Redis and every batch from the backend's
 * census, and counted: lost (accepted, not in Redis), duplicated (one key answered with
 * two jobs, or a job whose application ran twice), stuck (not ended after the settle
 * time), orphaned (a batch still running with no job waiting for it), wrong (an end that
 * is not the one the job's application and client asked for, or that its batch does not
 * show), forgotten (failed BACKEND_LOST because the backend forgot its batch: the
 * documented outcome of a Livy restart without recovery for a job with one attempt).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { JobStore } from '../../src/domain/job-store.js'
import type { JobRecord } from '../../src/domain/job-schema.js'
import { configWith } from '../../src/config.js'
import { removePrefix } from '../../bench/cleanup.js'
import { quietPort } from '../../bench/ports.js'
import { startRedisServer } from '../../bench/redis-server.js'
import {
  killGroup,
  logFile,
  ROOT,
  type AppKind,
  type CensusBatch,
  type ChaosBackend,
} from './backends.js'

// CHAOS_GATEWAY_ROOT: another checkout's gateway under the same faults (e.g. an older commit)
const GATEWAY_ROOT = process.env['CHAOS_GATEWAY_ROOT'] ?? ROOT
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

export type Fault = 'gateway' | 'redis' | 'redis-cut' | 'backend'

export interface Scenario {
  jobs: number
  replicas: number
  backend: ChaosBackend
  fault?: Fault
  /** kill pause bounds, ms */
  killEveryMs?: [number, number]
  /** share of gateway restarts that carry the crash-after-submit failpoint */
  failpointShare?: number
  /** shares of jobs whose application fails, runs past its timeout, is cancelled */
  mix?: { fail?: number; timeout?: number; cancel?: number }
  /** the timeoutSeconds of the jobs that run past it */
  timeoutSeconds?: number
  /** how long the burst of posts is spread over (the killing goes on meanwhile) */
  burstMs?: number
  /** how long the killing goes on after the last post (jobs being submitted, tracked) */
  killAfterMs?: number
  /** how long the jobs get to end once the killing stops */
  settleMs?: number
  /** concurrent clients */
  clients?: number
  /** the gateways' tracker tick (default 300 ms; the shipped default is 2 s) */
  trackerIntervalMs?: number
  logDir: string
}

export interface ScenarioRow {
  scenario: string
  backend: string
  accepted: number
  kills: number
  /** cancels acknowledged (200/202) */
  cancels: number
  lost: number
  duplicated: number
  stuck: number
  orphaned: number
  wrong: number
  forgotten: number
  seconds: number
}

type Plan = 'ok' | 'fail' | 'timeout' | 'cancel'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo)

/** What job i does: the mix's shares, spread evenly over the burst. */
function planOf(i: number, mix: Scenario['mix'] = {}): Plan {
  const r = ((i * 7919) % 1000) / 1000
  const fail = mix.fail ?? 0
  const timeout = fail + (mix.timeout ?? 0)
  const cancel = timeout + (mix.cancel ?? 0)
  return r < fail ? 'fail' : r < timeout ? 'timeout' : r < cancel ? 'cancel' : 'ok'
}
const APP: Record<Plan, AppKind> = { ok: 'ok', fail: 'fail', timeout: 'long', cancel: 'long' }

/**
 * Whether a job's end is right: the end its plan asks for (a cancel acknowledged → cancelled;
 * past its timeout → TIMEOUT, or succeeded when its application ended before any tracker
 * lived long enough to kill it: gateways dying every second or two) and one its batches
 * show (succeeded: one succeeded; failed by the application: one died; cancelled or
 * timed out: none succeeded and none still runs).
 */
export function judge(
  job: JobRecord,
  plan: Plan,
  cancelled: boolean,
  batches: CensusBatch[],
): 'right' | 'forgotten' | 'wrong' {
  const has = (fate: CensusBatch['fate']) => batches.some((b) => b.fate === fate)
  const code = job.error?.code
  if (job.state === 'failed' && code === 'BACKEND_LOST')
    return batches.every((b) => b.gone) && !cancelled ? 'forgotten' : 'wrong'
  const shown =
    job.state === 'succeeded'
      ? has('success')
      : job.state === 'failed' && code === 'SPARK_APP_FAILED'
        ? has('dead')
        : (job.state === 'cancelled' || (job.state === 'failed' && code === 'TIMEOUT')) &&
          !has('success') &&
          !has('live')
  const asked = cancelled
    ? job.state === 'cancelled'
    : plan === 'ok'
      ? job.state === 'succeeded'
      : plan === 'fail'
        ? code === 'SPARK_APP_FAILED'
        : plan === 'timeout'
          ? // its application may end before any tracker lived long enough to kill it
            code === 'TIMEOUT' || job.state === 'succeeded'
          : // a cancel that came after the end (409): the end of its long application
            job.state !== 'cancelled'
  return shown && asked ? 'right' : 'wrong'
}

export async function runScenario(o: Scenario): Promise<ScenarioRow> {
  const started = Date.now()
  const base = configWith({})
  const fault = o.fault ?? 'gateway'
  const prefix = `chaos-${randomUUID().slice(0, 8)}`
  const adminKey = `sgk_chaos-${randomUUID()}`
  const children: ChildProcess[] = []
  const redisOwn = fault === 'redis' || fault === 'redis-cut' ? await startRedisServer() : undefined
  const redisUrl = redisOwn?.url ?? base.SPARKGATE_REDIS_URL
  if (fault === 'backend' && !o.backend.crash)
    throw new Error(`${o.backend.label} cannot be restarted by the suite`)
  // each replica keeps its port through its restarts (below the ephemeral range: ../../bench/ports.ts)
  const ports: number[] = []
  while (ports.length < o.replicas) {
    const port = await quietPort()
    if (!ports.includes(port)) ports.push(port)
  }
  const env = (i: number, failpoint: boolean) => ({
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/root',
    ...(process.env['STACK_DIR'] ? { STACK_DIR: process.env['STACK_DIR'] } : {}),
    SPARKGATE_PORT: String(ports[i]),
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_REDIS_URL: redisUrl,
    SPARKGATE_ADMIN_KEY: adminKey,
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_BACKENDS: JSON.stringify([o.backend.entry]),
    SPARKGATE_DEFAULT_BACKEND: 'chaos',
    SPARKGATE_KAFKA_BROKERS: 'none',
    SPARKGATE_TRACKER_INTERVAL_MS: String(o.trackerIntervalMs ?? 300),
    SPARKGATE_WORKER_LOCK_MS: '2000',
    SPARKGATE_SUBMIT_BACKOFF_MS: '100',
    SPARKGATE_SUBMIT_BACKOFF_MAX_MS: '1000',
    ...(failpoint ? { SPARKGATE_FAILPOINTS: 'crash-after-submit' } : {}),
  })
  const gateways: (ChildProcess | undefined)[] = new Array(o.replicas)
  const log = logFile(o.logDir)
  const tail = () =>
    readFileSync(join(o.logDir, 'gateways.log'), 'utf8').split('\n').slice(-20).join('\n')
  const start = (i: number, failpoint = false) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: GATEWAY_ROOT,
      env: env(i, failpoint),
      stdio: ['ignore', log, log],
      detached: true,
    })
    gateways[i] = child
    children.push(child)
  }
  // a replica is waited for while it lives (a loaded machine starts it slowly); one that
  // exits first (its port taken meanwhile) is started again on another port
  const up = async (i: number) => {
    const deadline = Date.now() + 180_000
    for (let attempt = 1; ;) {
      try {
        if ((await fetch(`http://127.0.0.1:${ports[i]}/healthz`)).ok) return
      } catch {
        // starting
      }
      const child = gateways[i]!
      if (child.exitCode !== null || child.signalCode !== null) {
        if (attempt++ >= 5) throw new Error(`gateway ${i} exited ${attempt - 1} times: ${tail()}`)
        ports[i] = await quietPort()
        start(i)
      } else if (Date.now() > deadline)
        throw new Error(`gateway ${i} did not answer /healthz in 180 s: ${tail()}`)
      await sleep(100)
    }
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
    const auth = { authorization: `Bearer ${key}` }
    const anyGateway = () => `http://127.0.0.1:${ports[Math.floor(Math.random() * o.replicas)]}`

    // the killer: every few seconds one replica, Redis or the backend dies (kill -9)
    let kills = 0
    let killing = true
    const killer = (async () => {
      while (killing) {
        await sleep(between(o.killEveryMs ?? [1000, 5000]))
        if (!killing) break
        kills++
        if (redisOwn) await redisOwn.crash(fault === 'redis-cut')
        else if (fault === 'backend') await o.backend.crash!()
        else {
          const i = Math.floor(Math.random() * o.replicas)
          killGroup(gateways[i])
          start(i, Math.random() < (o.failpointShare ?? 0.25))
        }
      }
    })()
    // a replica that died by its failpoint comes back too
    const watcher = setInterval(() => {
      gateways.forEach((g, i) => {
        if (killing && g && g.exitCode === null && g.signalCode === null) return
        if (killing && g) start(i, false)
      })
    }, 500)

    // the clients: each job posted until acknowledged, with its own idempotency key; the
    // ones planned for it cancelled 0–3 s later, until the cancel is answered
    const acked = new Map<string, Set<string>>()
    const plans = new Map<string, Plan>()
    const cancelled = new Set<string>()
    const cancels: Promise<void>[] = []
    const cancel = async (id: string) => {
      await sleep(Math.random() * 3000)
      for (;;) {
        try {
          const r = await fetch(`${anyGateway()}/v1/jobs/${id}`, {
            method: 'DELETE',
            headers: auth,
            signal: AbortSignal.timeout(10_000),
          })
          if (r.status === 200 || r.status === 202) cancelled.add(id)
          if (r.status < 500) return
        } catch {
          // a gateway killed mid-call: again
        }
        await sleep(100 + Math.random() * 200)
      }
    }
    let next = 0
    const body = (i: number) => {
      const plan = planOf(i, o.mix)
      return JSON.stringify({
        name: `chaos-${i}`,
        batch: o.backend.batch(APP[plan]),
        ...(plan === 'timeout' ? { timeoutSeconds: o.timeoutSeconds ?? 2 } : {}),
      })
    }
    const clients = o.clients ?? 16
    const pause = (clients * (o.burstMs ?? 30_000)) / o.jobs
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < o.jobs) {
          await sleep(pause * (0.5 + Math.random()))
          if (next >= o.jobs) break
          const i = next++
          const idem = `${prefix}-${i}`
          for (;;) {
            try {
              const r = await fetch(`${anyGateway()}/v1/jobs`, {
                method: 'POST',
                headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': idem },
                body: body(i),
                signal: AbortSignal.timeout(10_000),
              })
              if (r.status === 202 || r.status === 200) {
                const { id } = (await r.json()) as { id: string }
                acked.set(idem, (acked.get(idem) ?? new Set()).add(id))
                const plan = planOf(i, o.mix)
                if (!plans.has(id)) {
                  plans.set(id, plan)
                  if (plan === 'cancel') cancels.push(cancel(id))
                }
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
    await Promise.all(cancels)
    killing = false
    await killer
    clearInterval(watcher)
    // clean restarts (no failpoint), then the jobs get their time to end
    for (let i = 0; i < o.replicas; i++) {
      killGroup(gateways[i])
      start(i)
    }
    await Promise.all(ports.map((_, i) => up(i)))
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
    // a moment for kills sent just before the last ends to show in the backend
    await sleep(1000)
    const census = await o.backend.census()
    const byJob = new Map<string, CensusBatch[]>()
    for (const b of census) {
      const id = b.name.split('.')[0]!
      byJob.set(id, [...(byJob.get(id) ?? []), b])
    }
    const known = new Map(jobs.map((j) => [j.id, j]))
    const ended = jobs.filter((j) => TERMINAL.has(j.state))
    const verdicts = ended.map((j) =>
      judge(j, plans.get(j.id) ?? 'ok', cancelled.has(j.id), byJob.get(j.id) ?? []),
    )
    // what went wrong, job by job, for the log
    const wrongJobs = await Promise.all(
      ended
        .filter((_, i) => verdicts[i] === 'wrong')
        .map(async (j) => ({
          id: j.id,
          plan: plans.get(j.id),
          cancelAcknowledged: cancelled.has(j.id),
          state: j.state,
          error: j.error,
          batches: byJob.get(j.id) ?? [],
          events: await store.events(j.id),
        })),
    )
    if (wrongJobs.length > 0)
      await writeFile(join(o.logDir, `wrong-${prefix}.json`), JSON.stringify(wrongJobs, null, 2))
    const what =
      fault === 'gateway'
        ? 'a gateway'
        : fault === 'redis'
          ? 'Redis'
          : fault === 'redis-cut'
            ? 'Redis (AOF tail torn)'
            : o.backend.label.includes('with recovery')
              ? 'Livy (restarted with recovery)'
              : 'Livy (restarted without recovery)'
    const shares = [
      [o.mix?.fail, 'fail'],
      [o.mix?.timeout, 'time out'],
      [o.mix?.cancel, 'cancelled'],
    ].flatMap(([share, what]) => (share ? [`${Math.round(Number(share) * 100)} % ${what}`] : []))
    const mixed = shares.length > 0 ? ` (${shares.join(', ')})` : ''
    const tick = o.trackerIntervalMs ? `, tracker tick ${o.trackerIntervalMs / 1000} s` : ''
    return {
      scenario: `${o.replicas} replica${o.replicas > 1 ? 's' : ''}, kill -9 of ${what} every ${(
        o.killEveryMs ?? [1000, 5000]
      )
        .map((x) => x / 1000)
        .join('–')} s${mixed}${tick}`,
      backend: o.backend.label,
      accepted: ids.length,
      kills,
      cancels: cancelled.size,
      lost: ids.length - jobs.length,
      duplicated:
        [...acked.values()].filter((s) => s.size > 1).length +
        [...byJob.entries()].filter(
          ([id, bs]) =>
            known.has(id) &&
            bs.filter((b) => ['success', 'dead', 'live'].includes(b.fate)).length > 1,
        ).length,
      stuck: jobs.filter((j) => !TERMINAL.has(j.state)).length,
      // still running with its job ended, or with no job of this run at all
      orphaned: census.filter((b) => {
        if (b.fate !== 'live') return false
        const job = known.get(b.name.split('.')[0]!)
        return !job || TERMINAL.has(job.state)
      }).length,
      wrong: verdicts.filter((v) => v === 'wrong').length,
      forgotten: verdicts.filter((v) => v === 'forgotten').length,
      seconds: Math.round((Date.now() - started) / 1000),
    }
  } finally {
    for (const c of children) killGroup(c)
    // in the stack's Redis, our prefix goes; the scenario's own Redis goes whole
    if (!redisOwn) await removePrefix(redis, prefix).catch(() => undefined)
    redis.disconnect()
    await redisOwn?.stop()
  }
}
