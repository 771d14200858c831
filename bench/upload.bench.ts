/**
 * `npm run bench:upload` — dataset upload throughput and the gateway's memory; never run
 * as a test. Needs the local stack (`npm run stack:up`).
 *
 * One file of BENCH_UPLOAD_MIB MiB (default 1024) of random bytes on local disk, sent:
 *   - through POST /v1/datasets of a gateway in its own process (raw body, streamed);
 *   - with `hdfs dfs -put` (Hadoop's FsShell from the stack's Hadoop jars: the Java client);
 *   - with the `webhdfs` npm package (the registry's WebHDFS client, on `request`);
 *   - with `dd` to local disk (the ceiling).
 * MB/s of each and the ratios; then the gateway's peak RSS (VmHWM) over an upload of
 * 100 MiB and of the full size, each in a fresh gateway process: it must not grow with
 * the file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { configWith } from '../src/config.js'
import { webHdfsFromConfig } from '../src/plugins/hdfs.js'
import { removePrefix } from './cleanup.js'

const MiB = 1024 * 1024
const SIZE_MIB = Number(process.env['BENCH_UPLOAD_MIB'] ?? 1024)
const root = fileURLToPath(new URL('../', import.meta.url))
const config = configWith({})
const hdfs = webHdfsFromConfig(config)
const benchRoot = `/sparkgate-bench/${randomUUID().slice(0, 8)}`
const work = join(tmpdir(), `sparkgate-bench-${randomUUID().slice(0, 8)}`)

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

/** JAVA_HOME as the stack's scripts set it. */
function javaHome(): string {
  const script = `eval "$(bash ${join(root, 'docker/local/stack.sh')} env)"; printf %s "$JAVA_HOME"`
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' })
}

async function makeFile(path: string, mib: number) {
  await pipeline(
    createReadStream('/dev/urandom', { start: 0, end: mib * MiB - 1 }),
    createWriteStream(path),
  )
}

/** A gateway in its own process (its memory is measured alone). */
async function startGateway(port: number, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/root',
      SPARKGATE_PORT: String(port),
      SPARKGATE_REDIS_PREFIX: prefix,
      SPARKGATE_HDFS_ROOT: `${benchRoot}/gateway-${prefix}`,
      SPARKGATE_ROLES: 'api',
      SPARKGATE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child
    } catch {
      // starting
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the gateway did not start')
}

async function vm(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024
}

