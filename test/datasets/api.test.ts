/**
 * /v1/datasets against the real HDFS (each test stages under its own HDFS root and
 * Redis prefix): upload (raw and multipart), dedupe, sniffing, list, preview, delete, the
 * bad inputs and faults, dataset references in jobs, and a 200 MiB round trip.
 */
import { createHash, randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { Readable } from 'node:stream'
import t from 'tap'
import type { App } from '../../src/app.js'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import { build, hdfsClient, hdfsTestDir, tenantOf } from '../helpers/stack.js'
import { postJob } from '../helpers/jobs.js'

type Tap = Parameters<typeof hdfsTestDir>[0]

const CSV =
  'id,label,score,ok,city\n1,0,0.5,true,Paris\n2,1,1.25,false,"Lyon, FR"\n3,1,,true,Nice\n'

async function setup(t: Tap, overrides: Parameters<typeof build>[1] = {}) {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const app = await build(t, { SPARKGATE_HDFS_ROOT: dir, SPARKGATE_ROLES: 'api', ...overrides })
  // the test tenant's HDFS area: its datasets/ and tmp/
  const root = `${dir}/tenants/${tenantOf(app).id}`
  return { app, hdfs, root }
}

function upload(app: App, name: string | undefined, body: string | Buffer, type = 'text/csv') {
  return app.inject({
    method: 'POST',
    url: name === undefined ? '/v1/datasets' : `/v1/datasets?name=${encodeURIComponent(name)}`,
    headers: { 'content-type': type },
    payload: body,
  })
}

function multipartBody(filename: string, content: string) {
  const boundary = `----sparkgate${randomBytes(8).toString('hex')}`
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

async function tmpEntries(app: App, root: string) {
  const hdfs = hdfsClient()
  const status = await hdfs.stat(`${root}/tmp`)
  if (!status) return []
  return (await hdfs.listStatus(`${root}/tmp`)).map((s) => s.pathSuffix)
}

t.test('upload, dedupe, get, list, preview, delete', async (t) => {
  const { app, hdfs, root } = await setup(t)
  const sha = createHash('sha256').update(CSV).digest('hex')

  const r = await upload(app, 'people.csv', CSV)
  t.equal(r.statusCode, 201, r.body)
  const ds = r.json<Dataset>()
  t.match(ds, {
    id: sha,
    sha256: sha,
    name: 'people.csv',
    size: Buffer.byteLength(CSV),
    format: 'csv',
    path: `${root}/datasets/${sha}/people.csv`,
    uri: `hdfs://127.0.0.1:8020${root}/datasets/${sha}/people.csv`,
  })
  t.equal(r.headers['location'], `/v1/datasets/${sha}`)
  t.same(ds.columns, [
    { name: 'id', type: 'integer' },
    { name: 'label', type: 'integer' },
    { name: 'score', type: 'double' },
    { name: 'ok', type: 'boolean' },
    { name: 'city', type: 'string' },
  ])
  t.equal((await hdfs.readFile(ds.path)).toString(), CSV, 'the bytes are on HDFS')
  t.same(await tmpEntries(app, root), [], 'the temp file was moved, not copied')

  const again = await upload(app, 'other-name.csv', CSV)
  t.equal(again.statusCode, 200, 'the same bytes again: deduped')
  t.equal(again.json<Dataset>().id, sha)
  t.equal(again.json<Dataset>().name, 'people.csv', 'the existing dataset')
  const mp = multipartBody('people.csv', CSV)
  const viaForm = await app.inject({ method: 'POST', url: '/v1/datasets', ...mp })
  t.equal(viaForm.statusCode, 200, viaForm.body)
  t.equal(viaForm.json<Dataset>().id, sha, 'multipart: the same dataset')
  t.same(await tmpEntries(app, root), [], 'no temp file left by the duplicates')

  const text = await upload(app, 'notes.txt', 'a\nb\nc\n', 'application/octet-stream')
  t.equal(text.statusCode, 201)
  t.equal(text.json<Dataset>().format, 'txt')
  t.notOk(text.json<Dataset>().columns)

  const got = await app.inject({ method: 'GET', url: `/v1/datasets/${sha}` })
  t.same(got.json(), ds)
  const page1 = (await app.inject({ method: 'GET', url: '/v1/datasets?limit=1' })).json()
  t.equal(page1.items.length, 1)
  t.equal(page1.items[0].name, 'notes.txt', 'newest first')
  t.ok(page1.nextCursor)
  const page2 = (
    await app.inject({ method: 'GET', url: `/v1/datasets?limit=1&cursor=${page1.nextCursor}` })
  ).json()
  t.same(
    page2.items.map((d: Dataset) => d.id),
    [sha],
  )
  t.notOk(page2.nextCursor, 'the last page')
  const badCursor = await app.inject({ method: 'GET', url: '/v1/datasets?cursor=bm9wZQ' })
  t.equal(badCursor.statusCode, 400)

  const preview = await app.inject({ method: 'GET', url: `/v1/datasets/${sha}/preview?rows=2` })
  t.equal(preview.statusCode, 200)
  t.same(preview.json(), {
    id: sha,
    format: 'csv',
    lines: ['id,label,score,ok,city', '1,0,0.5,true,Paris', '2,1,1.25,false,"Lyon, FR"'],
    columns: ['id', 'label', 'score', 'ok', 'city'],
    rows: [
      ['1', '0', '0.5', 'true', 'Paris'],
      ['2', '1', '1.25', 'false', 'Lyon, FR'],
    ],
  })
  const textPreview = await app.inject({
    method: 'GET',
    url: `/v1/datasets/${text.json<Dataset>().id}/preview?rows=10`,
  })
  t.same(textPreview.json().lines, ['a', 'b', 'c'])

  const del = await app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` })
  t.equal(del.statusCode, 204)
  t.equal(await hdfs.stat(`${root}/datasets/${sha}`), undefined, 'the bytes are gone')
  const gone = await app.inject({ method: 'GET', url: `/v1/datasets/${sha}` })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'SPARKGATE_DATASET_NOT_FOUND')
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` })).statusCode, 404)
  // an id of another shape names no dataset: 404, and it never reaches a Redis key
  for (const url of [
    '/v1/datasets/xyz',
    `/v1/datasets/${sha}:jobs`,
    `/v1/datasets/${sha}/preview:x`,
  ]) {
    const notAnId = await app.inject({ method: 'GET', url })
    t.equal(notAnId.statusCode, 404, url)
    t.equal(notAnId.json().code.endsWith('NOT_FOUND'), true, url)
  }
})

