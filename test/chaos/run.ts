/**
 * `npm run chaos`: the fault suite (not part of `npm test`; test/chaos/short.test.ts runs a
 * short version there). Needs the local stack (`npm run stack:up`): its Redis, and for the
 * real runs its HDFS, Livy and Spark. Prints one table row per scenario: jobs accepted,
 * kills, cancels, and what must be 0 — lost, duplicated, stuck, orphaned, wrong — plus the
 * jobs failed BACKEND_LOST because Livy forgot their batch (the documented outcome).
 *
 * CHAOS_JOBS (default 1000): N of the runs on stand-ins (the Livy-shaped double, a
 * stand-in spark-submit); CHAOS_REAL_JOBS (default 12): N of the runs on the real Livy and
 * Spark; CHAOS_ONLY: words that the keys of the scenarios to run all have (double, real,
 * fake, livy, local, gateway, redis, backend, races; e.g. "double backend").
 */
import { mkdtemp } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { livyDouble, localSpark, realLivy, type ChaosBackend } from './backends.js'
import { runScenario, type Scenario, type ScenarioRow } from './scenario.js'

const N = Number(process.env['CHAOS_JOBS'] ?? 1000)
const REAL = Number(process.env['CHAOS_REAL_JOBS'] ?? 12)
const only = process.env['CHAOS_ONLY']
const logDir = await mkdtemp(join(tmpdir(), 'sparkgate-chaos-'))
console.log(
  `sparkgate chaos — node ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}, logs ${logDir}`,
)
const races = { fail: 0.1, timeout: 0.1, cancel: 0.3 }
type Plan = Omit<Scenario, 'backend' | 'logDir'> & { backend: () => Promise<ChaosBackend> }
const double = () => livyDouble({ logDir })
// the runs on the real Livy and Spark: a few jobs, minutes to end
const real = { jobs: REAL, replicas: 2, burstMs: 10_000, killAfterMs: 40_000, settleMs: 600_000 }
const scenarios: Record<string, Plan> = {
  'double gateway 1': { jobs: N, replicas: 1, backend: double },
  'double gateway 2': { jobs: N, replicas: 2, backend: double },
  'double redis': {
    jobs: N,
    replicas: 2,
    backend: double,
    fault: 'redis',
    killEveryMs: [2000, 5000],
  },
  'double redis-cut': {
    jobs: N,
    replicas: 2,
    backend: double,
    fault: 'redis-cut',
    killEveryMs: [2000, 5000],
  },
  'double livy backend': {
    jobs: N,
    replicas: 2,
    backend: double,
    fault: 'backend',
    killEveryMs: [3000, 8000],
    mix: { fail: 0.2 },
    // the shipped tick: a forgotten batch is noticed after 3 ticks, while new batches
    // already take its id
    trackerIntervalMs: 2000,
  },
  'double gateway races': { jobs: N, replicas: 2, backend: double, mix: races },
  'double redis races': {
    jobs: N,
    replicas: 2,
    backend: double,
    fault: 'redis',
    killEveryMs: [2000, 5000],
    mix: races,
  },
  'fake local gateway races': {
    jobs: N,
    replicas: 2,
    backend: () => localSpark({ logDir, fake: true }),
    mix: races,
  },
  'real livy gateway races': {
    ...real,
    backend: () => realLivy({ logDir, own: false }),
    mix: races,
    timeoutSeconds: 20,
  },
  'real livy redis': {
    ...real,
    backend: () => realLivy({ logDir, own: false }),
    fault: 'redis',
    killEveryMs: [3000, 8000],
  },
  'real livy backend recovery': {
    ...real,
    backend: () => realLivy({ logDir, own: true, recovery: true }),
    fault: 'backend',
    // restarts while batches run: each recovered with its id and application
    killEveryMs: [20_000, 30_000],
    mix: { fail: 0.2 },
    killAfterMs: 25_000,
  },
  'real livy backend': {
    ...real,
    backend: () => realLivy({ logDir, own: true }),
    fault: 'backend',
    // one restart while the first batches run; the later ones then reuse their ids
    killEveryMs: [20_000, 30_000],
    mix: { fail: 0.2 },
    killAfterMs: 25_000,
  },
  'real local gateway races': {
    ...real,
    backend: () => localSpark({ logDir, fake: false }),
    mix: races,
    timeoutSeconds: 20,
  },
}
const rows: ScenarioRow[] = []
for (const [key, plan] of Object.entries(scenarios)) {
  if (only && !only.split(/\s+/).every((word) => key.split(' ').includes(word))) continue
  const backend = await plan.backend()
  try {
    const row = await runScenario({ ...plan, backend, logDir })
    console.log(JSON.stringify(row))
    rows.push(row)
  } finally {
    await backend.close()
  }
}
const head = [
  'scenario',
  'backend',
  'accepted',
  'kills',
  'cancels',
  'lost',
  'duplicated',
  'stuck',
  'orphaned',
  'wrong',
  'forgotten',
  'seconds',
] as const
console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`)
for (const r of rows) console.log(`| ${head.map((h) => String(r[h])).join(' | ')} |`)
const bad = rows.filter((r) => r.lost + r.duplicated + r.stuck + r.orphaned + r.wrong > 0)
process.exitCode = bad.length > 0 ? 1 : 0
