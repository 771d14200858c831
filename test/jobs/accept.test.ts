/**
 * Accepting a job is one atomic step (issue 14, windows 1 and 2): the record, its
 * datasets' users and the enqueue outbox are written by one script; the queue entry comes
 * after, and a failure in between is repaired — by the next tracker tick, or at once by a
 * retry with the same idempotency key. A dataset being deleted can never be named by a
 * job, and a delete cut short is finished by a repeated DELETE. Real Redis and HDFS; no
 * Spark (no worker role: jobs stay queued).
 */
import t from 'tap'
import type { App } from '../../src/app.js'
import { build, hdfsClient, hdfsTestDir, tenantOf } from '../helpers/stack.js'

const CSV = 'x,y,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n'

async function setup(t: Parameters<typeof build>[0], roles = 'api,tracker') {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: dir, SPARKGATE_ROLES: roles })
  return { app, hdfs, dir }
}

async function uploadCsv(app: App, body = CSV) {
  const r = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=d.csv',
    headers: { 'content-type': 'text/csv' },
    payload: body,
  })
  if (r.statusCode !== 201 && r.statusCode !== 200) throw new Error(`upload: ${r.body}`)
  return r.json<{ id: string; path: string }>()
}

const training = (dataset: unknown) => ({
  training: { dataset, label: 'label', algorithm: 'logistic_regression' },
})

/** The queue entry's maker fails once, as if the process died right after the record. */
function failNextEnqueue(app: App) {
  const queue = app.jobQueues
  const enqueue = queue.enqueue.bind(queue)
  queue.enqueue = async () => {
    queue.enqueue = enqueue
    throw new Error('Connection is closed.')
  }
}

t.test('a job recorded without its queue entry is enqueued by the next tick', async (t) => {
  const { app } = await setup(t)
  const { id: dataset } = await uploadCsv(app)
  failNextEnqueue(app)
  const r = await app.inject({ method: 'POST', url: '/v1/jobs', payload: training(dataset) })
  t.equal(r.statusCode, 503, 'the client hears Redis is unavailable, not a 500')
  t.equal(r.json().code, 'SPARKGATE_REDIS_UNAVAILABLE')
  const [job] = (await app.inject('/v1/jobs')).json().items
  t.equal(job.state, 'queued', 'the job was recorded')
  t.notOk(await app.jobQueues.has(job.backend, job.id, 1), 'without a queue entry')
  t.ok(await app.jobStore.inOutbox(job.id), 'it waits in the outbox')
  const users = await app.redis.smembers(
    `${app.config.SPARKGATE_REDIS_PREFIX}:t:${tenantOf(app).id}:dataset:${dataset}:jobs`,
  )
  t.same(users, [job.id], 'and its dataset names it, in the same step')

  // the tracker's next tick after the outbox grace
  await new Promise((resolve) => setTimeout(resolve, 2100))
  await app.tracker!.tick(job.backend)
  t.ok(await app.jobQueues.has(job.backend, job.id, 1), 'the tick made the queue entry')
  t.notOk(await app.jobStore.inOutbox(job.id), 'and took it out of the outbox')
})

t.test('a retry with the same idempotency key enqueues at once', async (t) => {
  const { app } = await setup(t, 'api')
  const { id: dataset } = await uploadCsv(app)
  const headers = { 'idempotency-key': 'accept-retry-1' }
  failNextEnqueue(app)
  const first = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers,
    payload: training(dataset),
  })
  t.equal(first.statusCode, 503)
  const again = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers,
    payload: training(dataset),
  })
  t.equal(again.statusCode, 200, 'the same job')
  const job = again.json()
  t.ok(await app.jobQueues.has(job.backend, job.id, 1), 'enqueued by the retry, no tick needed')
  t.notOk(await app.jobStore.inOutbox(job.id))
  t.equal((await app.inject('/v1/jobs')).json().items.length, 1, 'one job')
  const third = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers,
    payload: training(dataset),
  })
  t.equal(third.json().id, job.id)
})

t.test('a dataset being deleted cannot be named, re-uploaded or seen', async (t) => {
  const { app, hdfs } = await setup(t, 'api')
  const dataset = await uploadCsv(app)
  const tenant = tenantOf(app).id
  const record = (await app.datasetStore.get(tenant, dataset.id))!
  // the first step of a DELETE (the mark), and then a crash: the files are still there
  const marked = await app.datasetStore.delete(tenant, record, async () => undefined)
  t.same(marked, { deleted: true })
  t.ok(await hdfs.stat(dataset.path), 'its file is still on HDFS')

  t.equal((await app.inject(`/v1/datasets/${dataset.id}`)).statusCode, 404, 'GET: gone')
  t.same((await app.inject('/v1/datasets')).json().items, [], 'not listed')
  const job = await app.inject({ method: 'POST', url: '/v1/jobs', payload: training(dataset.id) })
  t.equal(job.statusCode, 400, 'a job cannot name it')
  t.match(job.json().errors, [{ field: 'body.training.dataset' }])

  // the race the check above cannot see: the script itself refuses
  const raced = await app.jobStore.create(
    '00000000-0000-4000-8000-000000000001',
    training(dataset.id),
    { tenant, maxActive: 100, backend: 'livy', datasets: [dataset.id] },
  )
  t.same(raced, { missingDataset: dataset.id }, 'the accept step checks, atomically')
  t.equal(await app.jobStore.get('00000000-0000-4000-8000-000000000001'), undefined)

  const reupload = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=d.csv',
    headers: { 'content-type': 'text/csv' },
    payload: CSV,
  })
  t.equal(reupload.statusCode, 409, 'the same bytes wait for the delete to finish')
  t.equal(reupload.json().code, 'SPARKGATE_DATASET_DELETING')

  const finish = await app.inject({ method: 'DELETE', url: `/v1/datasets/${dataset.id}` })
  t.equal(finish.statusCode, 204, 'a repeated DELETE finishes it')
  t.notOk(await hdfs.stat(dataset.path), 'the file is gone')
  t.equal(await app.datasetStore.get(tenant, dataset.id, { deleting: true }), undefined)
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/datasets/${dataset.id}` })).statusCode,
    404,
  )
  const back = await uploadCsv(app)
  t.equal(back.id, dataset.id, 'and the bytes can come back')
})

t.test('a training on {uri: "dataset://<id>"} is tracked: the dataset is in use', async (t) => {
  const { app } = await setup(t, 'api')
  const { id } = await uploadCsv(app)
  const r = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: training({ uri: `dataset://${id}`, format: 'csv' }),
  })
  t.equal(r.statusCode, 202, r.body)
  t.equal(r.json().inputs[`dataset://${id}`].startsWith('hdfs://'), true, 'resolved to HDFS')
  const del = await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })
  t.equal(del.statusCode, 409, 'in use by the queued job')
  t.equal(del.json().code, 'SPARKGATE_DATASET_IN_USE')

  const unknown = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: training({ uri: `dataset://${'e'.repeat(64)}`, format: 'csv' }),
  })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().errors, [{ field: 'body.training.dataset.uri' }])
})