t.test('bad names, empty and oversized bodies: 4xx problem+json, nothing left', async (t) => {
  const { app, root } = await setup(t, { SPARKGATE_DATASET_MAX_BYTES: 1000 })
  for (const name of [
    'a/b.csv',
    '..',
    'bad\u0001name.csv',
    `${'é'.repeat(128)}.csv`,
    'x\\y',
    'a:b.csv',
  ]) {
    const r = await upload(app, name, 'a,b\n1,2\n')
    t.equal(r.statusCode, 400, JSON.stringify(name))
    t.match(r.headers['content-type'], /^application\/problem\+json/)
    t.equal(r.json().code, 'SPARKGATE_VALIDATION')
    t.equal(r.json().errors[0].field, 'querystring.name')
  }
  const noName = await upload(app, undefined, 'a,b\n')
  t.equal(noName.statusCode, 400)
  t.equal(noName.json().errors[0].field, 'querystring.name')
  t.equal(noName.json().errors[0].rule, 'required')

  // (a path in a multipart file name is cut to its last segment by the parser)
  const form = multipartBody(`${'x'.repeat(300)}.csv`, 'a\n')
  const badForm = await app.inject({ method: 'POST', url: '/v1/datasets', ...form })
  t.equal(badForm.statusCode, 400, 'a multipart file name is checked too')
  t.equal(badForm.json().errors[0].field, 'body.file.filename')

  const empty = await upload(app, 'empty.csv', '')
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().code, 'SPARKGATE_EMPTY_UPLOAD')

  const big = await upload(app, 'big.bin', randomBytes(2000), 'application/octet-stream')
  t.equal(big.statusCode, 413, 'Content-Length over the limit')
  t.equal(big.json().code, 'SPARKGATE_UPLOAD_TOO_LARGE')
  // no Content-Length (chunked): the limit is found while streaming
  const chunked = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=big.bin',
    headers: { 'content-type': 'application/octet-stream' },
    payload: Readable.from([randomBytes(600), randomBytes(600)]),
  })
  t.equal(chunked.statusCode, 413, 'a streamed body over the limit')
  const bigForm = multipartBody('big.csv', 'x'.repeat(1500))
  const tooBigForm = await app.inject({ method: 'POST', url: '/v1/datasets', ...bigForm })
  t.equal(tooBigForm.statusCode, 413, 'a multipart file over the limit')

  t.same(await tmpEntries(app, root), [], 'no temp file left')
  t.same((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().items, [])
})

