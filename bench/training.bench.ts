/**
 * `npm run bench:training` — one small training (logistic regression on the 1,000 rows of
 * jobs/examples/data/churn.csv, as the demo trains) from POST /v1/jobs to `succeeded`, on
 * each way the local stack runs Spark; never run as a test. Needs the stack
 * (`npm run stack:up`).
 *   - `local`: the gateway's local backend, spark-submit with a local master (the baseline);
 *   - `livy-local`: the stack's second Livy, batches on a local master;
 *   - `livy on YARN`: the stack's Livy, batches on YARN in cluster mode (the driver in the
 *     ApplicationMaster's container, one executor in another), as production runs it.
 * BENCH_TRAINING_RUNS rounds (default 3), the backends taking turns in each so that the
 * machine's load falls on all alike, one job at a time. Output: median and slowest wall
 * time of each, and ratios against the baseline measured in the same run; for YARN also
 * the RM's own elapsed time of the application.
 */
import { cpus } from 'node:os'
import { benchApp } from './bench-app.js'
import { stackPort } from './ports.js'
import { table } from './table.js'

const RUNS = Number(process.env['BENCH_TRAINING_RUNS'] ?? 3)
const RM = `http://127.0.0.1:${stackPort('YARN_RM_WEB_PORT')}`

const BACKENDS = [
  { label: 'local backend (spark-submit, local[2])', entry: { name: 'local', kind: 'local' } },
  {
    label: 'livy-local (Livy, local[2])',
    entry: {
      name: 'livy-local',
      kind: 'livy',
      url: `http://127.0.0.1:${stackPort('LIVY_LOCAL_PORT')}`,
    },
  },
  {
    label: 'livy on YARN (cluster mode)',
    entry: {
      name: 'yarn',
      kind: 'livy',
      url: `http://127.0.0.1:${stackPort('LIVY_PORT')}`,
      yarnUrl: RM,
    },
  },
] as const

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const s = (ms: number) => (ms / 1000).toFixed(1)

async function main() {
  const { dataset, close, succeeded } = await benchApp('training', {
    SPARKGATE_BACKENDS: JSON.stringify(BACKENDS.map((b) => b.entry)),
    SPARKGATE_DEFAULT_BACKEND: 'local',
  })
  try {
    const train = async (backend: string): Promise<{ ms: number; appMs?: number }> => {
      const { job, ms } = await succeeded({
        backend,
        resources: { driverMemory: '512m' },
        training: {
          dataset,
          label: 'churned',
          features: ['tenure_months', 'monthly_charges', 'contract', 'support_calls'],
          algorithm: 'logistic_regression',
          split: { test: 0.25, seed: 7 },
        },
      })
      const appId = job.backendRef?.appId
      if (!appId?.startsWith('application_')) return { ms }
      const rm = (await (await fetch(`${RM}/ws/v1/cluster/apps/${appId}`)).json()) as {
        app: { elapsedTime: number }
      }
      return { ms, appMs: rm.app.elapsedTime }
    }
    const times = new Map<string, { ms: number; appMs?: number }[]>()
    for (let round = 0; round < RUNS; round++) {
      for (const b of BACKENDS) {
        const r = await train(b.entry.name)
        times.set(b.entry.name, [...(times.get(b.entry.name) ?? []), r])
        console.log(`round ${round + 1}: ${b.entry.name} ${s(r.ms)} s`)
      }
    }
    const base = median(times.get('local')!.map((r) => r.ms))
    table(
      `one small training, POST → succeeded (${RUNS} rounds; node ${process.version}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
      ['backend', 'median s', 'slowest s', 'vs local backend', 'YARN app s (median)'],
      BACKENDS.map((b) => {
        const rs = times.get(b.entry.name)!
        const m = median(rs.map((r) => r.ms))
        const apps = rs.flatMap((r) => (r.appMs === undefined ? [] : [r.appMs]))
        return [
          b.label,
          s(m),
          s(Math.max(...rs.map((r) => r.ms))),
          `${(m / base).toFixed(2)}×`,
          apps.length ? s(median(apps)) : '—',
        ]
      }),
    )
  } finally {
    await close()
  }
}

await main()
