/**
 * The Livy-compatible API's translations (src/routes/livy/mapping.ts), no service: a Livy
 * batch request becomes a batch job (resources, queue, name; backend and priority from a
 * header or a `spark.sparkgate.*` conf key, which leaves the conf), a job becomes Livy's
 * Batch with Livy's state words, and a problem becomes Livy's `{msg}` naming the field as
 * the request named it.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { JOB_STATES } from '../../src/domain/job-state.js'
import type { SparkgateError } from '../../src/errors.js'
import {
  checkProxyUser,
  jobSpecOf,
  livyBatch,
  livyMessage,
  livyState,
} from '../../src/routes/livy/mapping.js'

t.test('a Livy batch request is a batch job', async (t) => {
  t.same(
    jobSpecOf(
      {
        file: 'hdfs:///apps/pi.py',
        className: 'org.example.Main',
        args: ['10'],
        jars: ['hdfs:///a.jar'],
        pyFiles: ['hdfs:///b.zip'],
        files: ['hdfs:///c.txt'],
        archives: ['hdfs:///env.tgz#env'],
        driverMemory: '512m',
        driverCores: 1,
        executorMemory: '1g',
        executorCores: 2,
        numExecutors: 3,
        queue: 'prod',
        name: 'pi',
        conf: { 'spark.sql.shuffle.partitions': 4, 'spark.speculation': true },
      },
      {},
    ),
    {
      name: 'pi',
      queue: 'prod',
      resources: {
        driverMemory: '512m',
        driverCores: 1,
        executorMemory: '1g',
        executorCores: 2,
        numExecutors: 3,
      },
      batch: {
        file: 'hdfs:///apps/pi.py',
        className: 'org.example.Main',
        args: ['10'],
        jars: ['hdfs:///a.jar'],
        pyFiles: ['hdfs:///b.zip'],
        files: ['hdfs:///c.txt'],
        archives: ['hdfs:///env.tgz#env'],
        conf: { 'spark.sql.shuffle.partitions': '4', 'spark.speculation': 'true' },
      },
    },
    'conf values as strings',
  )
  t.same(jobSpecOf({ file: 'hdfs:///x.py' }, {}), { batch: { file: 'hdfs:///x.py' } })
})

t.test('backend and priority: a header, else a spark.sparkgate.* key', async (t) => {
  const conf = {
    'spark.sparkgate.backend': 'synapse',
    'spark.sparkgate.priority': '2',
    'spark.executor.memory': '1g',
  }
  t.match(jobSpecOf({ file: 'f', conf }, {}), {
    backend: 'synapse',
    priority: 2,
    batch: { conf: { 'spark.executor.memory': '1g' } },
  })
  t.notOk(
    'spark.sparkgate.backend' in
      (jobSpecOf({ file: 'f', conf }, {}).batch as { conf: Record<string, string> }).conf,
  )
  t.match(jobSpecOf({ file: 'f', conf }, { backend: 'livy', priority: '9' }), {
    backend: 'livy',
    priority: 9,
  })
  const bad = (() => {
    try {
      jobSpecOf({ file: 'f', conf: { 'spark.sparkgate.priority': 'high' } }, {})
    } catch (error) {
      return error as SparkgateError
    }
  })()
  t.equal(bad?.status, 400)
  t.match(bad?.message, /conf\.spark\.sparkgate\.priority must be an integer from 1/)
})

t.test("proxyUser: the tenant's cluster user or none", async (t) => {
  t.doesNotThrow(() => checkProxyUser(undefined, 'acme'))
  t.doesNotThrow(() => checkProxyUser('acme', 'acme'))
  t.throws(() => checkProxyUser('root', 'acme'), {
    status: 403,
    message: /proxyUser root is not allowed: this tenant's batches run as its cluster user acme/,
  })
})

t.test("Livy's states and Batch object", async (t) => {
  t.same(
    JOB_STATES.map(livyState),
    ['not_started', 'starting', 'starting', 'starting', 'running', 'success', 'dead', 'killed'],
    'queued, staging, submitting, submitted, running, succeeded, failed, cancelled',
  )
  const job = {
    id: 'j-1',
    tenant: 'acme',
    state: 'running',
    spec: { name: 'pi', batch: { file: 'f' } },
    backendRef: { batchId: '7', batchName: 'j-1', appId: 'application_1_0001' },
  } as unknown as Job
  t.same(livyBatch(3, job, 'acme-user', ['a']), {
    id: 3,
    name: 'pi',
    owner: 'acme',
    proxyUser: 'acme-user',
    state: 'running',
    appId: 'application_1_0001',
    appInfo: { driverLogUrl: null, sparkUiUrl: null },
    log: ['a'],
    sparkgateJob: 'j-1',
  })
})

t.test('errors as Livy says them: the field as the request named it, and the rule', async (t) => {
  t.equal(
    livyMessage({
      type: 'x',
      code: 'SPARKGATE_VALIDATION',
      title: 'Bad Request',
      status: 400,
      detail: 'd',
      errors: [
        {
          field: 'body.batch.conf.spark.jars',
          rule: 'conf-policy',
          message: 'body.batch.conf.spark.jars is protected',
        },
        {
          field: 'body.resources.driverMemory',
          rule: 'pattern',
          message: 'body.resources.driverMemory must match …',
        },
      ],
    }),
    'conf.spark.jars is protected (rule: conf-policy); driverMemory must match … (rule: pattern)',
  )
  t.equal(
    livyMessage({
      type: 'x',
      code: 'SPARKGATE_NOT_FOUND',
      title: 'Not Found',
      status: 404,
      detail: "Session '9' not found.",
    }),
    "Session '9' not found.",
  )
})
