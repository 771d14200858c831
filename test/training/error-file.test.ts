/**
 * A failed job's reason comes from its own output on HDFS (runs/<jobId>/error.json, written
 * by jobs/sparkgate_jobs/runner.py), not only from its backend's log: in YARN cluster mode
 * the driver's stderr is not in Livy's batch log. Against the real HDFS, and Livy on YARN.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { TRAIN_SCRIPT } from '../../src/runs/job-scripts.js'
import { RunArea } from '../../src/runs/run-area.js'
import { build, hdfsClient, hdfsTestDir, ON_YARN, tenantOf, uniqueId } from '../helpers/stack.js'
import { getJob, postJob, uploadCsv, waitForState } from '../helpers/jobs.js'

const REASON = "label 'churned' has one class ('1'): nothing to classify"

t.test('the run area reads error.json, and staging an attempt removes it', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, SPARKGATE_ROLES: 'api' })
  const runs = new RunArea(app.stores)
  const tenant = tenantOf(app).id
  const id = uniqueId('job')
  const job = { id, tenant, spec: { training: { dataset: 'x' } } } as unknown as Job
  const run = { tenant, jobId: id }
  const file = `${runs.runDir(run)}/error.json`
  const write = (body: string) => hdfs.create(file, body, { overwrite: true })

  t.equal(await app.jobKinds.reportedError(job), undefined, 'no file: no reason')
  await write(JSON.stringify({ code: 'SPARK_JOB_ERROR', message: ` ${REASON}\n`, type: 'X' }))
  t.equal(await app.jobKinds.reportedError(job), REASON, "the training kind reads the job's own")
  const scoring = { ...job, spec: { scoring: { dataset: 'x', model: 'm' } } } as unknown as Job
  t.equal(await app.jobKinds.reportedError(scoring), REASON, 'so does the scoring kind')
  const batch = { ...job, spec: { batch: { file: 'hdfs:///x.py' } } } as unknown as Job
  t.equal(await app.jobKinds.reportedError(batch), undefined, 'a batch has no run folder')
  await write(JSON.stringify({ code: 'SPARK_JOB_ERROR' }))
  t.equal(await app.jobKinds.reportedError(job), undefined, 'no message: no reason')
  await write('{not json')
  await t.rejects(app.jobKinds.reportedError(job), 'unreadable: it throws (the tracker falls back)')

  await write(JSON.stringify({ code: 'SPARK_JOB_ERROR', message: 'attempt 1' }))
  await runs.stageRun({ tenant, user: tenant }, run, TRAIN_SCRIPT, { jobId: id })
  t.equal(await hdfs.stat(file), undefined, "the next attempt never reads attempt 1's reason")
  t.ok(await hdfs.stat(`${runs.runDir(run)}/spec.json`), 'its spec.json is staged')
})

t.test(
  'one label class on YARN (cluster mode): the reason arrives with an empty log',
  async (t) => {
    const hdfs = hdfsClient()
    const root = await hdfsTestDir(t, hdfs)
    const app = await build(t, {
      ...ON_YARN,
      SPARKGATE_HDFS_ROOT: root,
      SPARKGATE_TRACKER_INTERVAL_MS: 500,
    })
    // as in YARN cluster mode: nothing of the driver's stderr in the backend's log, so no
    // SPARKGATE_ERROR line to find; only error.json can tell the reason
    const livy = app.backends.byName.get('livy')!.backend
    let tails = 0
    livy.tail = async () => {
      tails++
      return []
    }
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 9},${(i * 7) % 5},1`)
    const data = await uploadCsv(app, 'one-class.csv', ['x1,x2,churned', ...rows].join('\n') + '\n')
    const r = await postJob(app, {
      name: 'one-class',
      resources: { driverMemory: '512m' },
      training: { dataset: data.id, label: 'churned', algorithm: 'logistic_regression' },
    })
    t.equal(r.statusCode, 202, r.body)
    const done = await waitForState(
      (id) => getJob(app, id),
      r.json<Job>().id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(done.state, 'failed')
    t.equal(done.error?.code, 'SPARK_JOB_ERROR')
    t.equal(done.error?.message, REASON, 'the reason, naming the label and its one class')
    t.same(done.error?.logLines, [], 'logLines stay the (empty) log tail')
    t.ok(tails > 0, 'the log was read, and had nothing')
    const written = JSON.parse(
      (
        await hdfs.readFile(`${root}/tenants/${tenantOf(app).id}/runs/${done.id}/error.json`)
      ).toString(),
    )
    t.same(written, { code: 'SPARK_JOB_ERROR', message: REASON, type: 'SpecError' }, 'on HDFS')
  },
)
