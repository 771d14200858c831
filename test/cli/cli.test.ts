/**
 * The `sparkgate` CLI as a person runs it: a child process (`node src/cli/bin.js`, what
 * `npx sparkgate` runs) against a live gateway on the real stack, checked through the
 * typed client the CLI itself is built on. No mocks: uploads go to HDFS, jobs to Livy.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ApiError, SparkgateClient, type Job } from '../../src/client/client.js'
import {
  ADMIN_KEY,
  build,
  hdfsClient,
  hdfsTestDir,
  tenantName,
  tenantOf,
  uniqueId,
} from '../helpers/stack.js'
import { freePort, stage } from '../helpers/jobs.js'

const BIN = join(import.meta.dirname, '../../src/cli/bin.js')
const CHURN = join(import.meta.dirname, '../../jobs/examples/data/churn.csv')
const fixture = (name: string) => join(import.meta.dirname, '../fixtures/spark', name)

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI; env SPARKGATE_URL / SPARKGATE_API_KEY as given (nothing else of ours). */
function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('SPARKGATE_')),
    )
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...base, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin ?? '')
  })
}

const NO_STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m

async function gateway(t: Parameters<typeof build>[0]) {
  const app = await build(t)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const tenant = tenantOf(app)
  const env = { SPARKGATE_URL: url, SPARKGATE_API_KEY: tenant.key }
  return { app, url, tenant, env, client: new SparkgateClient({ url, key: tenant.key }) }
}

t.test('usage errors exit 2 and say what is wrong', async (t) => {
  const help = await cli(['--help'])
  t.equal(help.code, 0, '--help')
  for (const command of ['datasets', 'train', 'submit', 'jobs', 'logs', 'result', 'models'])
    t.match(help.stdout, command, `--help lists ${command}`)

  const unknown = await cli(['frobnicate'], { SPARKGATE_API_KEY: 'sgk_x' })
  t.equal(unknown.code, 2, 'an unknown command')
  t.match(unknown.stderr, /unknown command 'frobnicate'/)

  const missing = await cli(['train', '--algorithm', 'kmeans'], { SPARKGATE_API_KEY: 'sgk_x' })
  t.equal(missing.code, 2, 'a required option missing')
  t.match(missing.stderr, /--dataset/)

  const param = await cli(['train', '--dataset', 'x', '--algorithm', 'kmeans', '--param', 'k'], {
    SPARKGATE_API_KEY: 'sgk_x',
  })
  t.equal(param.code, 2, 'a --param without =')
  t.match(param.stderr, /expected name=value/)

  const noKey = await cli(['me'])
  t.equal(noKey.code, 2, 'no API key')
  t.match(noKey.stderr, /SPARKGATE_API_KEY/)

  const noFile = await cli(['datasets', 'upload', '/nonexistent/data.csv'], {
    SPARKGATE_API_KEY: 'sgk_x',
  })
  t.equal(noFile.code, 2, 'a file that is not there')
  t.match(noFile.stderr, /ENOENT/)

  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-cli-'))
  await writeFile(join(dir, 'job.json'), '{"batch": ')
  const badJson = await cli(['submit', join(dir, 'job.json')], { SPARKGATE_API_KEY: 'sgk_x' })
  t.equal(badJson.code, 2, 'a job file that is not JSON')
  t.match(badJson.stderr, /not JSON/)
  for (const r of [unknown, missing, param, noKey, noFile, badJson])
    t.notMatch(r.stderr, NO_STACK_TRACE, 'no stack trace')
})

t.test('a gateway that cannot be reached exits 3', async (t) => {
  const port = await freePort()
  const r = await cli(['datasets', 'ls'], {
    SPARKGATE_URL: `http://127.0.0.1:${port}`,
    SPARKGATE_API_KEY: 'sgk_x',
  })
  t.equal(r.code, 3)
  t.match(r.stderr, `cannot reach the gateway at http://127.0.0.1:${port}: ECONNREFUSED`)
  t.notMatch(r.stderr, NO_STACK_TRACE)
})

