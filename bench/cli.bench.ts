/**
 * `npm run bench:cli` — how fast the `sparkgate` CLI starts; never run as a test.
 *
 * Each command runs as a child process, as a person runs it, BENCH_CLI_RUNS times (default
 * 30, after 3 warm-up runs), the commands taking turns so that the machine's load falls on
 * all of them alike. Wall time from spawn to exit:
 *   - `node -e 0`: a bare Node start (the baseline of `--help`);
 *   - `sparkgate --help`: src/cli/bin.js running the bundle (dist/cli/sparkgate.js);
 *   - the same from TypeScript through tsx, as bin.js ran it before the bundle (and still
 *     does when the bundle is older than its sources);
 *   - `curl` GET /v1/me: the same call without Node (the baseline of `me`);
 *   - `sparkgate me`: bin.js, one HTTP round trip to a gateway;
 *   - `npx sparkgate --help`: the same through npx, whose own start (npm, then a look at
 *     this checkout's tree) comes on top.
 * All with the Node that runs this file (npm scripts: the pinned one, node_modules/.bin).
 *
 * The gateway: SPARKGATE_URL and SPARKGATE_API_KEY when both are set; otherwise one in
 * this process (api role only, its own Redis prefix, a fresh tenant and key), which needs
 * the local stack's Redis (`npm run stack:up`).
 *
 * Output: median and p90 of each, and ratios against the baseline measured in the same run.
 * The target: `--help` within 3× of `node -e 0`.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
import { removePrefix } from './cleanup.js'
import { table } from './table.js'

const RUNS = Number(process.env['BENCH_CLI_RUNS'] ?? 30)
const WARMUP = 3
const root = fileURLToPath(new URL('../', import.meta.url))
const BIN = `${root}src/cli/bin.js`
const MAIN_TS = `${root}src/cli/main.ts`
const ADMIN_KEY = 'sgk_bench-cli-admin-key-0123456789abcdef'

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
const ms = (n: number) => n.toFixed(1)

/** Milliseconds from spawn to exit; a non-zero exit is a broken bench, not a figure. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const elapsed = performance.now() - t0
      if (code === 0) resolve(elapsed)
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${stderr}`))
    })
  })
}

/** The gateway the `me` rows call: the one named by the environment, or one in-process. */
async function gateway(): Promise<{ url: string; key: string; close: () => Promise<void> }> {
  const url = process.env['SPARKGATE_URL']
  const key = process.env['SPARKGATE_API_KEY']
  if (url && key) return { url, key, close: async () => {} }
  const prefix = `sparkgate-bench-cli-${randomUUID().slice(0, 8)}`
  const config = configWith({
    SPARKGATE_ROLES: 'api',
    SPARKGATE_LOG_LEVEL: 'warn',
    SPARKGATE_REDIS_PREFIX: prefix,
    SPARKGATE_ADMIN_KEY: ADMIN_KEY,
    SPARKGATE_KAFKA_BROKERS: 'none',
  })
  const app = await buildApp(config)
  await app.ready()
  const tenant = await app.tenants.create({ name: `bench-${randomUUID().slice(0, 8)}` })
  const { key: memberKey } = await app.tenants.createKey(tenant.id, { role: 'member' })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url: address,
    key: memberKey,
    close: async () => {
      await app.close()
      const redis = new Redis(config.SPARKGATE_REDIS_URL)
      await removePrefix(redis, prefix)
      await redis.quit()
    },
  }
}

async function main() {
  if (!existsSync(`${root}dist/cli/sparkgate.js`))
    throw new Error('no dist/cli/sparkgate.js: run `npm run build:cli` first')
  const gw = await gateway()
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SPARKGATE_')),
  )
  const env = { ...base, SPARKGATE_URL: gw.url, SPARKGATE_API_KEY: gw.key }
  const node = process.execPath
  const fromTs = `const { register } = await import('tsx/esm/api'); register(); const { run } = await import(${JSON.stringify(MAIN_TS)}); process.exitCode = await run(['--help'])`
  const cases: { name: string; baseline?: string; run: () => Promise<number> }[] = [
    { name: 'node -e 0', run: () => timed(node, ['-e', '0'], env) },
    {
      name: 'sparkgate --help',
      baseline: 'node -e 0',
      run: () => timed(node, [BIN, '--help'], env),
    },
    {
      name: 'sparkgate --help, from TypeScript (tsx)',
      baseline: 'node -e 0',
      run: () => timed(node, ['--input-type=module', '-e', fromTs], env),
    },
    {
      name: 'curl GET /v1/me',
      run: () =>
        timed(
          'curl',
          ['-sf', '-o', '/dev/null', '-H', `authorization: Bearer ${gw.key}`, `${gw.url}/v1/me`],
          env,
        ),
    },
    { name: 'sparkgate me', baseline: 'curl GET /v1/me', run: () => timed(node, [BIN, 'me'], env) },
    {
      name: 'npx sparkgate --help',
      baseline: 'node -e 0',
      run: () => timed('npx', ['sparkgate', '--help'], env),
    },
  ]
  const samples = new Map(cases.map((c) => [c.name, [] as number[]]))
  try {
    for (let i = 0; i < WARMUP + RUNS; i++)
      for (const c of cases) {
        const t = await c.run()
        if (i >= WARMUP) samples.get(c.name)!.push(t)
      }
  } finally {
    await gw.close()
  }
  const median = (name: string) =>
    pct(
      samples.get(name)!.toSorted((a, b) => a - b),
      50,
    )
  table(
    `sparkgate CLI start-up: ${RUNS} runs each (after ${WARMUP} warm-up), wall ms; Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${new Date().toISOString().slice(0, 10)}`,
    ['command', 'median ms', 'p90 ms', 'median ÷ baseline'],
    cases.map((c) => {
      const sorted = samples.get(c.name)!.toSorted((a, b) => a - b)
      return [
        c.name,
        ms(pct(sorted, 50)),
        ms(pct(sorted, 90)),
        c.baseline ? `${(pct(sorted, 50) / median(c.baseline)).toFixed(2)}× ${c.baseline}` : '-',
      ]
    }),
  )
  const ratio = median('sparkgate --help') / median('node -e 0')
  console.log(
    `\ntarget: sparkgate --help within 3× of node -e 0: ${ratio.toFixed(2)}× — ${ratio <= 3 ? 'met' : 'NOT met'}`,
  )
}

await main()
