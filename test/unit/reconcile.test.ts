/**
 * The tracker's decisions (src/domain/reconcile.ts), with no service: a job's record and
 * its backend's view in, what to do out.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import type { BatchStatus } from '../../src/domain/ports/spark-backend.js'
import {
  decide,
  lostDecision,
  MISSING_TICKS_BEFORE_LOST,
  reportedError,
  causeInLog,
  retries,
  type View,
} from '../../src/domain/reconcile.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const ref = { batchId: '7', batchName: 'j1' }

function job(over: Partial<Job> & { internals?: Record<string, unknown> } = {}): Job {
  return {
    id: 'j1',
    tenant: 'acme',
    name: 'j1',
    state: 'running',
    backend: 'livy',
    backendState: 'running',
    attempts: 1,
    maxAttempts: 1,
    priority: 5,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    startedAt: new Date(T0).toISOString(),
    backendRef: ref,
    spec: { batch: { file: 'hdfs://nn/x.py' } },
    ...over,
  }
}
const status = (phase: BatchStatus['phase'], rawState: string, over = {}): BatchStatus => ({
  phase,
  rawState,
  ...over,
})
const view = (s: BatchStatus | undefined, over: Partial<View> = {}): View => ({
  status: s,
  misses: 0,
  now: T0 + 1000,
  backend: 'livy',
  ...over,
})

t.test('a batch in the answer: its phase decides', async (t) => {
  t.same(decide(job(), view(status('running', 'running'))), { do: 'nothing' }, 'nothing new')
  t.same(decide(job({ backendState: 'starting' }), view(status('running', 'running'))), {
    do: 'update',
    set: { backendState: 'running' },
  })
  t.same(decide(job({ state: 'submitted' }), view(status('running', 'running'))), {
    do: 'running',
    set: { backendState: 'running' },
    reason: 'livy: running',
  })
  t.same(decide(job(), view(status('pending', 'starting', { appId: 'app_1' }))), {
    do: 'update',
    set: { backendState: 'starting', backendRef: { ...ref, appId: 'app_1' } },
  })
  t.same(decide(job(), view(status('succeeded', 'success'))), {
    do: 'succeeded',
    set: { backendState: 'success' },
    reason: 'livy: success',
  })
  t.match(decide(job(), view(status('killed', 'killed'))), {
    do: 'fail',
    log: 'tail',
    error: { code: 'SPARK_APP_KILLED' },
  })
  t.match(decide(job(), view(status('failed', 'dead'))), {
    do: 'fail',
    log: 'report',
    error: { code: 'SPARK_APP_FAILED', message: /livy state dead/ },
  })
})

t.test('a cancel asked: kill until it ends, then cancelled', async (t) => {
  const asked = job({ cancelRequested: true })
  t.same(decide(asked, view(status('running', 'running'))), { do: 'kill', set: {} })
  t.same(decide(asked, view(status('running', 'busy'))), {
    do: 'kill',
    set: { backendState: 'busy' },
  })
  t.match(decide(asked, view(status('killed', 'killed'))), {
    do: 'cancelled',
    reason: 'killed on request',
  })
  t.match(decide(asked, view(status('failed', 'dead'))), { do: 'cancelled' }, 'a kill can end dead')
  t.match(decide(asked, view(status('succeeded', 'success'))), { do: 'succeeded' }, 'an end stands')
})

t.test('timeoutSeconds: killed once past it, the reason recorded first', async (t) => {
  const timed = job({ timeoutSeconds: 10 })
  t.same(decide(timed, view(status('running', 'running'), { now: T0 + 9_000 })), {
    do: 'nothing',
  })
  t.same(decide(timed, view(status('running', 'running'), { now: T0 + 11_000 })), {
    do: 'timeout',
    set: { backendState: 'running' },
    kill: true,
    recordReason: true,
    log: true,
  })
  const killing = job({ timeoutSeconds: 10, internals: { killReason: 'timeout' } })
  t.match(decide(killing, view(status('running', 'running'))), {
    do: 'timeout',
    kill: true,
    recordReason: false,
  })
  t.match(decide(killing, view(status('killed', 'killed'))), { do: 'timeout', kill: false })
  t.match(decide(killing, view(undefined, { misses: MISSING_TICKS_BEFORE_LOST })), {
    do: 'timeout',
    kill: false,
    log: false,
  })
})

t.test('a batch missing from the answer: lost after three ticks in a row', async (t) => {
  t.same(decide(job(), view(undefined, { misses: 1 })), { do: 'nothing' })
  t.same(decide(job(), view(undefined, { misses: MISSING_TICKS_BEFORE_LOST - 1 })), {
    do: 'nothing',
  })
  t.same(decide(job(), view(undefined, { misses: MISSING_TICKS_BEFORE_LOST })), { do: 'lost' })
  t.match(decide(job({ cancelRequested: true }), view(undefined, { misses: 3 })), {
    do: 'cancelled',
    reason: 'its batch is gone after a cancel',
  })
  t.match(lostDecision(job(), 'succeeded', 'livy'), {
    do: 'succeeded',
    reason: 'livy forgot batch 7; its output shows it succeeded',
  })
  t.match(lostDecision(job(), undefined, 'livy'), {
    do: 'fail',
    log: 'none',
    error: { code: 'BACKEND_LOST' },
  })
})

t.test("a failed application's own report in its log", async (t) => {
  const error = { code: 'SPARK_APP_FAILED', message: 'failed' }
  const tail = ['a', 'x SPARKGATE_ERROR: label column y is missing', 'b', 'c']
  t.same(reportedError(error, tail, 2), {
    code: 'SPARK_JOB_ERROR',
    message: 'label column y is missing',
    logLines: ['b', 'c'],
  })
  t.same(reportedError(error, ['a', 'b'], 0), { ...error, logLines: [] })
})

t.test("the job's error file first, then its log's line, then the generic error", async (t) => {
  const error = { code: 'SPARK_APP_FAILED', message: 'the Spark application failed' }
  const tail = ['a', 'SPARKGATE_ERROR: from the log', 'b']
  const file = "label 'y' has one class ('1'): nothing to classify"
  t.same(
    reportedError(error, tail, 2, file),
    { code: 'SPARK_JOB_ERROR', message: file, logLines: ['SPARKGATE_ERROR: from the log', 'b'] },
    'the file wins over the log; logLines stay the tail',
  )
  t.same(
    reportedError(error, [], 2, file),
    { code: 'SPARK_JOB_ERROR', message: file, logLines: [] },
    'an empty log (YARN cluster mode: the driver log is elsewhere) still has the reason',
  )
  t.same(
    reportedError(error, tail, 1, undefined),
    { code: 'SPARK_JOB_ERROR', message: 'from the log', logLines: ['b'] },
    'no file: the log line',
  )
  t.same(
    reportedError(error, tail, 1, '  \n'),
    { code: 'SPARK_JOB_ERROR', message: 'from the log', logLines: ['b'] },
    'a blank message is no reason',
  )
  t.same(reportedError(error, ['a'], 1), { ...error, logLines: ['a'] }, 'neither: generic')
})

t.test('retries', async (t) => {
  t.ok(retries({ attempts: 1, maxAttempts: 2 }))
  t.notOk(retries({ attempts: 2, maxAttempts: 2 }))
  t.notOk(retries({ attempts: 1, maxAttempts: 2, cancelRequested: true }), 'a cancel ends it')
})

t.test('no report: the cause in the log, under PySpark’s wrapper', async (t) => {
  const error = {
    code: 'SPARK_APP_FAILED',
    message: 'the Spark application failed (livy state dead)',
  }
  const denied =
    'org.apache.hadoop.security.AccessControlException: Permission denied: user=alice, access=EXECUTE, inode="/sparkgate/tenants/b":b:supergroup:drwx------'
  const c = '[container_1_0001_01_000001 stdout] '
  const tail = [
    `${c}Traceback (most recent call last):`,
    `${c}  File "read_path.py", line 9, in <module>`,
    `${c}py4j.protocol.Py4JJavaError: An error occurred while calling o31.text.`,
    `${c}: ${denied}`,
    `${c}\tat org.apache.hadoop.hdfs.server.namenode.FSPermissionChecker.check(FSPermissionChecker.java:506)`,
    '[container_1_0001_01_000001 stderr] org.apache.spark.SparkUserAppException: User application exited with 1',
  ]
  t.equal(causeInLog(tail), denied, 'the Java cause, not the wrapper, not the exit')
  t.same(reportedError(error, tail, 1), {
    code: 'SPARK_APP_FAILED',
    message: `${error.message}: ${denied}`,
    logLines: [tail[5]],
  })
  t.equal(
    causeInLog(['Traceback (most recent call last):', '  File "x.py"', 'ValueError: bad n']),
    'ValueError: bad n',
    'a Python exception',
  )
  t.equal(
    causeInLog([
      'INFO starting',
      'java.io.FileNotFoundException: File /x does not exist',
      'INFO exit',
    ]),
    'java.io.FileNotFoundException: File /x does not exist',
    'no traceback: the last exception line',
  )
  t.equal(causeInLog(['INFO all fine', 'WARN something']), undefined)
  t.equal(causeInLog([`RuntimeError: ${'x'.repeat(600)}`])?.length, 501, 'a long cause is cut')
  t.same(reportedError(error, ['nothing here'], 0), { ...error, logLines: [] })
})
