/**
 * `npm run chaos`: the fault suite (not part of `npm test`; test/chaos/short.test.ts runs a
 * short version there). Needs the local stack's Redis (`npm run stack:up`). Prints one
 * table row per scenario: jobs accepted, kills, and what must be 0 — lost, duplicated,
 * stuck, orphaned, wrong outcome. CHAOS_JOBS (default 1000) sets N for the runs on the
 * Livy-shaped double.
 */
import { mkdtemp } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gatewayKillScenario, type ScenarioRow } from './gateway-kill.js'

const N = Number(process.env['CHAOS_JOBS'] ?? 1000)
const logDir = await mkdtemp(join(tmpdir(), 'sparkgate-chaos-'))
console.log(
  `sparkgate chaos — node ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}, logs ${logDir}`,
)
const rows: ScenarioRow[] = []
const scenarios: Parameters<typeof gatewayKillScenario>[0][] = [
  { jobs: N, replicas: 1, logDir },
  { jobs: N, replicas: 2, logDir },
  { jobs: N, replicas: 2, logDir, fault: 'redis', killEveryMs: [2000, 5000] },
  { jobs: N, replicas: 2, logDir, fault: 'redis-cut', killEveryMs: [2000, 5000] },
]
for (const scenario of scenarios) {
  const row = await gatewayKillScenario(scenario)
  console.log(JSON.stringify(row))
  rows.push(row)
}
const head = [
  'scenario',
  'accepted',
  'kills',
  'lost',
  'duplicated',
  'stuck',
  'orphaned',
  'wrong',
  'seconds',
]
console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`)
for (const r of rows)
  console.log(`| ${head.map((h) => String(r[h as keyof ScenarioRow])).join(' | ')} |`)
const bad = rows.filter((r) => r.lost + r.duplicated + r.stuck + r.orphaned + r.wrong > 0)
process.exitCode = bad.length > 0 ? 1 : 0
