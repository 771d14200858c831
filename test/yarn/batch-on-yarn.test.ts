/**
 * A user's own PySpark file through the gateway on the stack's Livy, which runs it on YARN
 * in cluster mode (the driver in a YARN container): the job shows the YARN application,
 * its log carries what the driver printed (from the NodeManager, then the log server),
 * the RM records the tenant's cluster user and queue (the first of its policy's
 * `yarnQueues`); a cancel and a timeout kill the application itself (the RM says KILLED),
 * not only Livy's batch.
 */
import t from 'tap'
import { createJob, getJob, waitForState } from '../helpers/jobs.js'
import { gatewayOnYarn, rmApp, rmAppsOf, waitForRmState } from '../helpers/yarn.js'

const APP_ID = /^application_\d+_\d{4,}$/

t.test('a PySpark batch on YARN: its app, user, queue and printed lines in /logs', async (t) => {
  // the tenant's queues: prod first (its default), then default
  const { app, tenant, stageFixture } = await gatewayOnYarn(t, {
    SPARKGATE_POLICY_YARN_QUEUES: 'prod,default',
  })
  const file = await stageFixture('yarn_probe.py')
  const job = await createJob(app, {
    name: 'yarn-probe',
    batch: { file, args: ['marker-42'] },
    resources: { driverMemory: '512m' },
  })
  const running = await waitForState((id) => getJob(app, id), job.id, [
    'running',
    'succeeded',
    'failed',
  ])
  t.match(running.backendRef?.appId, APP_ID, 'backendRef.appId is the YARN application')

  const done = await waitForState((id) => getJob(app, id), job.id, ['succeeded', 'failed'])
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  const ref = done.backendRef!
  t.match(
    ref.driverLogUrl,
    /\/node\/containerlogs\/container_[0-9_e]+_000001\//,
    'driverLogUrl: the AM container',
  )
  t.match(ref.sparkUiUrl, new RegExp(`/proxy/${ref.appId}/`), 'sparkUiUrl: through the RM proxy')

  const yarn = await rmApp(ref.appId!)
  t.equal(yarn.user, tenant.id, "the RM ran it as the tenant's cluster user")
  t.equal(yarn.queue, 'prod', "in the tenant's default queue")
  t.equal(done.queue, 'prod', 'as the job record says')
  t.equal(yarn.finalStatus, 'SUCCEEDED')

  // the driver's lines, each naming its stream and container; its stderr (Spark's own
  // log) once YARN has aggregated the finished container's logs, moments after the end
  const read = async (query = 'size=10000') =>
    (await app.inject(`/v1/jobs/${job.id}/logs?${query}`)).json<{ lines: string[] }>()
  let page = await read()
  for (let i = 0; i < 120 && !page.lines.some((l) => / stderr\] /.test(l)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    page = await read()
  }
  const printed = page.lines.find((l) => l.includes('SPARKGATE_PROBE marker-42 rows=10'))
  t.ok(printed, 'what the driver printed is in the log')
  t.match(
    printed,
    /^\[container_[0-9_e]+_000001 stdout\] /,
    'labelled with its stream and container',
  )
  t.ok(
    page.lines.some((l) => /^\[container_\S+ stdout\] SPARKGATE_PROBE_STDERR marker-42/.test(l)),
    "the driver's stderr too (Spark's Python runner merges it into the container's stdout)",
  )
  t.ok(
    page.lines.some((l) => /^\[container_\S+ stderr\] .*(INFO|WARN)/.test(l)),
    "Spark's own driver log (the container's stderr), once the app has ended",
  )
  // paging reads the same lines
  const at = page.lines.indexOf(printed!)
  t.same((await read(`from=${at}&size=1`)).lines, [printed])
})

t.test('cancel and timeout kill the YARN application', async (t) => {
  const { app, tenant, stageFixture } = await gatewayOnYarn(t)
  const file = await stageFixture('sleep.py')
  const small = { driverMemory: '512m' }
  const cancelled = await createJob(app, {
    name: 'yarn-cancel',
    batch: { file, args: ['600'] },
    resources: small,
  })
  const timed = await createJob(app, {
    name: 'yarn-timeout',
    batch: { file, args: ['600'] },
    resources: small,
    timeoutSeconds: 20,
  })
  // cancel once the application runs on YARN and its driver has printed (read live from
  // the NodeManager)
  const running = await waitForState((id) => getJob(app, id), cancelled.id, ['running'])
  t.match(running.backendRef?.appId, APP_ID)
  const logs = async () =>
    (await app.inject(`/v1/jobs/${cancelled.id}/logs?size=10000`)).json<{ lines: string[] }>().lines
  let live: string[] = []
  for (let i = 0; i < 240 && !live.some((l) => / stdout\] sleeping 600/.test(l)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    live = await logs()
  }
  t.ok(
    live.some((l) => / stdout\] sleeping 600/.test(l)),
    "the running driver's output, from its NodeManager",
  )
  const r = await app.inject({ method: 'DELETE', url: `/v1/jobs/${cancelled.id}` })
  t.ok([200, 202].includes(r.statusCode), r.body)
  const end = await waitForState((id) => getJob(app, id), cancelled.id, [
    'cancelled',
    'failed',
    'succeeded',
  ])
  t.equal(end.state, 'cancelled')
  const killed = await waitForRmState(running.backendRef!.appId!, ['KILLED', 'FINISHED', 'FAILED'])
  t.same([killed.state, killed.finalStatus], ['KILLED', 'KILLED'], 'the RM says KILLED')
  // a cancel deletes Livy's batch: its log is then what YARN kept of the driver
  const driverLines = (lines: string[]) => lines.filter((l) => /^\[container_\S+ std/.test(l))
  const after = await logs()
  t.same(
    driverLines(after).slice(0, driverLines(live).length),
    driverLines(live),
    'the driver lines read while it ran, still there after Livy forgot the batch',
  )

  const out = await waitForState((id) => getJob(app, id), timed.id, [
    'failed',
    'succeeded',
    'cancelled',
  ])
  t.equal(out.error?.code, 'TIMEOUT', JSON.stringify(out.error))
  // its application, found on the RM by name (the batch name): a busy cluster may still
  // hold it in ACCEPTED at the timeout, before Livy (and so the job) knew its id
  const yarn = (await rmAppsOf(tenant.id)).find((a) => a.name === timed.id)
  t.ok(yarn, 'it had reached YARN')
  if (out.backendRef?.appId) t.equal(out.backendRef.appId, yarn?.id)
  const gone = await waitForRmState(yarn!.id, ['KILLED', 'FINISHED', 'FAILED'])
  t.same([gone.state, gone.finalStatus], ['KILLED', 'KILLED'], 'the RM says KILLED')
})
