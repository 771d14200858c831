/**
 * A batch's archives and its packed Python environment (issue 24, item 5;
 * src/kinds/batch/archives.ts): what the policy checks of each archive, the 400s as
 * problem+json (field and rule), the submission (archives resolved, pythonEnv as the
 * archive sparkgate_pyenv and its Python settings), and what each backend is asked.
 * No service: the job core runs over stand-ins (test/helpers/job-service-unit.ts).
 */
import type { FileStore } from '../../src/storage/file-store.js'
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { sparkSubmitArgs } from '../../src/backends/local/spark-submit.js'
import {
  SynapseBackend,
  staticTokenCredential,
} from '../../src/backends/synapse/synapse-backend.js'
import { JobKinds } from '../../src/domain/job-kinds.js'
import type { JobSpec } from '../../src/domain/job-schema.js'
import type { KindContext } from '../../src/domain/ports/job-kind.js'
import { PYTHON_ENV_ALIAS, archiveFields } from '../../src/kinds/batch/archives.js'
import { JOB_KINDS } from '../../src/kinds/registry.js'
import { toProblem } from '../../src/plugins/problem-handler.js'
import { toSubmission } from '../../src/workers/submit-worker.js'
import { record, serviceWith, tenant } from '../helpers/job-service-unit.js'
import { unitKinds } from '../helpers/kinds.js'

const DS1 = '1'.repeat(64)
const DS2 = '2'.repeat(64)
const URI1 = 'hdfs://nn:8020/sparkgate/tenants/acme/datasets/1/env.tar.gz'
const URI2 = 'hdfs://nn:8020/sparkgate/tenants/acme/datasets/2/deps.zip'
const PY = './sparkgate_pyenv/bin/python'

/** The problem+json of a refused job (fails the test when the job is accepted). */
async function refused(
  t: { fail: (m: string) => void },
  spec: JobSpec,
  over: { confAllow?: string[]; uriPrefixes?: string[] } = {},
  capabilities = {},
) {
  const { service, created } = serviceWith(capabilities)
  try {
    await service.create(tenant(['default'], over), spec)
  } catch (error) {
    if (created.length > 0) t.fail('recorded anyway')
    return toProblem(error, { url: '/v1/jobs' } as FastifyRequest)
  }
  t.fail(`accepted: ${JSON.stringify(spec)}`)
  return undefined
}

t.test('the policy checks each archive’s URI: a dataset reference without its alias', async (t) => {
  t.strictSame(
    archiveFields({
      file: 'hdfs://nn/app.py',
      archives: [`dataset://${DS1}#env`, 'hdfs://nn:8020/x/deps.zip#deps', `dataset://${DS2}`],
      pythonEnv: `dataset://${DS1}`,
    }),
    [
      ['body.batch.archives.0', `dataset://${DS1}`],
      ['body.batch.archives.1', 'hdfs://nn:8020/x/deps.zip#deps'],
      ['body.batch.archives.2', `dataset://${DS2}`],
      ['body.batch.pythonEnv', `dataset://${DS1}`],
    ],
  )
})

t.test('archives and pythonEnv outside the tenant’s policy: 400 uri-policy', async (t) => {
  const problem = await refused(t, {
    batch: {
      file: 'hdfs://nn:8020/app.py',
      archives: ['hdfs://nn:8020/ok.zip#ok', 'hdfs://other:8020/evil.zip#e', 's3a://b/k.tgz'],
      pythonEnv: 'abfss://c@acct.dfs.core.windows.net/env.tar.gz',
    },
  })
  t.equal(problem?.status, 400)
  t.strictSame(
    problem?.errors?.map((e) => [e.field, e.rule]),
    [
      ['body.batch.archives.1', 'uri-policy'],
      ['body.batch.archives.2', 'uri-policy'],
      ['body.batch.pythonEnv', 'uri-policy'],
    ],
  )
  const inside = await refused(
    t,
    { batch: { file: 'hdfs://nn:8020/x/a.py', archives: ['hdfs://nn:8020/x#x'] } },
    { uriPrefixes: ['hdfs://nn:8020/x'] },
  )
  t.match(
    inside?.errors,
    [{ field: 'body.batch.archives.0', rule: 'uri-policy' }],
    'a #link stays strictly inside an allowed prefix',
  )
})

t.test('a user archive may not unpack into sparkgate_pyenv: 400 reserved', async (t) => {
  for (const archive of [
    `dataset://${DS1}#${PYTHON_ENV_ALIAS}`,
    `hdfs://nn:8020/x/env.tgz#${PYTHON_ENV_ALIAS}`,
    `hdfs://nn:8020/x/${PYTHON_ENV_ALIAS}`,
  ]) {
    const problem = await refused(t, {
      batch: { file: 'hdfs://nn:8020/a.py', archives: ['hdfs://nn:8020/ok.zip', archive] },
    })
    t.match(
      problem,
      {
        status: 400,
        code: 'SPARKGATE_VALIDATION',
        errors: [{ field: 'body.batch.archives.1', rule: 'reserved', message: /sparkgate_pyenv/ }],
      },
      archive,
    )
  }
})

