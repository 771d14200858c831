/**
 * YARN queues per tenant (issue 24, item 4): the policy's yarnQueues checked for a job's
 * `queue` (checkQueue), `spark.yarn.queue` refused in conf, the queue the job core records
 * (JobService.create with stand-ins for the store and queue: no Redis), the 400s as
 * problem+json, and what each backend is asked (Livy's `queue`, spark-submit's --queue on
 * YARN only, nothing on Synapse). The server default comes from SPARKGATE_POLICY_YARN_QUEUES.
 */
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { LivyBackend } from '../../src/backends/livy/livy-backend.js'
import { isYarn, sparkSubmitArgs } from '../../src/backends/local/spark-submit.js'
import { ConfigError, configWith, loadConfig } from '../../src/config.js'
import { SparkgateError } from '../../src/errors.js'
import { toProblem } from '../../src/plugins/problem-handler.js'
import { checkConf, checkQueue, type Policy } from '../../src/tenancy/policy.js'
import { TenantStore } from '../../src/tenancy/tenant-store.js'
import { batchName, toSubmission } from '../../src/workers/submit-worker.js'
import { unitKinds } from '../helpers/kinds.js'
import { record, serviceWith, tenant } from '../helpers/job-service-unit.js'

const policy = (yarnQueues: string[], confAllow: string[] = []): Policy => ({
  uriPrefixes: [],
  confAllow,
  yarnQueues,
  localFolders: [],
})

t.test(
  'checkQueue: a listed queue or none passes; another is refused naming body.queue',
  async (t) => {
    const p = policy(['etl', 'root.adhoc'])
    t.strictSame(checkQueue('etl', p), [])
    t.strictSame(checkQueue('root.adhoc', p), [])
    t.strictSame(checkQueue(undefined, p), [], 'none: the policy’s first')
    t.strictSame(checkQueue('prod', p), [
      {
        field: 'body.queue',
        rule: 'queue-policy',
        message:
          "is not a YARN queue of the tenant's policy; allowed: etl, root.adhoc (see GET /v1/me policy.yarnQueues)",
      },
    ])
    t.equal(checkQueue('ETL', p).length, 1, 'YARN queue names are case-sensitive')
  },
)