t.test('the gateway refusing prints the problem detail and code, exits 1', async (t) => {
  const { env } = await gateway(t)
  const notThere = await cli(['datasets', 'show', '0'.repeat(64)], env)
  t.equal(notThere.code, 1)
  t.match(notThere.stderr, /\(SPARKGATE_DATASET_NOT_FOUND, HTTP 404\)/)
  t.notMatch(notThere.stderr, NO_STACK_TRACE)

  const badKey = await cli(['me'], { ...env, SPARKGATE_API_KEY: 'sgk_not-a-key-0000000000000000' })
  t.equal(badKey.code, 1)
  t.match(badKey.stderr, /HTTP 401/)

  // a rule broken in the body: the field and the rule are named
  const invalid = await cli(
    ['train', '--dataset', 'f'.repeat(64), '--algorithm', 'logistic_regression', '--test', '2'],
    env,
  )
  t.equal(invalid.code, 1)
  t.match(invalid.stderr, /SPARKGATE_VALIDATION, HTTP 400/)
  t.match(invalid.stderr, /body\.training\.split\.test: .* \(maximum\)/)

  // a queue the tenant's policy does not list (its yarnQueues: the server default, `default`)
  const queue = await cli(
    ['train', '--dataset', 'f'.repeat(64), '--algorithm', 'logistic_regression', '--queue', 'etl'],
    env,
  )
  t.equal(queue.code, 1)
  t.match(queue.stderr, /SPARKGATE_VALIDATION, HTTP 400/)
  t.match(queue.stderr, /body\.queue: .*\(queue-policy\)/)
})

