/**
 * The fault suite's short version in `npm test` (the long one: `npm run chaos`): two
 * replicas killed with kill -9 every 1–2 s (some restarts with the crash failpoint) while
 * retrying clients post 40 jobs with idempotency keys; then the same burst while their
 * Redis is killed and restarted; on the Livy-shaped double. Nothing lost, nothing twice,
 * nothing stuck, no orphan batch, no wrong outcome.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { gatewayKillScenario } from './gateway-kill.js'

const scenarios = [
  {
    what: 'gateways',
    options: { fault: 'gateway', killEveryMs: [1000, 2000], failpointShare: 0.3 },
  },
  { what: 'Redis', options: { fault: 'redis', killEveryMs: [2000, 3000] } },
] as const

for (const { what, options } of scenarios) {
  t.test(`kill -9 of ${what} during a burst: nothing lost, nothing twice`, async (t) => {
    const row = await gatewayKillScenario({
      jobs: 40,
      replicas: 2,
      burstMs: 8000,
      killAfterMs: 5000,
      settleMs: 90_000,
      logDir: await mkdtemp(join(tmpdir(), 'sparkgate-chaos-')),
      ...options,
      killEveryMs: [...options.killEveryMs],
    })
    t.comment(JSON.stringify(row))
    t.equal(row.accepted, 40, 'every job acknowledged once')
    t.ok(row.kills > 0, `${what} killed ${row.kills} times`)
    const { lost, duplicated, stuck, orphaned, wrong } = row
    t.same(
      { lost, duplicated, stuck, orphaned, wrong },
      { lost: 0, duplicated: 0, stuck: 0, orphaned: 0, wrong: 0 },
    )
  })
}
