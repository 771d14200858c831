/**
 * The stack's YARN as a test sees it: the ResourceManager's REST API (the app record,
 * its queue, user and final status) and a teardown that kills a test's applications
 * still alive (an app outlives the Livy that submitted it in cluster mode).
 */
import { fileURLToPath } from 'node:url'
import { build, hdfsClient, hdfsTestDir, ON_YARN, tenantOf } from './stack.js'
import { stage } from './jobs.js'

type Tap = { teardown: (fn: () => unknown) => void }

export const RM_URL = ON_YARN.SPARKGATE_LIVY_YARN_URL

export interface RmApp {
  id: string
  name: string
  user: string
  queue: string
  state: string
  finalStatus: string
  amContainerLogs?: string
  applicationTags?: string
}

export async function rmApp(appId: string): Promise<RmApp> {
  const r = await fetch(`${RM_URL}/ws/v1/cluster/apps/${appId}`)
  if (!r.ok) throw new Error(`RM: ${appId}: HTTP ${r.status}`)
  return ((await r.json()) as { app: RmApp }).app
}

/** The RM's apps of a user (a tenant's cluster user), in any state. */
export async function rmAppsOf(user: string): Promise<RmApp[]> {
  const r = await fetch(`${RM_URL}/ws/v1/cluster/apps?user=${encodeURIComponent(user)}`)
  const body = (await r.json()) as { apps: { app?: RmApp[] } | null }
  return body.apps?.app ?? []
}

const LIVE = new Set(['NEW', 'NEW_SAVING', 'SUBMITTED', 'ACCEPTED', 'RUNNING'])

/** Polls the RM until the app is in one of `states` (e.g. KILLED). */
export async function waitForRmState(appId: string, states: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const app = await rmApp(appId)
    if (states.includes(app.state)) return app
    if (Date.now() > deadline)
      throw new Error(`YARN app ${appId} is ${app.state}, not ${states.join('|')}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Kills the user's live apps at teardown (a test's cluster user is its own tenant's). */
export function killAppsAtEnd(t: Tap, user: string) {
  t.teardown(async () => {
    for (const app of await rmAppsOf(user).catch(() => [])) {
      if (!LIVE.has(app.state)) continue
      await fetch(`${RM_URL}/ws/v1/cluster/apps/${app.id}/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'KILLED' }),
      }).catch(() => undefined)
    }
  })
}

/**
 * A test's gateway on the stack's Livy on YARN, acting as a fresh tenant whose live apps
 * are killed at teardown, with its HDFS folder and a way to stage test/fixtures/spark files.
 */
export async function gatewayOnYarn(
  t: Parameters<typeof build>[0],
  overrides: Parameters<typeof build>[1] = {},
) {
  const app = await build(t, { ...ON_YARN, SPARKGATE_TRACKER_INTERVAL_MS: 500, ...overrides })
  const tenant = tenantOf(app)
  killAppsAtEnd(t, tenant.id)
  const hdfs = hdfsClient(app.config)
  const dir = await hdfsTestDir(t, hdfs)
  const stageFixture = (name: string) =>
    stage(
      hdfs,
      app.config.SPARKGATE_HDFS_DEFAULT_FS,
      fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url)),
      `${dir}/${name}`,
    )
  return { app, tenant, hdfs, dir, stageFixture }
}