function postFile(port: number, file: string, size: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v1/datasets?name=${name}`,
        headers: { 'content-type': 'application/octet-stream', 'content-length': size },
      },
      (res) => {
        res.resume()
        res.on('end', () =>
          res.statusCode === 201
            ? resolve(res.statusCode)
            : reject(new Error(`HTTP ${res.statusCode}`)),
        )
      },
    )
    req.on('error', reject)
    createReadStream(file).pipe(req)
  })
}

const prefixes: string[] = []
let port = 18_000 + Math.floor(Math.random() * 2000)

/** Upload through a fresh gateway; returns seconds and its peak RSS before/after. */
async function viaGateway(file: string, size: number) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  prefixes.push(prefix)
  const p = port++
  const gateway = await startGateway(p, prefix)
  const before = await vm(gateway.pid!, 'VmHWM')
  const seconds = await timed(() => postFile(p, file, size, 'data.bin'))
  const peak = await vm(gateway.pid!, 'VmHWM')
  gateway.kill('SIGTERM')
  await new Promise((resolve) => gateway.once('exit', resolve))
  return { seconds, before, peak }
}

async function main() {
  await mkdir(work, { recursive: true })
  await hdfs.mkdirs(benchRoot)
  const file = join(work, 'data.bin')
  const small = join(work, 'small.bin')
  console.log(`generating ${SIZE_MIB} MiB and 100 MiB of random bytes in ${work}`)
  await makeFile(file, SIZE_MIB)
  await makeFile(small, 100)
  const size = (await stat(file)).size
  const rows: (string | number)[][] = []

  // dd to local disk, flushed: the ceiling
  const ddSeconds = await timed(async () => {
    execFileSync('dd', [`if=${file}`, `of=${join(work, 'dd.out')}`, 'bs=4M', 'conv=fdatasync'], {
      stdio: 'ignore',
    })
  })
  await rm(join(work, 'dd.out'))

  const gateway = await viaGateway(file, size)

  // hdfs dfs -put: FsShell from the stack's Hadoop jars (JVM start-up included)
  const classpath = (await readFile(join(root, '.stack/run/hdfs.classpath'), 'utf8')).trim()
  const putSeconds = await timed(async () => {
    execFileSync(
      join(javaHome(), 'bin/java'),
      [
        '-cp',
        // the stack's core-site.xml / hdfs-site.xml first
        `${join(root, '.stack/conf/hadoop')}:${classpath}`,
        '-Dlog4j.configuration=file:' + join(root, '.stack/conf/hadoop/log4j.properties'),
        'org.apache.hadoop.fs.FsShell',
        '-fs',
        config.SPARKGATE_HDFS_DEFAULT_FS,
        '-D',
        'dfs.replication=1',
        '-put',
        file,
        `${benchRoot}/put.bin`,
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, HADOOP_USER_NAME: 'sparkgate' },
      },
    )
  })

  // the webhdfs npm package, when it installed
  let webhdfsSeconds: number | undefined
  try {
    const require = createRequire(import.meta.url)
    const WebHDFS = require('webhdfs') as {
      createClient(o: Record<string, unknown>): {
        createWriteStream(path: string): NodeJS.WritableStream
      }
    }
    const url = new URL(config.SPARKGATE_WEBHDFS_URL)
    const client = WebHDFS.createClient({
      user: 'sparkgate',
      host: url.hostname,
      port: Number(url.port),
      path: url.pathname,
    })
    webhdfsSeconds = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const remote = client.createWriteStream(`${benchRoot}/webhdfs.bin`)
          remote.on('error', reject)
          remote.on('finish', () => resolve())
          createReadStream(file).pipe(remote)
        }),
    )
    // the package signals 'finish' when its request is done; check the length landed
    const landed = await hdfs.getFileStatus(`${benchRoot}/webhdfs.bin`)
    if (landed.length !== size) throw new Error(`webhdfs wrote ${landed.length} bytes`)
  } catch (error) {
    console.log(`webhdfs npm package: not measured (${(error as Error).message})`)
  }

  const mbps = (s: number) => size / 1e6 / s
  const ceiling = mbps(ddSeconds)
  const viaApi = mbps(gateway.seconds)
  rows.push([
    'dd to local disk (ceiling)',
    fmt(ddSeconds, 1),
    fmt(ceiling),
    '1.00',
    fmt(ceiling / viaApi, 2),
  ])
  rows.push([
    'POST /v1/datasets (gateway → WebHDFS)',
    fmt(gateway.seconds, 1),
    fmt(viaApi),
    fmt(viaApi / ceiling, 2),
    '1.00',
  ])
  rows.push([
    'hdfs dfs -put (Java client, incl. JVM start)',
    fmt(putSeconds, 1),
    fmt(mbps(putSeconds)),
    fmt(mbps(putSeconds) / ceiling, 2),
    fmt(mbps(putSeconds) / viaApi, 2),
  ])
  if (webhdfsSeconds !== undefined)
    rows.push([
      'webhdfs npm package',
      fmt(webhdfsSeconds, 1),
      fmt(mbps(webhdfsSeconds)),
      fmt(mbps(webhdfsSeconds) / ceiling, 2),
      fmt(mbps(webhdfsSeconds) / viaApi, 2),
    ])
  console.log(`\nUpload of ${fmt(size / MiB)} MiB (${new Date().toISOString()})`)
  console.log('| path | seconds | MB/s | vs dd | vs gateway |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)

  const smallRun = await viaGateway(small, (await stat(small)).size)
  console.log('\nGateway memory over one upload (fresh process each; VmHWM = peak RSS)')
  console.log('| upload | RSS before MiB | peak RSS MiB | growth MiB |')
  console.log('|---|---|---|---|')
  for (const [label, run] of [
    ['100 MiB', smallRun],
    [`${fmt(size / MiB)} MiB`, gateway],
  ] as const)
    console.log(
      `| ${label} | ${fmt(run.before, 1)} | ${fmt(run.peak, 1)} | ${fmt(run.peak - run.before, 1)} |`,
    )
}

try {
  await main()
} finally {
  await hdfs.delete(benchRoot, true).catch(() => undefined)
  await rm(work, { recursive: true, force: true })
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  for (const prefix of prefixes) await removePrefix(redis, prefix)
  redis.disconnect()
}
