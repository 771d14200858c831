/**
 * Test helpers for the real local stack (started once per run by `npm test`).
 * Each test isolates itself: a unique Redis key prefix and its own HDFS folder, both
 * removed in teardown.
 */
import { randomUUID } from 'node:crypto'
import { buildApp, type App } from '../../src/app.js'
import { configWith, type Config } from '../../src/config.js'
import { LivyClient, type LivyBatch } from '../../src/backends/livy/livy-client.js'
import { WebHdfsClient } from '../../src/storage/webhdfs-client.js'

type Tap = { teardown: (fn: () => unknown) => void; name: string }

export function uniqueId(label = 't') {
  return `${label.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}-${randomUUID().slice(0, 8)}`
}

export function testConfig(overrides: Partial<Record<keyof Config, string | number>> = {}): Config {
  return configWith({
    SPARKGATE_REDIS_PREFIX: uniqueId('test'),
    SPARKGATE_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SPARKGATE_PORT: 0,
    ...overrides,
  })
}

/** The app in-process, closed when the test ends. */
export async function build(
  t: Tap,
  overrides: Parameters<typeof testConfig>[0] = {},
): Promise<App> {
  const app = await buildApp(testConfig(overrides))
  t.teardown(() => app.close())
  await app.ready()
  return app
}

export function hdfsClient(config: Config = testConfig()) {
  return new WebHdfsClient({ url: config.SPARKGATE_WEBHDFS_URL, user: config.SPARKGATE_HDFS_USER })
}

export function livyClient(config: Config = testConfig()) {
  return new LivyClient({ url: config.SPARKGATE_LIVY_URL })
}

/** A fresh HDFS folder for one test, deleted (recursively) at teardown. */
export async function hdfsTestDir(t: Tap, hdfs = hdfsClient()): Promise<string> {
  const dir = `/sparkgate-test/${uniqueId(t.name)}`
  await hdfs.mkdirs(dir)
  t.teardown(() => hdfs.delete(dir, true).catch(() => undefined))
  return dir
}

const TERMINAL = new Set(['success', 'dead', 'killed', 'error'])

/** Polls one Livy batch until it reaches a terminal state. */
export async function waitForBatch(
  livy: LivyClient,
  id: number,
  timeoutMs = 300_000,
): Promise<LivyBatch> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await livy.get(id)
    if (TERMINAL.has(batch.state)) return batch
    if (Date.now() > deadline)
      throw new Error(`batch ${id} still ${batch.state} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