t.test('a client that disconnects mid-upload leaves nothing behind', async (t) => {
  const { app, root } = await setup(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  await new Promise<void>((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets?name=cut.bin',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 50_000_000 },
    })
    req.on('error', () => resolve())
    req.write(randomBytes(3_000_000), () => {
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 300)
    })
  })
  // the gateway notices, aborts the DataNode transfer and removes the temp file
  const deadline = Date.now() + 20_000
  let left = await tmpEntries(app, root)
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    left = await tmpEntries(app, root)
  }
  t.same(left, [], 'the temp file is removed')
  t.same((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().items, [])
})

t.test('HDFS down: 503 problem+json and nothing recorded', async (t) => {
  const { app } = await setup(t, { SPARKGATE_WEBHDFS_URL: 'http://127.0.0.1:1/webhdfs/v1' })
  const r = await upload(app, 'people.csv', CSV)
  t.equal(r.statusCode, 503)
  t.match(r.headers['content-type'], /^application\/problem\+json/)
  t.equal(r.json().code, 'SPARKGATE_HDFS_UNAVAILABLE')
  t.same((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().items, [])
})

t.test('concurrent uploads of the same bytes make one dataset', async (t) => {
  const { app, hdfs, root } = await setup(t)
  const bytes = randomBytes(256 * 1024)
  const results = await Promise.all(
    ['a.bin', 'b.bin', 'a.bin', 'c.bin', 'a.bin'].map((name) =>
      upload(app, name, bytes, 'application/octet-stream'),
    ),
  )
  const statuses = results.map((r) => r.statusCode).sort()
  t.equal(statuses.filter((s) => s === 201).length, 1, `one 201: ${statuses.join(',')}`)
  t.equal(statuses.filter((s) => s === 200).length, 4)
  const ids = new Set(results.map((r) => r.json<Dataset>().id))
  t.equal(ids.size, 1)
  const [id] = [...ids]
  const files = (await hdfs.listStatus(`${root}/datasets/${id}`)).map((s) => s.pathSuffix)
  t.equal(files.length, 1, `one file on HDFS: ${files.join(',')}`)
  t.same(await tmpEntries(app, root), [])
  t.equal((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().items.length, 1)
})

t.test('jobs reference datasets; a dataset in use cannot be deleted', async (t) => {
  const { app } = await setup(t)
  const ds = (await upload(app, 'people.csv', CSV)).json<Dataset>()
  const ref = `dataset://${ds.id}`
  const r = await postJob(app, {
    batch: { file: 'hdfs://127.0.0.1:8020/app.py', args: ['--input', ref], files: [ref] },
  })
  t.equal(r.statusCode, 202, r.body)
  t.same(r.json().inputs, { [ref]: ds.uri }, 'the reference and the URI it runs with')
  const unknown = `dataset://${'0'.repeat(64)}`
  const bad = await postJob(app, {
    batch: { file: 'hdfs://127.0.0.1:8020/app.py', args: [unknown] },
  })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().errors[0].field, 'body.batch.args.0')
  t.match(bad.json().detail, /does not exist/)

  const busy = await app.inject({ method: 'DELETE', url: `/v1/datasets/${ds.id}` })
  t.equal(busy.statusCode, 409, 'a queued job uses it')
  t.equal(busy.json().code, 'SPARKGATE_DATASET_IN_USE')
  t.equal(busy.json().jobId, r.json().id)
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${r.json().id}` })
  const free = await app.inject({ method: 'DELETE', url: `/v1/datasets/${ds.id}` })
  t.equal(free.statusCode, 204, 'deletable once the job has ended')
})

t.test('a 200 MiB upload reads back byte-identical', async (t) => {
  const { app, hdfs } = await setup(t)
  const MiB = 1024 * 1024
  // deterministic, incompressible bytes generated while streaming: never 200 MiB in memory
  const seed = randomBytes(32)
  const sent = createHash('sha256')
  async function* bytes() {
    for (let i = 0; i < 200; i++) {
      const block = Buffer.alloc(MiB)
      for (let k = 0; k < MiB; k += 32)
        createHash('sha256').update(seed).update(`${i}:${k}`).digest().copy(block, k)
      sent.update(block)
      yield block
    }
  }
  const r = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=big.bin',
    headers: { 'content-type': 'application/octet-stream' },
    payload: Readable.from(bytes()),
  })
  t.equal(r.statusCode, 201, r.body)
  const ds = r.json<Dataset>()
  const sentSha = sent.digest('hex')
  t.equal(ds.size, 200 * MiB)
  t.equal(ds.sha256, sentSha, 'the gateway hashed what was sent')
  const back = createHash('sha256')
  let size = 0
  for await (const chunk of await hdfs.open(ds.path)) {
    back.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  t.equal(size, 200 * MiB)
  t.equal(back.digest('hex'), sentSha, 'read back over WebHDFS: byte-identical')
})
