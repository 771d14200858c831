/**
 * `npm run bench:plots` — what the evaluation plots cost a training: the same training
 * with `plots: true` (the default: the figures drawn and written, and the data only they
 * need computed) and with `plots: false`, from POST /v1/jobs to `succeeded` on the stack's
 * livy-local (a local master), for a binary classifier, a multi-class one and a regressor
 * on the 1,000 rows of jobs/examples/data/churn.csv; never run as a test. Needs the stack
 * (`npm run stack:up`).
 * BENCH_PLOTS_RUNS rounds (default 5), the two settings taking turns in each, one job at a
 * time. Output: median wall time of each and the ratio with/without, measured in the same
 * run, and the job's own medians of `timings.evaluateSeconds` and `timings.plotSeconds`.
 */
import { cpus } from 'node:os'
import { benchApp } from './bench-app.js'
import { stackPort } from './ports.js'
import { table } from './table.js'

const RUNS = Number(process.env['BENCH_PLOTS_RUNS'] ?? 5)
const NUMBERS = ['tenure_months', 'monthly_charges', 'support_calls']

const CASES = [
  {
    label: 'binary: logistic regression (5 plots)',
    training: {
      label: 'churned',
      features: [...NUMBERS, 'contract'],
      algorithm: 'logistic_regression',
    },
  },
  {
    label: 'multi-class: random forest, 3 classes (4 plots)',
    training: {
      label: 'contract',
      features: NUMBERS,
      algorithm: 'random_forest_classifier',
      params: { numTrees: 20, seed: 1 },
    },
  },
  {
    label: 'regression: linear regression (3 plots)',
    training: {
      label: 'monthly_charges',
      features: ['tenure_months', 'support_calls', 'contract'],
      algorithm: 'linear_regression',
    },
  },
] as const

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const s = (ms: number) => (ms / 1000).toFixed(2)

interface Run {
  ms: number
  evaluate: number
  plot: number
}

async function main() {
  const { app, auth, dataset, close, succeeded } = await benchApp('plots', {
    SPARKGATE_MLFLOW_URL: 'none',
    SPARKGATE_BACKENDS: JSON.stringify([
      { name: 'livy-local', kind: 'livy', url: `http://127.0.0.1:${stackPort('LIVY_LOCAL_PORT')}` },
    ]),
    SPARKGATE_DEFAULT_BACKEND: 'livy-local',
  })
  try {
    const train = async (training: object, plots: boolean): Promise<Run> => {
      const { job, ms } = await succeeded({
        resources: { driverMemory: '512m' },
        training: { ...training, dataset, split: { test: 0.25, seed: 7 }, plots },
      })
      const result = (await app.inject({ url: `/v1/jobs/${job.id}/result`, headers: auth })).json<{
        timings: { evaluateSeconds: number; plotSeconds: number }
      }>()
      return { ms, evaluate: result.timings.evaluateSeconds, plot: result.timings.plotSeconds }
    }
    const runs = new Map<string, Run[]>()
    const add = (k: string, r: Run) => runs.set(k, [...(runs.get(k) ?? []), r])
    for (let round = 0; round < RUNS; round++) {
      for (const c of CASES) {
        // which goes first alternates, so neither always follows the other's warm caches
        for (const plots of round % 2 ? [false, true] : [true, false]) {
          const r = await train(c.training, plots)
          add(`${c.label}|${plots}`, r)
          console.log(`round ${round + 1}: ${c.label}, plots ${plots}: ${s(r.ms)} s`)
        }
      }
    }
    table(
      `a training with and without its plots, POST → succeeded on livy-local (${RUNS} rounds; node ${process.version}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
      [
        'training',
        'without s',
        'with s',
        'with / without',
        'added s',
        'evaluate s (without → with)',
        'plotSeconds',
      ],
      CASES.map((c) => {
        const off = runs.get(`${c.label}|false`)!
        const on = runs.get(`${c.label}|true`)!
        const [a, b] = [median(off.map((r) => r.ms)), median(on.map((r) => r.ms))]
        return [
          c.label,
          s(a),
          s(b),
          `${(b / a).toFixed(3)}×`,
          s(b - a),
          `${median(off.map((r) => r.evaluate)).toFixed(2)} → ${median(on.map((r) => r.evaluate)).toFixed(2)}`,
          median(on.map((r) => r.plot)).toFixed(2),
        ]
      }),
    )
  } finally {
    await close()
  }
}

await main()
