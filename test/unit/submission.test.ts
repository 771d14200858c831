/**
 * What the submit worker asks a backend to run for a job (toSubmission and batchName in
 * src/workers/submit-worker.ts): dataset:// references resolved through the job's
 * inputs, resources spread, one batch name per attempt. JobRecords are built by hand;
 * no Redis, no BullMQ worker is started.
 */
import t from 'tap'
import { batchName, toSubmission } from '../../src/workers/submit-worker.js'
import { JOB_ID as ID, record } from '../helpers/job-service-unit.js'
import { unitKinds } from '../helpers/kinds.js'

const DS1 = '1'.repeat(64)
const DS2 = '2'.repeat(64)
const URI1 = `hdfs://nn:8020/sparkgate/datasets/${DS1}`
const URI2 = `hdfs://nn:8020/sparkgate/datasets/${DS2}`

t.test('batchName: the job id on the first attempt, then <id>.<attempt>', async (t) => {
  t.equal(batchName(ID, 1), ID)
  t.equal(batchName(ID, 0), ID, 'attempt 0 (never counted yet) is the first')
  t.equal(batchName(ID, 2), `${ID}.2`)
  t.equal(batchName(ID, 10), `${ID}.10`)
})

t.test('a batch job: every dataset:// reference runs with its recorded URI', async (t) => {
  const job = record(
    {
      batch: {
        file: `dataset://${DS1}`,
        className: 'org.example.Main',
        args: ['--in', `dataset://${DS2}`, '--out', 'hdfs://nn:8020/out', `dataset://${DS1}`],
        pyFiles: [`dataset://${DS2}`, 'hdfs://nn:8020/lib.zip'],
        jars: [`dataset://${DS1}`],
        files: ['hdfs://nn:8020/f.txt', `dataset://${DS2}`],
        conf: { 'spark.executor.instances': '2' },
      },
      resources: { driverMemory: '1g', executorMemory: '2g', numExecutors: 2, executorCores: 1 },
    },
    { inputs: { [`dataset://${DS1}`]: URI1, [`dataset://${DS2}`]: URI2 } },
  )
  t.strictSame(toSubmission(job, 1, unitKinds), {
    name: ID,
    file: URI1,
    className: 'org.example.Main',
    args: ['--in', URI2, '--out', 'hdfs://nn:8020/out', URI1],
    pyFiles: [URI2, 'hdfs://nn:8020/lib.zip'],
    jars: [URI1],
    files: ['hdfs://nn:8020/f.txt', URI2],
    conf: { 'spark.executor.instances': '2' },
    driverMemory: '1g',
    executorMemory: '2g',
    numExecutors: 2,
    executorCores: 1,
  })
  t.equal(toSubmission(job, 3, unitKinds).name, `${ID}.3`, 'a later attempt gets its own name')
})

t.test('a minimal batch job: only name and file, no empty keys', async (t) => {
  const submission = toSubmission(
    record({ batch: { file: 'hdfs://nn:8020/app.py' } }),
    1,
    unitKinds,
  )
  t.strictSame(submission, { name: ID, file: 'hdfs://nn:8020/app.py' })
  t.strictSame(
    Object.keys(
      toSubmission(record({ batch: { file: 'hdfs://nn/app.py', args: [] } }), 1, unitKinds),
    ),
    ['name', 'file', 'args'],
    'an empty args list is kept as given',
  )
})

t.test('without inputs, values pass through unchanged', async (t) => {
  const submission = toSubmission(
    record({ batch: { file: `dataset://${DS1}`, args: [`dataset://${DS2}`] } }),
    1,
    unitKinds,
  )
  t.equal(submission.file, `dataset://${DS1}`)
  t.strictSame(submission.args, [`dataset://${DS2}`])
})

t.test('a training job runs the staged train.py with its spec.json', async (t) => {
  const job = record(
    {
      training: { dataset: DS1, algorithm: 'kmeans', params: { k: 3 } },
      resources: { driverMemory: '2g' },
    },
    {
      inputs: { [`dataset://${DS1}`]: URI1 },
      internals: {
        trainScript: 'hdfs://nn:8020/sparkgate/artifacts/abc/train.py',
        trainSpec: `hdfs://nn:8020/sparkgate/runs/${ID}/spec.json`,
        datasetFormat: 'csv',
      },
    },
  )
  t.strictSame(toSubmission(job, 1, unitKinds), {
    name: ID,
    file: 'hdfs://nn:8020/sparkgate/artifacts/abc/train.py',
    args: [`hdfs://nn:8020/sparkgate/runs/${ID}/spec.json`],
    driverMemory: '2g',
  })
  t.equal(toSubmission(job, 2, unitKinds).name, `${ID}.2`)

  // staged since train.py runs the sparkgate_jobs package: its zip is a py-file
  const zip = 'hdfs://nn:8020/sparkgate/artifacts/def/sparkgate_jobs.zip'
  const packaged = { ...job, internals: { ...job.internals, trainPyFiles: [zip] } }
  t.strictSame(toSubmission(packaged, 1, unitKinds).pyFiles, [zip])
})

t.test('a training job that was not staged cannot be submitted', async (t) => {
  const training = { dataset: DS1, algorithm: 'kmeans' }
  t.throws(() => toSubmission(record({ training }), 1, unitKinds), {
    message: `training job ${ID} was not staged`,
  })
  t.throws(
    () =>
      toSubmission(
        record({ training }, { internals: { trainScript: 'hdfs://nn/t.py' } }),
        1,
        unitKinds,
      ),
    { message: `training job ${ID} was not staged` },
    'a script without its spec',
  )
  t.throws(
    () =>
      toSubmission(
        record({ training }, { internals: { trainSpec: 'hdfs://nn/s.json' } }),
        1,
        unitKinds,
      ),
    { message: `training job ${ID} was not staged` },
    'a spec without its script',
  )
})

t.test('a job runs as its tenant’s cluster user (Livy proxyUser)', async (t) => {
  const batch = record(
    { batch: { file: 'hdfs://nn:8020/app.py' } },
    { internals: { clusterUser: 'analytics' } },
  )
  t.equal(toSubmission(batch, 1, unitKinds).proxyUser, 'analytics')
  const training = record(
    { training: { dataset: `${DS1}`, label: 'y', algorithm: 'logistic_regression' } },
    { internals: { clusterUser: 'analytics', trainScript: URI1, trainSpec: URI2 } },
  )
  t.equal(toSubmission(training, 1, unitKinds).proxyUser, 'analytics')
  t.notOk(
    'proxyUser' in toSubmission(record({ batch: { file: URI1 } }), 1, unitKinds),
    'none recorded: none',
  )
})