t.test('spark.yarn.queue in conf is refused, even when confAllow names it', async (t) => {
  for (const confAllow of [[], ['spark.yarn.queue'], ['spark.yarn.*', 'spark.*']]) {
    const refused = checkConf({ 'spark.yarn.queue': 'default' }, policy(['default'], confAllow))
    t.strictSame(
      refused.map((e) => [e.field, e.rule]),
      [['body.batch.conf.spark.yarn.queue', 'conf-policy']],
      `confAllow ${JSON.stringify(confAllow)}`,
    )
    t.match(refused[0]?.message, /job's queue field \(body\.queue\)/)
  }
})

t.test(
  'SPARKGATE_POLICY_YARN_QUEUES: default "default", a comma list of queue names',
  async (t) => {
    t.equal(configWith({}).SPARKGATE_POLICY_YARN_QUEUES, 'default')
    t.equal(
      loadConfig({ SPARKGATE_POLICY_YARN_QUEUES: 'etl,root.adhoc' }).SPARKGATE_POLICY_YARN_QUEUES,
      'etl,root.adhoc',
    )
    for (const bad of ['etl,', 'a b', ',etl', 'etl..x'])
      t.throws(() => loadConfig({ SPARKGATE_POLICY_YARN_QUEUES: bad }), ConfigError, bad)
  },
)

t.test('a tenant’s yarnQueues: the server default, unless its admin set its own', async (t) => {
  const stored = new Map<string, string>()
  const redis = {
    async get(key: string) {
      return stored.get(key) ?? null
    },
    async set(key: string, value: string) {
      stored.set(key, value)
      return 'OK'
    },
    async zadd() {
      return 1
    },
  } as unknown as ConstructorParameters<typeof TenantStore>[0]
  const quotas = { maxQueuedJobs: 1, maxLiveJobs: 1, datasetBytes: 1, requestsPerMinute: 1 }
  const store = new TenantStore(redis, 'p', { quotas, policy: { yarnQueues: ['etl', 'adhoc'] } })
  t.strictSame((await store.create({ name: 'plain' })).policy.yarnQueues, ['etl', 'adhoc'])
  const own = await store.create({ name: 'own', policy: { yarnQueues: ['prod'] } })
  t.strictSame(own.policy, { uriPrefixes: [], confAllow: [], yarnQueues: ['prod'] })
  // a tenant stored before yarnQueues existed gets the server default when read
  stored.set(
    'p:tenant:old',
    JSON.stringify({ ...own, id: 'old', policy: { uriPrefixes: [], confAllow: [] } }),
  )
  t.strictSame((await store.get('old'))?.policy.yarnQueues, ['etl', 'adhoc'])
  t.strictSame((await store.get('own'))?.policy.yarnQueues, ['prod'])
})

t.test('a job with no queue runs in the policy’s first; the record keeps it', async (t) => {
  const { service, created } = serviceWith()
  await service.create(tenant(['etl', 'adhoc']), { batch: { file: 'hdfs:///x/app.py' } })
  t.equal(created[0]?.queue, 'etl')
  await service.create(tenant(['etl', 'adhoc']), {
    queue: 'adhoc',
    batch: { file: 'hdfs:///x/app.py' },
  })
  t.equal(created[1]?.queue, 'adhoc')
})

t.test('a queue the policy does not list: 400 problem+json naming body.queue', async (t) => {
  const { service, created } = serviceWith()
  const error = await service
    .create(tenant(['default']), { queue: 'prod', batch: { file: 'hdfs:///x/app.py' } })
    .catch((e: unknown) => e)
  t.type(error, SparkgateError)
  const problem = toProblem(error, { url: '/v1/jobs' } as FastifyRequest)
  t.equal(problem.status, 400)
  t.equal(problem.code, 'SPARKGATE_VALIDATION')
  t.match(problem.errors, [
    { field: 'body.queue', rule: 'queue-policy', message: /^body\.queue is not a YARN queue/ },
  ])
  t.equal(created.length, 0, 'nothing recorded')

  const conf = await service
    .create(tenant(['default']), {
      batch: { file: 'hdfs:///x/app.py', conf: { 'spark.yarn.queue': 'default' } },
    })
    .catch((e: unknown) => toProblem(e, { url: '/v1/jobs' } as FastifyRequest))
  t.match(conf, {
    status: 400,
    errors: [{ field: 'body.batch.conf.spark.yarn.queue', rule: 'conf-policy' }],
  })
})

t.test('every kind’s submission carries the job’s queue', async (t) => {
  const batch = record({ batch: { file: 'hdfs://nn:8020/app.py' } }, { queue: 'etl' })
  t.strictSame(toSubmission(batch, 1, unitKinds), {
    name: batchName(batch.id, 1),
    file: 'hdfs://nn:8020/app.py',
    queue: 'etl',
  })
  const training = record(
    { training: { dataset: '1'.repeat(64), label: 'y', algorithm: 'logistic_regression' } },
    { queue: 'adhoc', internals: { trainScript: 'hdfs://nn/t.py', trainSpec: 'hdfs://nn/s.json' } },
  )
  t.equal(toSubmission(training, 2, unitKinds).queue, 'adhoc')
  t.notOk(
    'queue' in toSubmission(record({ batch: { file: 'hdfs://nn/a.py' } }), 1, unitKinds),
    'a job recorded before queues: none',
  )
})

t.test('Livy gets `queue` (and `archives`) in its batch request', async (t) => {
  const livy = new LivyBackend({ name: 'livy', url: 'http://livy.invalid:8998' })
  const sent: unknown[] = []
  livy.client.submit = async (request) => {
    sent.push(request)
    return {
      id: 7,
      name: request.name ?? null,
      state: 'starting',
      appId: null,
      appInfo: {},
      log: [],
    }
  }
  await livy.submit({
    name: 'j',
    file: 'hdfs://nn/app.py',
    queue: 'etl',
    archives: ['hdfs://nn/env.tar.gz#env'],
  })
  t.match(sent[0], { queue: 'etl', archives: ['hdfs://nn/env.tar.gz#env'] })
})

t.test('spark-submit: --queue only when the master is YARN', async (t) => {
  const b = { name: 'j', file: 'hdfs://nn/app.py', queue: 'etl' }
  t.notOk(sparkSubmitArgs(b, 'local[2]').includes('--queue'), 'a local master ignores it')
  const yarn = sparkSubmitArgs(b, 'yarn')
  t.strictSame(yarn.slice(0, 6), ['--master', 'yarn', '--name', 'j', '--queue', 'etl'])
  t.ok(isYarn('yarn'))
  t.notOk(isYarn('local[*]'))
  t.notOk(isYarn('yarnish'))
})
