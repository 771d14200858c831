/**
 * A tenant's YARN queues and a batch's archives through the real stack (issue 24, items 4
 * and 5): the policy's yarnQueues from SPARKGATE_POLICY_YARN_QUEUES and from the admin,
 * the 400s over HTTP as problem+json, and a batch with `queue` and `archives` (an uploaded
 * venv-pack tar.gz) run by the real Livy. Livy echoes neither, so the batch itself
 * (test/fixtures/spark/conf_probe.py) writes to HDFS the settings Livy made of them and
 * what its working directory holds. On a local master Spark ignores both; on YARN the
 * archive is unpacked under its alias, which the test then checks too.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import { getJob, createJob, postJob, stage, waitForState } from '../helpers/jobs.js'
import { PROBE_VERSION, packProbeEnv } from '../helpers/python-env.js'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  livyClient,
  ON_YARN,
  tenantOf,
  testConfig,
} from '../helpers/stack.js'

const run = promisify(execFile)
const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url))

t.test('queues and archives through the real Livy', async (t) => {
  const config = testConfig(ON_YARN)
  const app = await build(t, {
    SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
    SPARKGATE_TRACKER_INTERVAL_MS: 500,
    SPARKGATE_POLICY_YARN_QUEUES: 'default,prod',
    SPARKGATE_BACKENDS: JSON.stringify([
      {
        name: 'livy',
        kind: 'livy',
        url: config.SPARKGATE_LIVY_URL,
        yarnUrl: config.SPARKGATE_LIVY_YARN_URL,
      },
      // never submitted to: it is here to refuse a pythonEnv on a local master
      { name: 'local', kind: 'local', sparkHome: process.env['SPARK_HOME'] ?? '/opt/spark' },
    ]),
  })
  const tenant = tenantOf(app).id
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  const fs = config.SPARKGATE_HDFS_DEFAULT_FS
  const me = () =>
    app
      .inject({ method: 'GET', url: '/v1/me' })
      .then((r) => r.json<{ policy: { yarnQueues: string[] } }>())

  await t.test('the server default, then the admin’s list, in GET /v1/me', async (t) => {
    t.strictSame((await me()).policy.yarnQueues, ['default', 'prod'])
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/tenants/${tenant}`,
      headers: bearer(ADMIN_KEY),
      payload: { policy: { yarnQueues: ['prod', 'default'] } },
    })
    t.equal(patched.statusCode, 200, patched.body)
    t.strictSame((await me()).policy.yarnQueues, ['prod', 'default'])
  })

  await t.test('400s as problem+json naming the field and the rule', async (t) => {
    const file = `${fs}${dir}/none.py`
    const cases: [object, string, string][] = [
      [{ queue: 'etl', batch: { file } }, 'body.queue', 'queue-policy'],
      [
        { batch: { file, conf: { 'spark.yarn.queue': 'prod' } } },
        'body.batch.conf.spark.yarn.queue',
        'conf-policy',
      ],
      [
        { batch: { file, archives: [`${fs}${dir}/x.tgz#sparkgate_pyenv`] } },
        'body.batch.archives.0',
        'reserved',
      ],
      [
        { backend: 'local', batch: { file, pythonEnv: `${fs}${dir}/env.tar.gz` } },
        'body.batch.pythonEnv',
        'backend-capability',
      ],
    ]
    for (const [body, field, rule] of cases) {
      const r = await postJob(app, body)
      t.equal(r.statusCode, 400, field)
      t.match(r.headers['content-type'], /^application\/problem\+json/)
      t.match(r.json(), { code: 'SPARKGATE_VALIDATION', errors: [{ field, rule }] }, field)
    }
  })

  // the archive: a packed venv (any tar.gz would do on a local master; on YARN it is
  // unpacked, and the fixture's package is there to be found)
  const envFile = await packProbeEnv()

  await t.test(
    'the packed environment holds the probe, the cluster’s Python does not',
    async (t) => {
      const unpacked = await mkdtemp(join(tmpdir(), 'sparkgate-pyenv-x-'))
      await run('tar', ['xzf', envFile, '-C', unpacked])
      const probe = 'import sparkgate_probe; print("sparkgate_probe", sparkgate_probe.__version__)'
      const { stdout } = await run(join(unpacked, 'bin', 'python'), ['-c', probe])
      t.equal(stdout.trim(), `sparkgate_probe ${PROBE_VERSION}`)
      const python = process.env['PYSPARK_PYTHON'] ?? 'python3'
      await t.rejects(run(python, ['-c', probe]), `${python} lacks it`)
    },
  )

  await t.test('a batch with queue and archives: what Livy handed the driver', async (t) => {
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=probe-env.tar.gz',
      headers: { 'content-type': 'application/octet-stream' },
      payload: await readFile(envFile),
    })
    t.equal(upload.statusCode, 201, upload.body)
    const env = upload.json<Dataset>()
    const probe = await stage(hdfs, fs, fixture('conf_probe.py'), `${dir}/conf_probe.py`)
    const out = `${dir}/out`
    const job = await createJob(app, {
      name: 'conf-probe',
      queue: 'default',
      batch: {
        file: probe,
        args: [`${fs}${out}`],
        archives: [`dataset://${env.id}#probe_env`],
      },
      resources: { driverMemory: '512m' },
    })
    t.equal(job.queue, 'default', 'the job names its queue (not the policy’s first, prod)')
    t.strictSame(job.inputs, { [`dataset://${env.id}`]: env.uri })

    // on YARN the application may wait for an AM slot behind other tests' applications
    const ended = ['succeeded', 'failed', 'cancelled'] as const
    const done = await waitForState((id) => getJob(app, id), job.id, [...ended], 480_000)
    t.equal(done.state, 'succeeded', JSON.stringify(done.error))
    if (done.state !== 'succeeded') return
    t.equal(done.queue, 'default')
    const batch = await livyClient(config).get(Number(done.backendRef!.batchId))
    t.equal(batch.name, job.id, 'Livy accepted the batch under the job’s name')

    const part = (await hdfs.listStatus(out)).find((p) => p.pathSuffix.startsWith('part-'))
    const found = JSON.parse((await hdfs.readFile(`${out}/${part!.pathSuffix}`)).toString()) as {
      conf: Record<string, string>
      cwd: string[]
    }
    t.equal(found.conf['spark.yarn.queue'], 'default', 'Livy made `queue` spark.yarn.queue')
    const archives = Object.entries(found.conf).filter(([k]) => k.includes('archives'))
    t.ok(
      archives.some(([, v]) => v.split(',').includes(`${env.uri}#probe_env`)),
      `the archive with its alias, resolved to the dataset's URI: ${JSON.stringify(archives)}`,
    )
    // YARN unpacks it into the driver's working directory; a local master does not
    if (found.cwd.some((name) => name.startsWith('__spark_conf__') || name === 'probe_env'))
      t.ok(found.cwd.includes('probe_env'), 'on YARN: unpacked under its alias')
  })
})