t.test('datasets: upload with progress, ls, show, preview, rm', async (t) => {
  const { env, client } = await gateway(t)
  const up = await cli(['datasets', 'upload', CHURN, '--name', 'churn.csv'], env)
  t.equal(up.code, 0, up.stderr)
  t.match(up.stdout, /^uploaded: churn\.csv, [\d.]+ KiB in [\d.]+ s$/m)
  t.match(up.stdout, /columns: .*tenure_months \(integer\)/)
  // the progress bar (stderr is a pipe here: cli-progress writes its line on each tick)
  t.match(up.stderr, /upload \[.*\] 100% \| [\d.]+ KiB of [\d.]+ KiB \| [\d.]+ (B|KiB|MiB)\/s/)
  const id = /^id:\s+([0-9a-f]{64})$/m.exec(up.stdout)?.[1]
  t.ok(id, 'prints the id')
  const dataset = await client.getDataset(id!)
  t.equal(dataset.name, 'churn.csv', 'the typed client sees it')

  const again = await cli(['--json', 'datasets', 'upload', CHURN, '--name', 'churn.csv'], env)
  t.equal(again.code, 0)
  const json = JSON.parse(again.stdout)
  t.equal(json.id, id)
  t.equal(json.created, false, 'the same bytes again: the existing dataset')
  t.equal(again.stderr, '', 'no progress bar under --json')

  const ls = await cli(['datasets', 'ls'], env)
  t.match(ls.stdout, /^ID\s+NAME\s+FORMAT\s+SIZE\s+CREATEDAT$/m)
  t.match(ls.stdout, new RegExp(`^${id}\\s+churn\\.csv\\s+csv`, 'm'))

  const show = await cli(['datasets', 'show', id!], env)
  t.match(show.stdout, /^uri:\s+hdfs:\/\//m)
  t.match(show.stdout, /^contract\s+string$/m)

  const preview = await cli(['datasets', 'preview', id!, '--rows', '3'], env)
  t.equal(preview.code, 0)
  const lines = preview.stdout.trim().split('\n')
  t.equal(lines.length, 4, 'a header and three rows')
  t.match(lines[0], /^CUSTOMER\s+TENURE_MONTHS\s+/)

  const previewJson = JSON.parse((await cli(['--json', 'datasets', 'preview', id!], env)).stdout)
  t.ok(Array.isArray(previewJson.rows), '--json: the gateway JSON')

  const rm = await cli(['datasets', 'rm', id!], env)
  t.equal(rm.code, 0)
  t.match(rm.stdout, `deleted ${id}`)
  const gone = await client.getDataset(id!).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(gone instanceof ApiError && gone.status === 404, 'gone: the typed client gets a 404')
})

/** The CLI line `npm run demo` prints to reproduce its training, with the dataset id in. */
async function demoTrainArgs(datasetId: string): Promise<string[]> {
  const demo = await readFile(join(import.meta.dirname, '../../docker/local/demo.sh'), 'utf8')
  const line = /^cli_train="npx sparkgate (train .*)"$/m.exec(demo)?.[1]
  if (!line) throw new Error('docker/local/demo.sh has no cli_train="npx sparkgate train …" line')
  return line.replaceAll('$dataset_id', datasetId).split(' ')
}

t.test(
  "train --wait on Livy (the demo's command line), then result, logs, jobs and models",
  async (t) => {
    const { env, client } = await gateway(t)
    const { dataset } = await client.uploadDataset(CHURN)
    const model = 'churn-demo'
    const train = await cli(await demoTrainArgs(dataset.id), env)
    t.equal(train.code, 0, `train --wait exits 0 on success: ${train.stderr}`)
    // the live state line: one line per state the stream reported, with the elapsed time
    t.match(train.stderr, /^job [0-9a-f-]{36}: queued \(accepted\) {2}[\d.]+ s$/m)
    t.match(train.stderr, /^job [0-9a-f-]{36}: submitted \(livy batch \d+\) {2}[\d.]+ s$/m)
    t.match(train.stderr, /^job [0-9a-f-]{36}: running \(livy: running\) {2}[\d.]+ s$/m)
    t.match(train.stderr, /^job [0-9a-f-]{36}: succeeded after [\d.]+ (s|min)/m)
    const jobId = /job ([0-9a-f-]{36})/.exec(train.stderr)![1]!
    const job = await client.getJob(jobId)
    t.equal(job.state, 'succeeded', 'the typed client agrees')
    t.same(job.spec.training?.params, { maxIter: 100 }, '--param k=v parsed as JSON')
    t.same(job.spec.training?.split, { test: 0.25, seed: 7 })
    t.match(train.stdout, `result: sparkgate result ${jobId}`)

    const result = await cli(['result', jobId], env)
    t.equal(result.code, 0)
    t.match(result.stdout, new RegExp(`^model: ${model} v1 `, 'm'))
    t.match(result.stdout, /^accuracy\s+0\.\d+$/m)
    const resultJson = JSON.parse((await cli(['--json', 'result', jobId], env)).stdout)
    t.equal(resultJson.modelName, model)
    t.type(resultJson.metrics.accuracy, 'number')
    // jobs result --plots DIR: every plot the job drew, saved as DIR/<name>.png, the same bytes
    const dir = join(await mkdtemp(join(tmpdir(), 'sparkgate-plots-')), 'plots')
    const saved = await cli(['jobs', 'result', jobId, '--plots', dir], env)
    t.equal(saved.code, 0, saved.stderr)
    const { plots } = await client.plots(jobId)
    t.same(
      plots.map((p) => p.name),
      ['calibration', 'confusion-matrix', 'importances', 'pr', 'roc'],
    )
    for (const plot of plots) {
      const file = join(dir, `${plot.name}.png`)
      t.match(saved.stdout, `plot: ${file}  (${plot.title})`)
      t.same(await readFile(file), Buffer.from(await client.plot(jobId, plot.name)))
    }
    // a folder that cannot be made (under a file): exit 2, what went wrong, no stack trace
    const cannot = await cli(['result', jobId, '--plots', join(CHURN, 'plots')], env)
    t.equal(cannot.code, 2)
    t.match(cannot.stderr, /^sparkgate: ENOTDIR/m)

    const logs = await cli(['logs', jobId], env)
    t.equal(logs.code, 0)
    t.ok(logs.stdout.split('\n').length > 5, 'the driver log')
    const follow = await cli(['logs', jobId, '-f'], env)
    t.equal(follow.code, 0, 'logs -f of a finished job prints and exits')
    t.equal(follow.stdout, logs.stdout, 'the same lines')

    const jobs = await cli(['jobs', 'ls', '--state', 'succeeded'], env)
    t.match(jobs.stdout, new RegExp(`^${jobId}\\s+\\S+\\s+training\\s+succeeded\\s+livy`, 'm'))
    const show = await cli(['jobs', 'show', jobId], env)
    t.match(show.stdout, /^state:\s+succeeded$/m)

    const models = await cli(['models', 'ls'], env)
    t.match(
      models.stdout,
      new RegExp(`^${model}\\s+1\\s+1\\s+logistic_regression\\s+.*accuracy=`, 'm'),
    )
    const versions = await cli(['models', 'show', model], env)
    t.match(versions.stdout, new RegExp(`^1\\s+logistic_regression\\s+.*${jobId}`, 'm'))

    const waitJson = await cli(['--json', 'jobs', 'wait', jobId], env)
    t.equal(waitJson.code, 0, 'jobs wait on a finished job')
    t.equal(JSON.parse(waitJson.stdout).state, 'succeeded')
  },
)

t.test('submit --wait: a failed job exits 1 with its error; a cancelled one too', async (t) => {
  const { app, env } = await gateway(t)
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const fs = app.config.SPARKGATE_HDFS_DEFAULT_FS
  const raising = await stage(hdfs, fs, fixture('raise_error.py'), `${dir}/raise_error.py`)
  const sleeping = await stage(hdfs, fs, fixture('sleep.py'), `${dir}/sleep.py`)

  // a spec from stdin, and an idempotency key: the retry is the same job
  const spec = JSON.stringify({ name: 'raises', batch: { file: raising }, maxAttempts: 1 })
  const key = uniqueId('idem')
  const failed = await cli(['submit', '-', '--wait', '--idempotency-key', key], env, spec)
  t.equal(failed.code, 1, 'a failed job exits 1')
  t.match(failed.stderr, /^job [0-9a-f-]{36}: failed after /m)
  t.match(failed.stderr, /^sparkgate: job failed: .+ \(SPARK_APP_FAILED\)$/m)
  t.notMatch(failed.stderr, NO_STACK_TRACE)
  const retried = JSON.parse(
    (await cli(['--json', 'submit', '-', '--idempotency-key', key], env, spec)).stdout,
  ) as Job
  t.match(failed.stderr, retried.id, 'the same key: the same job')

  const dirLocal = await mkdtemp(join(tmpdir(), 'sparkgate-cli-'))
  const file = join(dirLocal, 'sleep.json')
  await writeFile(
    file,
    JSON.stringify({ name: 'sleeps', batch: { file: sleeping, args: ['600'] } }),
  )
  const submitted = await cli(['submit', file], env)
  t.equal(submitted.code, 0)
  const id = /job ([0-9a-f-]{36}) accepted/.exec(submitted.stdout)?.[1]
  t.ok(id, 'prints the job id')
  const cancel = await cli(['jobs', 'cancel', id!], env)
  t.equal(cancel.code, 0, cancel.stderr)
  t.match(cancel.stdout, new RegExp(`job ${id}: (cancelled|cancel requested)`))
  const waited = await cli(['jobs', 'wait', id!], env)
  t.equal(waited.code, 1, 'a cancelled job exits 1')
  t.match(waited.stderr, new RegExp(`job ${id}: cancelled after`))
})

t.test('admin: tenants and keys; the new key works', async (t) => {
  const { url } = await gateway(t)
  const admin = { SPARKGATE_URL: url, SPARKGATE_API_KEY: ADMIN_KEY }
  const name = tenantName('cli')
  const created = await cli(['tenants', 'create', name], admin)
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, `tenant ${name} created`)
  const listed = await cli(['tenants', 'ls'], admin)
  t.match(listed.stdout, new RegExp(`^${name}\\s`, 'm'))

  const key = JSON.parse(
    (await cli(['--json', 'keys', 'create', name, '--role', 'viewer', '--name', 'ci'], admin))
      .stdout,
  )
  t.match(key.key, /^sgk_/)
  const me = await cli(['me'], { SPARKGATE_URL: url, SPARKGATE_API_KEY: key.key })
  t.match(me.stdout, new RegExp(`^tenant:\\s+${name}$`, 'm'))
  t.match(me.stdout, /^role:\s+viewer$/m)
  const viewer = { SPARKGATE_URL: url, SPARKGATE_API_KEY: key.key }
  const backends = await cli(['backends'], viewer)
  t.equal(backends.code, 0, backends.stderr)
  t.match(backends.stdout, /^NAME\s+KIND\s+AUTH\s+DEFAULT\s+HEALTHY/m)
  t.match(backends.stdout, /^livy\s+livy\s+none\s+\*\s+yes/m, 'the default backend, healthy')
  const backendsJson = JSON.parse((await cli(['--json', 'backends'], viewer)).stdout)
  t.match(backendsJson, [{ name: 'livy', kind: 'livy', default: true, healthy: true }])
  const keys = await cli(['keys', 'ls', name], admin)
  t.match(keys.stdout, new RegExp(`^${key.id}\\s+ci\\s+viewer`, 'm'))
  t.notMatch(keys.stdout, key.key, 'never the secret')

  const viewerWrites = await cli(['tenants', 'create', tenantName('no')], {
    SPARKGATE_URL: url,
    SPARKGATE_API_KEY: key.key,
  })
  t.equal(viewerWrites.code, 1, 'a viewer key cannot make tenants')
  t.match(viewerWrites.stderr, /HTTP 403/)

  t.equal((await cli(['keys', 'revoke', name, key.id], admin)).code, 0)
  const revoked = await cli(['me'], { SPARKGATE_URL: url, SPARKGATE_API_KEY: key.key })
  t.equal(revoked.code, 1)
  t.match(revoked.stderr, /HTTP 401/)

  const badRole = await cli(['keys', 'create', name, '--role', 'root'], admin)
  t.equal(badRole.code, 2, 'a role that is not one: usage')
})

