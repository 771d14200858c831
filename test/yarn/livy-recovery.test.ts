/**
 * Livy as production runs it: on YARN, with recovery on. Killed with SIGKILL while jobs run
 * and started again on its state store, it recovers its batches (same ids, same YARN
 * applications, which ran on meanwhile). The gateway follows: every job ends as its
 * application ended, keeps its batch id, and no application runs twice. A private Livy
 * (the stack's jars and config, its own port and state folder), one tenant's apps.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsClient, hdfsTestDir, tenantOf, ON_YARN } from '../helpers/stack.js'
import {
  createJob,
  freePort,
  getJob,
  killGroup,
  stage,
  startLivy,
  waitForState,
  untilLivyDown,
} from '../helpers/jobs.js'
import { killAppsAtEnd, rmApp, rmAppsOf } from '../helpers/yarn.js'

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url))

t.test(
  'Livy killed with SIGKILL and restarted with recovery: jobs end as their apps did',
  async (t) => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const livyDir = await mkdtemp(join(tmpdir(), 'sparkgate-livy-recovery-'))
    const first = await startLivy(t, port, { dir: livyDir, yarn: true })
    const app = await build(t, {
      ...ON_YARN,
      SPARKGATE_LIVY_URL: url,
      SPARKGATE_TRACKER_INTERVAL_MS: 500,
    })
    const user = tenantOf(app).id
    killAppsAtEnd(t, user)
    const hdfs = hdfsClient(app.config)
    const dir = await hdfsTestDir(t, hdfs)
    const fs = app.config.SPARKGATE_HDFS_DEFAULT_FS
    const [sleep, raising] = await Promise.all([
      stage(hdfs, fs, fixture('sleep.py'), `${dir}/sleep.py`),
      stage(hdfs, fs, fixture('raise_error.py'), `${dir}/raise_error.py`),
    ])
    const small = { driverMemory: '512m' }
    const jobs = [
      await createJob(app, {
        name: 'long',
        batch: { file: sleep, args: ['30'] },
        resources: small,
      }),
      await createJob(app, { name: 'fails', batch: { file: raising }, resources: small }),
      await createJob(app, {
        name: 'longer',
        batch: { file: sleep, args: ['40'] },
        resources: small,
      }),
    ]
    const get = (id: string) => getJob(app, id)
    // each on YARN (an application id) before Livy dies
    const before: Job[] = []
    for (const j of jobs) {
      for (;;) {
        const now = await get(j.id)
        if (now.backendRef?.appId || ['succeeded', 'failed'].includes(now.state)) {
          before.push(now)
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }

    killGroup(first, 'SIGKILL')
    await untilLivyDown(port)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await startLivy(t, port, { dir: livyDir, yarn: true })

    const after: Job[] = []
    for (const j of jobs)
      after.push(await waitForState(get, j.id, ['succeeded', 'failed', 'cancelled']))
    t.same(
      after.map((j) => [j.name, j.state]),
      [
        ['long', 'succeeded'],
        ['fails', 'failed'],
        ['longer', 'succeeded'],
      ],
      'each ends as its application ended',
    )
    t.same(
      after.map((j) => j.backendRef?.batchId),
      before.map((j) => j.backendRef?.batchId),
      'each keeps its batch id',
    )
    t.same(
      after.map((j) => j.attempts),
      [1, 1, 1],
      'one attempt each',
    )
    t.not(
      after[1]!.error?.code,
      'BACKEND_LOST',
      'the failure is the application’s, not a lost batch',
    )
    // YARN ran one application per job, and says how each ended
    const apps = await rmAppsOf(user)
    t.equal(apps.length, 3, `three applications (${apps.map((a) => a.id).join(', ')})`)
    for (const j of after) {
      const yarn = await rmApp(j.backendRef!.appId!)
      t.equal(yarn.finalStatus, j.state === 'succeeded' ? 'SUCCEEDED' : 'FAILED', j.name)
    }
    // and the recovered batches still serve their logs
    const logs = await app.inject(`/v1/jobs/${after[0]!.id}/logs?size=10000`)
    t.equal(logs.json().source, 'backend')
    t.ok(
      logs.json<{ lines: string[] }>().lines.some((l) => l.includes('sleeping 30')),
      "the driver's output, read after the restart",
    )
  },
)
