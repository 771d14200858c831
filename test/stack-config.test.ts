/**
 * Static checks that keep the fixed points in one place: the ports of
 * docker/local/stack.env are the gateway's config defaults and compose.yaml's published
 * ports; compose and the Dockerfile use only known SPARKGATE_* variables; everything is
 * bound to 127.0.0.1. (No Docker engine runs here, so compose is checked, not started.)
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigSchema, loadConfig } from '../src/config.js'

const stackEnv = Object.fromEntries(
  readFileSync('docker/local/stack.env', 'utf8')
    .split('\n')
    .map((line) => /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[3]!]),
)
/** The local stack's scripts: the entry point, its lib/ and one file per service. */
const stackFiles = [
  'docker/local/stack.sh',
  ...['lib', 'services'].flatMap((dir) =>
    readdirSync(`docker/local/${dir}`)
      .filter((f) => f.endsWith('.sh'))
      .map((f) => `docker/local/${dir}/${f}`),
  ),
]
const stackScript = (file: string) => readFileSync(`docker/local/${file}`, 'utf8')
const port = (url: string) => Number(new URL(url).port)
const defaults = loadConfig({})

interface ComposeService {
  ports?: string[]
  environment?: Record<string, string>
}
const compose = parse(readFileSync('docker/compose.yaml', 'utf8')) as {
  services: Record<string, ComposeService>
}
const published = (service: string) =>
  (compose.services[service]?.ports ?? []).map((p) => Number(p.split(':')[1]))

t.test('stack.env ports are the gateway defaults', async (t) => {
  t.equal(port(defaults.SPARKGATE_REDIS_URL), Number(stackEnv['REDIS_PORT']))
  t.equal(port(defaults.SPARKGATE_WEBHDFS_URL), Number(stackEnv['HDFS_NAMENODE_HTTP_PORT']))
  t.equal(port(defaults.SPARKGATE_HDFS_DEFAULT_FS), Number(stackEnv['HDFS_NAMENODE_RPC_PORT']))
  t.equal(port(defaults.SPARKGATE_LIVY_URL), Number(stackEnv['LIVY_PORT']))
  t.equal(defaults.SPARKGATE_KAFKA_BROKERS, `127.0.0.1:${stackEnv['KAFKA_PORT']}`)
  t.equal(port(defaults.SPARKGATE_MLFLOW_URL), Number(stackEnv['MLFLOW_PORT']))
  t.equal(defaults.SPARKGATE_PORT, Number(stackEnv['GATEWAY_PORT']))
  t.equal(defaults.SPARKGATE_HOST, '127.0.0.1')
})

t.test('compose publishes the same ports, on 127.0.0.1 only', async (t) => {
  for (const [name, service] of Object.entries(compose.services)) {
    for (const mapping of service.ports ?? [])
      t.match(mapping, /^127\.0\.0\.1:\d+:\d+$/, `${name} ${mapping}`)
  }
  t.same(published('redis'), [Number(stackEnv['REDIS_PORT'])])
  t.same(published('namenode'), [
    Number(stackEnv['HDFS_NAMENODE_RPC_PORT']),
    Number(stackEnv['HDFS_NAMENODE_HTTP_PORT']),
  ])
  t.same(published('livy'), [Number(stackEnv['LIVY_PORT'])])
  // the broker's listener only; the KRaft controller listener stays inside the container
  t.same(published('kafka'), [Number(stackEnv['KAFKA_PORT'])])
  t.same(published('mlflow'), [Number(stackEnv['MLFLOW_PORT'])])
  t.same(published('gateway'), [Number(stackEnv['GATEWAY_PORT'])])
})

t.test(
  "compose's gateway uses known SPARKGATE_* variables, pointing at its services",
  async (t) => {
    const env = compose.services['gateway']?.environment ?? {}
    const known = Object.keys(ConfigSchema.properties)
    for (const key of Object.keys(env)) t.ok(known.includes(key), `${key} is a config variable`)
    const config = loadConfig(env)
    t.equal(new URL(config.SPARKGATE_REDIS_URL).hostname, 'redis')
    t.equal(port(config.SPARKGATE_REDIS_URL), Number(stackEnv['REDIS_PORT']))
    t.equal(port(config.SPARKGATE_WEBHDFS_URL), Number(stackEnv['HDFS_NAMENODE_HTTP_PORT']))
    t.equal(port(config.SPARKGATE_HDFS_DEFAULT_FS), Number(stackEnv['HDFS_NAMENODE_RPC_PORT']))
    t.equal(port(config.SPARKGATE_LIVY_URL), Number(stackEnv['LIVY_PORT']))
    t.equal(config.SPARKGATE_KAFKA_BROKERS, `kafka:${stackEnv['KAFKA_PORT']}`)
    t.equal(new URL(config.SPARKGATE_MLFLOW_URL).hostname, 'mlflow')
    t.equal(port(config.SPARKGATE_MLFLOW_URL), Number(stackEnv['MLFLOW_PORT']))
    t.equal(config.SPARKGATE_PORT, Number(stackEnv['GATEWAY_PORT']))
    for (const name of ['redis', 'namenode', 'datanode', 'livy', 'kafka', 'mlflow'])
      t.ok(compose.services[name], `service ${name}`)
  },
)

