/**
 * The live-batch cap and priority against the real Livy: 12 jobs queued at once with a
 * cap of 2 (six times the cap: a queue that must wait) never have more than 2 live batches
 * on Livy, and the high-priority ones, queued last, are submitted first. (It queued 30: each
 * is a spark-submit of its own, and 12 show the same at less than half the time.)
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, livyClient, testConfig } from '../helpers/stack.js'
import { createJob, getJob, stage } from '../helpers/jobs.js'

const hello = fileURLToPath(new URL('../fixtures/spark/hello.py', import.meta.url))
const LIVY_TERMINAL = ['success', 'dead', 'killed', 'error']

t.test('12 jobs at once with a cap of 2: never more than 2 live Livy batches', async (t) => {
  const config = testConfig()
  const prefix = config.SPARKGATE_REDIS_PREFIX
  const hdfs = hdfsClient(config)
  const livy = livyClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const file = await stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, hello, `${dir}/hello.py`)

  // queue everything first through an api-only gateway, then start the workers
  const api = await build(t, { SPARKGATE_REDIS_PREFIX: prefix, SPARKGATE_ROLES: 'api' })
  const jobs: Job[] = []
  for (let i = 0; i < 9; i++) jobs.push(await createJob(api, { name: `n${i}`, batch: { file } }))
  const urgent: Job[] = []
  for (let i = 0; i < 3; i++)
    urgent.push(await createJob(api, { name: `urgent${i}`, priority: 1, batch: { file } }))
  const ours = new Set([...jobs, ...urgent].map((j) => j.id))

  await build(t, {
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_ROLES: 'worker,tracker',
    SPARKGATE_LIVY_MAX_LIVE: 2,
    SPARKGATE_TRACKER_INTERVAL_MS: 300,
  })

  let maxLive = 0
  let polls = 0
  const deadline = Date.now() + 600_000
  for (;;) {
    const batches = (await livy.list(0, 1000)).sessions.filter((b) => ours.has(b.name ?? ''))
    const live = batches.filter((b) => !LIVY_TERMINAL.includes(b.state)).length
    maxLive = Math.max(maxLive, live)
    polls++
    const states = await Promise.all([...ours].map(async (id) => (await getJob(api, id)).state))
    if (states.every((s) => s === 'succeeded' || s === 'failed' || s === 'cancelled')) {
      t.same(
        states.filter((s) => s !== 'succeeded'),
        [],
        'every job succeeded',
      )
      break
    }
    if (Date.now() > deadline) throw new Error(`not done: ${states.join(',')}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.ok(maxLive <= 2, `at most 2 live batches at any of ${polls} polls (saw ${maxLive})`)
  t.ok(maxLive >= 1, 'the poll saw batches running')

  const all = await Promise.all([...ours].map((id) => getJob(api, id)))
  const order = all.sort((a, b) => Date.parse(a.submittedAt!) - Date.parse(b.submittedAt!))
  const urgentIds = new Set(urgent.map((j) => j.id))
  const firstThree = order.slice(0, 3).filter((j) => urgentIds.has(j.id)).length
  // the whole order, for a failure to be read (tap cuts long assertion names)
  t.comment(order.map((j) => `${j.name} ${j.submittedAt} attempts=${j.attempts}`).join('; '))
  t.equal(firstThree, 3, `priority 1 jobs go first: ${order.map((j) => j.name).join(' ')}`)
  const names = (await livy.list(0, 1000)).sessions
    .map((b) => b.name)
    .filter((n) => ours.has(n ?? ''))
  t.equal(names.length, new Set(names).size, 'one Livy batch per job, no duplicates')
})
