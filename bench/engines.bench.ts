/**
 * `npm run bench:engines` — warm engines against cold runs, in one run; never run as a test.
 * Needs the stack (`npm run stack:up`). The gateway listens on a free port (the engines'
 * drivers poll it) and runs its jobs on the stack's Livy on a local master (livy-local).
 *   1. sequential: BENCH_ENGINES_RUNS (default 10) trainings of the 1,000 rows of
 *      jobs/examples/data/churn.csv (logistic regression, as the demo trains), cold and warm
 *      taking turns, one job at a time; median and p90 from POST /v1/jobs to `succeeded`,
 *      the ratio, and whether every run's metrics are identical;
 *   2. concurrent: 20 jobs from 4 tenants posted at once, cold (the backend's cap: 4 live
 *      batches, no engine left) and then warm (one engine per tenant, started ahead and
 *      ready, holding the 4 slots); wall time until the last succeeded, median and p90 per
 *      job.
 * Engines are started (POST /v1/engines) and ready before the warm timings; the start is
 * reported apart.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
import type { Job } from '../src/domain/job-schema.js'
import type { Engine } from '../src/engines/engine-schema.js'
import { removePrefix } from './cleanup.js'
import { stackPort } from './ports.js'
import { table } from './table.js'

const RUNS = Number(process.env['BENCH_ENGINES_RUNS'] ?? 10)
const ADMIN_KEY = 'sgk_bench-engines-admin-0123456789abcdef'
const CHURN = readFileSync(new URL('../jobs/examples/data/churn.csv', import.meta.url))

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const median = (xs: number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)]!
const p90 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)]!
const s = (ms: number) => (ms / 1000).toFixed(2)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function main() {
  const prefix = `sparkgate-bench-engines-${randomUUID().slice(0, 8)}`
  const config = configWith({
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    SPARKGATE_KAFKA_BROKERS: 'none',
    SPARKGATE_SYNAPSE_DOUBLE: 'none',
    SPARKGATE_TRACKER_INTERVAL_MS: 250,
    SPARKGATE_PORT: 0,
    SPARKGATE_BACKENDS: JSON.stringify([
      {
        name: 'livy-local',
        kind: 'livy',
        url: `http://127.0.0.1:${stackPort('LIVY_LOCAL_PORT')}`,
        maxLive: 4,
      },
    ]),
    SPARKGATE_DEFAULT_BACKEND: 'livy-local',
  })
  const app = await buildApp(config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const tenants: { id: string; auth: Record<string, string>; dataset: string }[] = []
  try {
    for (let i = 0; i < 4; i++) {
      const tenant = await app.tenants.create({ name: `bench-${randomUUID().slice(0, 8)}` })
      const { key } = await app.tenants.createKey(tenant.id, { role: 'member' })
      const auth = { authorization: `Bearer ${key}` }
      const upload = await app.inject({
        method: 'POST',
        url: '/v1/datasets?name=churn.csv',
        headers: { ...auth, 'content-type': 'text/csv' },
        payload: CHURN,
      })
      tenants.push({ id: tenant.id, auth, dataset: upload.json<{ id: string }>().id })
    }
    const get = async <T>(url: string, auth: Record<string, string>) =>
      (await app.inject({ url, headers: auth })).json<T>()

    const startEngine = async (t: (typeof tenants)[number]) => {
      const t0 = performance.now()
      const r = await app.inject({
        method: 'POST',
        url: '/v1/engines',
        headers: t.auth,
        payload: {},
      })
      const id = r.json<Engine>().id
      for (;;) {
        const e = await get<Engine>(`/v1/engines/${id}`, t.auth)
        if (e.state === 'ready') return performance.now() - t0
        if (e.state === 'failed') throw new Error(`engine ${id}: ${e.reason}`)
        await sleep(100)
      }
    }
    const train = async (t: (typeof tenants)[number], engine: 'warm' | 'cold') => {
      const t0 = performance.now()
      const created = await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: t.auth,
        payload: {
          engine,
          resources: { driverMemory: '512m' },
          training: {
            dataset: t.dataset,
            label: 'churned',
            features: ['tenure_months', 'monthly_charges', 'contract', 'support_calls'],
            algorithm: 'logistic_regression',
            split: { test: 0.25, seed: 7 },
          },
        },
      })
      const id = created.json<Job>().id
      for (;;) {
        const job = await get<Job>(`/v1/jobs/${id}`, t.auth)
        if (job.state === 'succeeded') {
          const ms = performance.now() - t0
          const result = await get<{ metrics: Record<string, number> }>(
            `/v1/jobs/${id}/result`,
            t.auth,
          )
          if (engine === 'warm' && job.backendRef?.batchId !== 'engine') throw new Error('not warm')
          return { ms, metrics: JSON.stringify(result.metrics) }
        }
        if (job.state === 'failed' || job.state === 'cancelled')
          throw new Error(`${engine}: ${job.state} ${JSON.stringify(job.error)}`)
        await sleep(50)
      }
    }

    // 1. sequential
    const startMs = await startEngine(tenants[0]!)
    console.log(`engine start (POST /v1/engines → ready): ${s(startMs)} s`)
    const seq = { cold: [] as number[], warm: [] as number[] }
    const metrics = new Set<string>()
    for (let round = 0; round < RUNS; round++) {
      for (const mode of ['cold', 'warm'] as const) {
        const r = await train(tenants[0]!, mode)
        seq[mode].push(r.ms)
        metrics.add(r.metrics)
        console.log(`round ${round + 1}: ${mode} ${s(r.ms)} s`)
      }
    }
    // 2. concurrent: 20 jobs from 4 tenants at once
    const burst = async (mode: 'warm' | 'cold') => {
      const t0 = performance.now()
      const all = await Promise.all(
        Array.from({ length: 20 }, (_, i) => train(tenants[i % 4]!, mode)),
      )
      for (const r of all) metrics.add(r.metrics)
      return { wall: performance.now() - t0, each: all.map((r) => r.ms) }
    }
    // cold gets the whole cap: the first tenant's engine stops first
    for (const e of (await get<{ items: Engine[] }>('/v1/engines?state=live', tenants[0]!.auth))
      .items) {
      await app.inject({ method: 'DELETE', url: `/v1/engines/${e.id}`, headers: tenants[0]!.auth })
      while ((await get<Engine>(`/v1/engines/${e.id}`, tenants[0]!.auth)).state !== 'stopped')
        await sleep(200)
    }
    const coldBurst = await burst('cold')
    console.log(`20 cold jobs: ${s(coldBurst.wall)} s`)
    // one engine per tenant, started ahead; the cap of 4 is theirs now
    await Promise.all(tenants.map((t) => startEngine(t)))
    const warmBurst = await burst('warm')
    console.log(`20 warm jobs: ${s(warmBurst.wall)} s`)

    const day = new Date().toISOString().slice(0, 10)
    table(
      `${RUNS} sequential trainings (1,000 rows), POST → succeeded (node ${process.version}, ${cpus().length} cores, ${day})`,
      ['mode', 'median s', 'p90 s', 'vs cold'],
      [
        ['cold (a batch each)', s(median(seq.cold)), s(p90(seq.cold)), '1.00×'],
        [
          'warm (one engine)',
          s(median(seq.warm)),
          s(p90(seq.warm)),
          `${(median(seq.warm) / median(seq.cold)).toFixed(3)}× (${(median(seq.cold) / median(seq.warm)).toFixed(1)}× faster)`,
        ],
      ],
    )
    table(
      '20 jobs from 4 tenants at once (livy-local, cap 4 live applications)',
      ['mode', 'wall s', 'median s', 'p90 s', 'vs cold (wall)'],
      [
        ['cold', s(coldBurst.wall), s(median(coldBurst.each)), s(p90(coldBurst.each)), '1.00×'],
        [
          'warm (4 engines)',
          s(warmBurst.wall),
          s(median(warmBurst.each)),
          s(p90(warmBurst.each)),
          `${(warmBurst.wall / coldBurst.wall).toFixed(3)}×`,
        ],
      ],
    )
    console.log(`metrics identical across all ${RUNS * 2 + 40} trainings: ${metrics.size === 1}`)
  } finally {
    await app.close()
    const redis = new Redis(config.SPARKGATE_REDIS_URL)
    await removePrefix(redis, prefix)
    await redis.quit()
  }
}

await main()