t.test('pythonEnv with the user’s own Python settings: 400 naming each key', async (t) => {
  // the keys are protected: only an admin's exact confAllow lets them through the policy
  const keys = [
    'spark.pyspark.python',
    'spark.pyspark.driver.python',
    'spark.yarn.appMasterEnv.PYSPARK_PYTHON',
  ]
  const conf = Object.fromEntries(keys.map((k) => [k, '/usr/bin/python3']))
  const problem = await refused(
    t,
    { batch: { file: 'hdfs://nn:8020/a.py', pythonEnv: 'hdfs://nn:8020/env.tar.gz', conf } },
    { confAllow: keys },
  )
  t.strictSame(
    problem?.errors?.map((e) => [e.field, e.rule]),
    keys.map((k) => [`body.batch.conf.${k}`, 'python-env']),
  )
  const { service } = serviceWith()
  await service.create(tenant(['default'], { confAllow: keys }), {
    batch: { file: 'hdfs://nn:8020/a.py', conf },
  })
  t.pass('without pythonEnv, an admin-allowed Python setting stands')
})

t.test('pythonEnv on a backend that does not unpack into the working dir: 400', async (t) => {
  const problem = await refused(
    t,
    { batch: { file: 'hdfs://nn:8020/a.py', pythonEnv: 'hdfs://nn:8020/env.tar.gz' } },
    {},
    { workDirArchives: false },
  )
  t.match(problem?.errors, [
    {
      field: 'body.batch.pythonEnv',
      rule: 'backend-capability',
      message: /unpacks archives into the driver's and executors' working directory/,
    },
  ])
  const { service } = serviceWith({ workDirArchives: false })
  await service.create(tenant(), {
    batch: { file: 'hdfs://nn:8020/a.py', archives: ['hdfs://nn:8020/deps.zip#deps'] },
  })
  t.pass('plain archives are fine there (a local master unpacks them for SparkFiles)')
})

t.test(
  'the submission: archives resolved with their alias, pythonEnv last, its conf',
  async (t) => {
    const job = record(
      {
        batch: {
          file: 'hdfs://nn:8020/app.py',
          archives: [`dataset://${DS2}#deps`, 'hdfs://nn:8020/m.zip', `dataset://${DS2}`],
          pythonEnv: `dataset://${DS1}`,
          conf: { 'spark.executor.instances': '2' },
        },
      },
      { inputs: { [`dataset://${DS1}`]: URI1, [`dataset://${DS2}`]: URI2 }, queue: 'etl' },
    )
    t.strictSame(toSubmission(job, 1, unitKinds), {
      name: job.id,
      file: 'hdfs://nn:8020/app.py',
      archives: [`${URI2}#deps`, 'hdfs://nn:8020/m.zip', URI2, `${URI1}#sparkgate_pyenv`],
      conf: {
        'spark.executor.instances': '2',
        'spark.pyspark.python': PY,
        'spark.pyspark.driver.python': PY,
        'spark.yarn.appMasterEnv.PYSPARK_PYTHON': PY,
      },
      queue: 'etl',
    })
    const plain = toSubmission(record({ batch: { file: 'hdfs://nn/a.py' } }), 1, unitKinds)
    t.notOk('archives' in plain || 'conf' in plain, 'none given: no empty keys')
  },
)

t.test('the dataset references of archives and pythonEnv are resolved at accept', async (t) => {
  const asked: [string, string][] = []
  const datasets = {
    async resolve(_tenant: string, fields: [string, string][]) {
      asked.push(...fields)
      return { ids: [DS1, DS2], inputs: { [`dataset://${DS1}`]: URI1 }, fields: {} }
    },
  }
  const kinds = new JobKinds(JOB_KINDS, { datasets } as unknown as KindContext)
  const spec = {
    batch: {
      file: 'hdfs://nn:8020/a.py',
      archives: [`dataset://${DS2}#deps`],
      pythonEnv: `dataset://${DS1}`,
    },
  }
  const { kind } = kinds.ofRequest(spec)
  const accepted = await kind.accept(tenant(), spec.batch, {} as FileStore)
  t.match(asked, [
    ['body.batch.file', 'hdfs://nn:8020/a.py'],
    ['body.batch.archives.0', `dataset://${DS2}`],
    ['body.batch.pythonEnv', `dataset://${DS1}`],
  ])
  t.strictSame(accepted.inputs, { [`dataset://${DS1}`]: URI1 })
  t.strictSame(accepted.requires, { workDirArchives: 'body.batch.pythonEnv' })
})

t.test('spark-submit --archives; Synapse archives (and no queue)', async (t) => {
  const b = {
    name: 'j',
    file: 'hdfs://nn/app.py',
    archives: ['hdfs://nn/a.zip#a', 'hdfs://nn/b.tgz'],
  }
  const args = sparkSubmitArgs(b, 'local[2]')
  t.strictSame(args.slice(args.indexOf('--archives'), args.indexOf('--archives') + 2), [
    '--archives',
    'hdfs://nn/a.zip#a,hdfs://nn/b.tgz',
  ])
  const synapse = new SynapseBackend({
    name: 'syn',
    endpoint: 'https://ws.dev.azuresynapse.net',
    pool: 'p',
    credential: staticTokenCredential('t'),
  })
  const sent: unknown[] = []
  Object.assign(synapse.client.sparkBatch, {
    createSparkBatchJob: async (options: unknown) => {
      sent.push(options)
      return { id: 3 }
    },
  })
  await synapse.submit({ ...b, queue: 'etl' })
  t.match(sent[0], { archives: b.archives })
  t.notOk(JSON.stringify(sent[0]).includes('etl'), 'a pool has no queue to choose')
})
