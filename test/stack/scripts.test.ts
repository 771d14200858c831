/**
 * The local stack's own scripts, against the running stack, read-only: health checks that
 * never call a healthy service down (no `curl | grep -q` under pipefail), an `up` that
 * starts nothing when everything is already running and ours, and the local-spark.json
 * that lets the gateway's local backend find the stack's Spark. Nothing here stops
 * anything.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const STACK = 'docker/local/stack.sh'

interface Run {
  code: number
  stdout: string
  stderr: string
  ms: number
}

/** Runs bash with args; resolves with the exit code (never rejects on a non-zero one). */
function bash(args: string[], timeout = 120_000): Promise<Run> {
  const t0 = Date.now()
  return new Promise((resolve) => {
    execFile('bash', args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

async function stateDir(): Promise<string> {
  const status = await bash([STACK, 'status', '--json'])
  return (JSON.parse(status.stdout) as { stateDir: string }).stateDir
}

const SERVICES = [
  'redis',
  'kafka',
  'hdfs',
  'yarn',
  'nodemanager',
  'timeline',
  'livy',
  'livy-local',
  'mlflow',
  'azurite',
  'synapse',
  'proxy',
]

async function pids(state: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of SERVICES)
    out[name] = (await readFile(join(state, 'run', `${name}.pid`), 'utf8').catch(() => '')).trim()
  return out
}

for (const [service, times] of [
  ['hdfs', 60],
  ['yarn', 20],
  ['nodemanager', 20],
  ['timeline', 20],
  ['redis', 20],
  ['livy', 20],
  ['livy-local', 20],
  ['kafka', 20],
  ['mlflow', 20],
  ['azurite', 20],
  ['synapse', 20],
  ['proxy', 20],
] as const) {
  t.test(`stack.sh check ${service} passes ${times} times in a row`, async (t) => {
    const failures: string[] = []
    for (let i = 0; i < times; i++) {
      const run = await bash([STACK, 'check', service])
      if (run.code !== 0) failures.push(`#${i + 1}: exit ${run.code} ${run.stderr.trim()}`)
    }
    t.same(failures, [], `${times - failures.length}/${times} checks passed`)
  })
}

function alive(pid: string) {
  try {
    return pid !== '' && process.kill(Number(pid), 0)
  } catch {
    return false
  }
}

t.test('stack.sh up with everything running starts nothing', async (t) => {
  const state = await stateDir()
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-up-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const startedFile = join(dir, 'started')
  const before = await pids(state)

  const run = await bash([STACK, 'up', '--started-file', startedFile])
  if (!Object.values(before).every(alive)) {
    // The services answering were started by another checkout of this repository (its
    // pid files are not ours): up refuses their ports as a stranger's and starts nothing.
    t.not(run.code, 0, 'up refuses ports it does not own')
    t.match(run.stderr, /already taken.*not by a process this script started/)
    t.equal((await readFile(startedFile, 'utf8').catch(() => '')).trim(), '', 'nothing started')
    return
  }
  t.equal(run.code, 0, `up exits 0 (${run.ms} ms)`)
  if (run.code !== 0) t.comment(run.stderr)
  t.ok(run.ms < 30_000, 'and quickly')
  const started = (await readFile(startedFile, 'utf8').catch(() => '')).trim()
  t.equal(started, '', 'its started-report names no service')
  for (const name of SERVICES)
    t.match(run.stderr, new RegExp(`stack: +${name} already running \\(pid \\d+\\)`), name)
  t.same(await pids(state), before, 'the pid files are unchanged')
})

t.test('stack.sh status --json: YARN, its node and its log server', async (t) => {
  const status = JSON.parse((await bash([STACK, 'status', '--json'])).stdout) as Record<
    string,
    { up?: boolean; url?: string; queues?: string[] }
  >
  t.same(
    { up: status['yarn']?.up, url: status['yarn']?.url, queues: status['yarn']?.queues },
    { up: true, url: 'http://127.0.0.1:8088', queues: ['default', 'prod'] },
  )
  t.equal(status['nodemanager']?.up, true)
  t.equal(status['timeline']?.up, true)
  // the RM's REST API answers, as on every real cluster
  const info = (await (await fetch('http://127.0.0.1:8088/ws/v1/cluster/info')).json()) as {
    clusterInfo: { state: string }
  }
  t.equal(info.clusterInfo.state, 'STARTED')
  const queues = (await (await fetch('http://127.0.0.1:8088/ws/v1/cluster/scheduler')).json()) as {
    scheduler: { schedulerInfo: { queues: { queue: { queueName: string }[] } } }
  }
  t.same(queues.scheduler.schedulerInfo.queues.queue.map((q) => q.queueName).sort(), [
    'default',
    'prod',
  ])
})

t.test("local-spark.json names the stack's Spark, as `stack.sh env` does", async (t) => {
  const state = await stateDir()
  const file = join(state, 'run', 'local-spark.json')
  const spark = JSON.parse(await readFile(file, 'utf8')) as {
    sparkHome: string
    env: Record<string, string>
  }
  t.same(Object.keys(spark), ['sparkHome', 'env'])
  t.same(Object.keys(spark.env).sort(), [
    'HADOOP_CONF_DIR',
    'JAVA_HOME',
    'PYSPARK_PYTHON',
    'SPARK_CONF_DIR',
    'SPARK_LOCAL_IP',
  ])
  await t.resolves(
    access(join(spark.sparkHome, 'bin', 'spark-submit'), constants.X_OK),
    'sparkHome has an executable bin/spark-submit',
  )
  await t.resolves(access(join(spark.env['JAVA_HOME']!, 'bin', 'java'), constants.X_OK))
  await t.resolves(access(spark.env['PYSPARK_PYTHON']!, constants.X_OK))
  t.equal(spark.env['SPARK_LOCAL_IP'], '127.0.0.1')

  const names = ['SPARK_HOME', 'JAVA_HOME', 'HADOOP_CONF_DIR', 'SPARK_CONF_DIR', 'PYSPARK_PYTHON']
  const env = await bash([
    '-c',
    `eval "$(bash ${STACK} env)" && printf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`,
  ])
  t.equal(env.code, 0, 'stack.sh env runs')
  const [sparkHome, ...rest] = env.stdout.trim().split('\n')
  t.equal(spark.sparkHome, sparkHome, 'sparkHome is SPARK_HOME')
  t.same(
    names.slice(1).map((n) => spark.env[n]),
    rest,
    'env holds the values stack.sh env prints',
  )
})

t.test(
  "with nothing set, the gateway's backends are the whole stack, its Spark included",
  async (t) => {
    // what `npm run stack:up && npm start` gets: no SPARKGATE_*, no SPARK_HOME exported
    const saved = process.env['SPARK_HOME']
    delete process.env['SPARK_HOME']
    t.teardown(() => {
      if (saved !== undefined) process.env['SPARK_HOME'] = saved
    })
    const state = await stateDir()
    const spark = JSON.parse(await readFile(join(state, 'run', 'local-spark.json'), 'utf8'))
    const { loadConfig } = await import('../../src/config.js')
    const { createBackends } = await import('../../src/backends/create-backends.js')
    const config = loadConfig({ STACK_DIR: state })
    const savedDir = process.env['STACK_DIR']
    process.env['STACK_DIR'] = state
    t.teardown(() => {
      if (savedDir === undefined) delete process.env['STACK_DIR']
      else process.env['STACK_DIR'] = savedDir
    })
    const backends = createBackends(
      config.SPARKGATE_BACKENDS,
      config.SPARKGATE_DEFAULT_BACKEND,
      config,
    )
    // the Synapse double too, with its storage account (Azurite): the whole local Azure
    t.same([...backends.byName.keys()], ['livy', 'local', 'synapse'])
    const synapse = backends.byName.get('synapse')!
    t.match(synapse.backend, { kind: 'synapse', endpoint: /^https:\/\/127\.0\.0\.1:10443 / })
    t.equal(synapse.store?.id, 'abfss://sparkgate@sparkgate.dfs.core.windows.net/sparkgate')
    await synapse.backend.health() // the pool and its storage answer, with their credentials
    const local = backends.byName.get('local')!.backend
    t.equal(local.kind, 'local')
    t.match(local.endpoint, spark.sparkHome, "the stack's Spark home")
    await local.health() // its spark-submit is there and executable
  },
)
