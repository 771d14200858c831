/**
 * A job's output file registered as a dataset where it lies (real HDFS and Redis, no
 * Spark): read once for its SHA-256, decided once per job, refused over the size limit or
 * the tenant's quota (and the refusal kept), the same bytes being the same dataset, and a
 * delete removing the file itself.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import { build, hdfsTestDir, tenantOf } from '../helpers/stack.js'

t.test('a job output becomes a dataset of its tenant, once', async (t) => {
  const root = await hdfsTestDir(t)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: root, SPARKGATE_DATASET_MAX_BYTES: 4096 })
  const tenant = tenantOf(app).id
  const owner = { tenant, user: app.config.SPARKGATE_HDFS_USER, quotaBytes: 1 << 20 }
  const runs = `${app.stores.main.tenantRoot(tenant)}/runs`
  const body = 'a,b,prediction\n1,x,0.0\n2,y,1.0\n'
  const write = async (job: string, bytes: string) => {
    const path = `${runs}/${job}/scored/part-00000.csv`
    await app.hdfs.mkdirs(`${runs}/${job}/scored`)
    await app.hdfs.create(path, bytes, { overwrite: true })
    return { path, length: Buffer.byteLength(bytes) }
  }
  const file = (f: { path: string; length: number }, job: string) => ({
    uri: app.stores.main.uri(f.path),
    length: f.length,
    name: `m-v1-${job}.csv`,
    model: 'm/1',
  })

  // over the quota: refused, and that stays the decision for the job
  const p1 = await write('job-1', body)
  const small = { ...owner, quotaBytes: 10 }
  const refused = await app.datasets.registerOutput(small, 'job-1', file(p1, 'job-1'))
  t.match(refused, { refused: /has 0 of 10 bytes of datasets/ })
  t.same(await app.datasets.registerOutput(owner, 'job-1', file(p1, 'job-1')), refused)
  t.same((await app.datasets.list(tenant, 10)).items, [], 'nothing listed')

  // within it: the bytes' SHA-256, where they lie, with sniffed columns and the source
  const p2 = await write('job-2', body)
  const sha = createHash('sha256').update(body).digest('hex')
  t.same(await app.datasets.registerOutput(owner, 'job-2', file(p2, 'job-2')), { id: sha })
  t.match(await app.datasets.find(tenant, sha), {
    id: sha,
    name: 'm-v1-job-2.csv',
    size: body.length,
    path: p2.path,
    uri: `${app.config.SPARKGATE_HDFS_DEFAULT_FS}${p2.path}`,
    format: 'csv',
    columns: [
      { name: 'a', type: 'integer' },
      { name: 'b' },
      { name: 'prediction', type: 'double' },
    ],
    source: { jobId: 'job-2', model: 'm/1' },
  })
  t.equal(await app.datasets.bytesUsed(tenant), body.length, 'counted in the quota')

  // the same bytes from another job: that dataset; a larger file than the limit: refused
  const p3 = await write('job-3', body)
  t.same(await app.datasets.registerOutput(owner, 'job-3', file(p3, 'job-3')), { id: sha })
  const p4 = await write('job-4', 'x\n'.repeat(4096))
  t.match(await app.datasets.registerOutput(owner, 'job-4', file(p4, 'job-4')), {
    refused: /8192 bytes\) is larger than the dataset size limit of 4096 bytes/,
  })
  t.same(await app.datasets.outputsUndecided(['job-2', 'job-5']), ['job-5'])

  // a delete removes the job's file (not a datasets/ folder), and the record
  await app.datasets.delete(tenant, sha)
  t.equal(await app.hdfs.stat(p2.path), undefined, 'the output file is gone')
  t.ok(await app.hdfs.stat(p3.path), "the other job's copy stays")
  t.equal(await app.datasets.find(tenant, sha), undefined)
  t.equal(await app.datasets.bytesUsed(tenant), 0)
})