t.test('engines: start, ls, show, stop; an unknown one exits 1 with its code', async (t) => {
  const { env } = await gateway(t)
  const start = await cli(['engines', 'start', '--json'], env)
  t.equal(start.code, 0, start.stderr)
  const engine = JSON.parse(start.stdout) as { id: string; state: string }
  t.equal(engine.state, 'starting')
  const ls = await cli(['engines', 'ls'], env)
  t.equal(ls.code, 0, ls.stderr)
  t.match(ls.stdout, engine.id)
  t.match(ls.stdout, /JOBSSERVED/)
  const show = await cli(['engines', 'show', engine.id], env)
  t.match(show.stdout, /idleTimeoutSeconds|clusterUser/)
  const stop = await cli(['engines', 'stop', engine.id, '--json'], env)
  t.equal(stop.code, 0, stop.stderr)
  t.match(JSON.parse(stop.stdout), { id: engine.id, state: /stopping|stopped/ })
  const unknown = await cli(['engines', 'show', 'eng-nope'], env)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, 'SPARKGATE_ENGINE_NOT_FOUND')
})

t.test('npx sparkgate runs the package bin', async (t) => {
  const r = await new Promise<Run>((resolve) => {
    const child = spawn('npx', ['--no-install', 'sparkgate', '--version'], { stdio: 'pipe' })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }))
  })
  t.equal(r.code, 0)
  t.match(r.stdout, /^\d+\.\d+\.\d+/)
})