t.test('the gateway Dockerfile exposes the gateway port and sets known variables', async (t) => {
  const dockerfile = readFileSync('docker/Dockerfile', 'utf8')
  t.match(dockerfile, new RegExp(`^EXPOSE ${stackEnv['GATEWAY_PORT']}$`, 'm'))
  const known = Object.keys(ConfigSchema.properties)
  for (const m of dockerfile.matchAll(/(SPARKGATE_[A-Z_]+)=/g))
    t.ok(known.includes(m[1]!), `${m[1]} is known`)
})

t.test('the local stack binds nothing beyond loopback', async (t) => {
  t.ok(stackFiles.length > 5, `the stack's scripts: ${stackFiles.join(', ')}`)
  for (const file of stackFiles)
    t.notMatch(readFileSync(file, 'utf8'), /0\.0\.0\.0/, `no wildcard address in ${file}`)
  t.match(
    stackScript('services/mlflow.sh'),
    /mlflow" server --host 127\.0\.0\.1 --port "\$MLFLOW_PORT"/,
  )
  t.match(stackScript('services/redis.sh'), /--bind 127\.0\.0\.1/, 'redis --bind 127.0.0.1')
  t.match(
    stackScript('services/azurite.sh'),
    /--blobHost 127\.0\.0\.1 --blobPort "\$AZURITE_BLOB_PORT"/,
    'azurite --blobHost 127.0.0.1',
  )
  t.match(stackScript('services/livy.sh'), /livy\.server\.host = 127\.0\.0\.1/)
  const kafka = stackScript('services/kafka.sh')
  t.match(kafka, /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\$KAFKA_PORT,CONTROLLER:\/\/127\.0\.0\.1:/m)
  t.match(kafka, /^advertised\.listeners=PLAINTEXT:\/\/127\.0\.0\.1:\$KAFKA_PORT$/m)
})

t.test('compose: every service is health-checked, waited for, and pinned', async (t) => {
  const services = (
    parse(readFileSync('docker/compose.yaml', 'utf8')) as {
      services: Record<
        string,
        {
          image?: string
          build?: unknown
          healthcheck?: { test?: unknown }
          depends_on?: unknown
        }
      >
    }
  ).services
  // one-shot services (they run to completion): waited for as completed, not healthy
  const oneShot = new Set(
    Object.values(services).flatMap((s) =>
      Object.entries((s.depends_on as Record<string, { condition?: string }>) ?? {})
        .filter(([, d]) => d.condition === 'service_completed_successfully')
        .map(([name]) => name),
    ),
  )
  for (const [name, s] of Object.entries(services)) {
    if (s.image) {
      const tag = s.image.split(':')[1] ?? ''
      t.match(tag, /^\d+(\.\d+)*/, `${name}: image ${s.image} is pinned to a version`)
    } else t.ok(s.build, `${name}: built from this repository`)
    if (!oneShot.has(name)) t.ok(s.healthcheck?.test, `${name} has a health check`)
    if (s.depends_on === undefined) continue
    t.notOk(Array.isArray(s.depends_on), `${name}: depends_on names a condition for each`)
    for (const [dep, d] of Object.entries(s.depends_on as Record<string, { condition?: string }>))
      t.ok(
        ['service_healthy', 'service_completed_successfully'].includes(d.condition ?? ''),
        `${name} waits for ${dep} to be ${d.condition}`,
      )
  }
  t.same(
    Object.entries(services)
      .filter(([, s]) => (s.depends_on as Record<string, unknown> | undefined)?.['hdfs-volumes'])
      .map(([name]) => name)
      .sort(),
    ['datanode', 'namenode'],
    'the HDFS data folders are given to the Hadoop user before either starts',
  )
})

t.test('the gateway image runs on a current Node LTS', async (t) => {
  const dockerfile = readFileSync('docker/Dockerfile', 'utf8')
  const froms = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]))
  t.ok(froms.length >= 1, 'built on the official node image')
  for (const major of froms) {
    t.equal(major % 2, 0, `node ${major}: an LTS line (even)`)
    t.ok(major >= 24, `node ${major}: not past its end of life`)
  }
  t.match(dockerfile, /^USER node$/m, 'runs as the unprivileged node user')
})

t.test('Redis fsyncs its append-only file before every reply, in both stacks', async (t) => {
  // a 202 for a job is on disk (issue 14, window 10; the cost: npm run bench:jobs, part 4)
  const script = stackScript('services/redis.sh')
  t.match(script, /--appendonly yes --appendfsync always/, 'docker/local/services/redis.sh')
  const command = (compose.services['redis'] as { command?: string[] }).command ?? []
  t.match(command.join(' '), /--appendonly yes --appendfsync always/, 'docker/compose.yaml')
})

t.test("compose's MLflow image installs the local stack's pinned MLflow", async (t) => {
  const dockerfile = readFileSync('docker/mlflow/Dockerfile', 'utf8')
  t.match(dockerfile, `pip install --no-cache-dir ${stackEnv['MLFLOW_PACKAGES']} `)
  t.match(dockerfile, /"--port", "5005"/)
  t.equal(stackEnv['MLFLOW_PORT'], '5005')
})

t.test("every stack port is outside Linux's ephemeral range", async (t) => {
  // A listener on an ephemeral port can find it taken by some client connection's own end
  // (the KDC on 60088 once failed to bind in a busy test run): stack ports stay below it.
  const ports = Object.entries(stackEnv).filter(([name]) => name.endsWith('_PORT'))
  t.ok(ports.length > 10, `${ports.length} ports`)
  for (const [name, value] of ports) {
    const n = Number(value)
    t.ok(n > 0 && (n < 32768 || n > 60999), `${name}=${value} is not in 32768-60999`)
  }
})
