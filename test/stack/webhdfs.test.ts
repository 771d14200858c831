import t from 'tap'
import axios from 'axios'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { hdfsClient, hdfsTestDir, testConfig } from '../helpers/stack.js'
import { WebHdfsError } from '../../src/storage/webhdfs-client.js'

t.test('WebHDFS round trip: mkdirs, two-step create, read back, delete', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  t.equal(await hdfs.mkdirs(`${dir}/a/b`), true, 'mkdirs')
  t.equal((await hdfs.getFileStatus(`${dir}/a/b`)).type, 'DIRECTORY')

  // 3 MiB of random bytes, streamed in 64 KiB chunks (never one buffer in the request)
  const bytes = randomBytes(3 * 1024 * 1024)
  const chunks = Array.from({ length: bytes.length / 65536 }, (_, i) =>
    bytes.subarray(i * 65536, (i + 1) * 65536),
  )
  await hdfs.create(`${dir}/a/b/blob.bin`, Readable.from(chunks))
  const status = await hdfs.getFileStatus(`${dir}/a/b/blob.bin`)
  t.equal(status.type, 'FILE')
  t.equal(status.length, bytes.length, 'length on the NameNode')

  const back = await hdfs.readFile(`${dir}/a/b/blob.bin`)
  t.ok(back.equals(bytes), 'read back byte-identical')
  const slice = await hdfs.readFile(`${dir}/a/b/blob.bin`, { offset: 1000, length: 5000 })
  t.ok(slice.equals(bytes.subarray(1000, 6000)), 'offset/length read')

  t.equal(await hdfs.delete(`${dir}/a`, true), true, 'recursive delete')
  t.equal(await hdfs.stat(`${dir}/a/b/blob.bin`), undefined, 'gone')
})

t.test('the DataNode redirect of CREATE and OPEN stays on 127.0.0.1', async (t) => {
  const config = testConfig()
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  for (const [method, op] of [
    ['PUT', 'CREATE'],
    ['GET', 'OPEN'],
  ] as const) {
    if (op === 'OPEN') await hdfs.create(`${dir}/r.txt`, 'redirect me')
    const r = await axios.request({
      method,
      url: hdfs.url(`${dir}/r.txt`, op, op === 'CREATE' ? { overwrite: true } : {}),
      maxRedirects: 0,
      validateStatus: () => true,
    })
    t.equal(r.status, 307, `${op} answers 307`)
    const location = new URL(String(r.headers['location']))
    t.equal(
      location.hostname,
      '127.0.0.1',
      `${op} redirects to a loopback DataNode (${location.host})`,
    )
  }
})

t.test('WebHDFS errors are typed', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  t.match(await hdfs.getFileStatus(`${dir}/missing`).catch((e: unknown) => e), {
    kind: 'not_found',
  })
  await hdfs.create(`${dir}/once.txt`, 'x')
  t.match(
    await hdfs.create(`${dir}/once.txt`, 'y').catch((e: unknown) => e),
    { kind: 'already_exists' },
    'no overwrite by default',
  )
  const down = hdfsClient(testConfig({ SPARKGATE_WEBHDFS_URL: 'http://127.0.0.1:1/webhdfs/v1' }))
  const error = await down.getFileStatus('/').catch((e: unknown) => e)
  t.type(error, WebHdfsError)
  t.equal((error as WebHdfsError).kind, 'unavailable')
  t.equal((error as WebHdfsError).transient, true)
})
