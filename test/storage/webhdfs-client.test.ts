/**
 * The WebHDFS client, every operation against the real local HDFS: status, listing
 * (plain and batched), mkdirs, two-step CREATE with options and APPEND, streamed OPEN
 * with offset/length across block boundaries, rename, recursive delete, content summary,
 * checksum, typed errors and an aborted upload.
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import t from 'tap'
import { WebHdfsError } from '../../src/storage/webhdfs-client.js'
import { hdfsClient, hdfsTestDir } from '../helpers/stack.js'

const MiB = 1024 * 1024

/** The WebHdfsError kind a call fails with ('ok' when it does not fail). */
const kindOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof WebHdfsError ? e.kind : String(e)),
  )

function chunked(bytes: Buffer, size = 64 * 1024) {
  return Readable.from(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size),
    ),
  )
}

t.test('a file over several blocks: options, reads with offset/length, checksum', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  const bytes = randomBytes(5 * MiB + 12345)
  // 1 MiB blocks (the NameNode's minimum block size is 1 MiB): six blocks
  await hdfs.create(`${dir}/big.bin`, chunked(bytes), {
    blockSize: MiB,
    replication: 1,
    permission: '640',
  })
  const status = await hdfs.getFileStatus(`${dir}/big.bin`)
  t.match(status, { type: 'FILE', length: bytes.length, blockSize: MiB, permission: '640' })
  t.equal(status.replication, 1)

  const whole = await hdfs.readFile(`${dir}/big.bin`)
  t.ok(whole.equals(bytes), 'read back byte-identical')
  // a range that spans the boundary between block 2 and block 3
  const offset = 2 * MiB - 1000
  const across = await hdfs.readFile(`${dir}/big.bin`, { offset, length: 4000 })
  t.ok(across.equals(bytes.subarray(offset, offset + 4000)), 'a read across a block boundary')
  const tail = await hdfs.readFile(`${dir}/big.bin`, { offset: bytes.length - 10 })
  t.ok(tail.equals(bytes.subarray(bytes.length - 10)), 'offset without length reads to the end')

  // OPEN streams: the first chunk arrives before the whole file is read
  const stream = await hdfs.open(`${dir}/big.bin`)
  const first = (await stream[Symbol.asyncIterator]().next()).value as Buffer
  t.ok(first.length > 0 && first.length < bytes.length, 'streamed in chunks')
  stream.destroy()

  const checksum = await hdfs.getFileChecksum(`${dir}/big.bin`)
  t.match(checksum.algorithm, /MD5-of-\d+MD5-of-\d+CRC32C?/)
  t.equal(checksum.length, 28)
  const again = `${dir}/same.bin`
  await hdfs.create(again, bytes, { blockSize: MiB, replication: 1 })
  t.equal((await hdfs.getFileChecksum(again)).bytes, checksum.bytes, 'same bytes, same checksum')

  t.equal(await kindOf(hdfs.create(`${dir}/big.bin`, 'x')), 'already_exists')
  await hdfs.create(`${dir}/big.bin`, 'replaced', { overwrite: true })
  t.equal((await hdfs.readFile(`${dir}/big.bin`)).toString(), 'replaced', 'overwrite')
})

t.test('append, rename, listing, content summary, delete', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  await hdfs.create(`${dir}/log.txt`, 'one\n')
  await hdfs.append(`${dir}/log.txt`, 'two\n')
  await hdfs.append(`${dir}/log.txt`, Readable.from([Buffer.from('three\n')]))
  t.equal((await hdfs.readFile(`${dir}/log.txt`)).toString(), 'one\ntwo\nthree\n', 'append')

  t.equal(await hdfs.rename(`${dir}/log.txt`, `${dir}/moved.txt`), true, 'rename')
  t.equal(await hdfs.stat(`${dir}/log.txt`), undefined)
  t.equal(await hdfs.rename(`${dir}/nope.txt`, `${dir}/x.txt`), false, 'rename of nothing: false')

  await hdfs.mkdirs(`${dir}/many`)
  const names = Array.from({ length: 25 }, (_, i) => `f${String(i).padStart(2, '0')}`)
  await Promise.all(names.map((n) => hdfs.create(`${dir}/many/${n}`, n)))
  const listed = (await hdfs.listStatus(`${dir}/many`)).map((s) => s.pathSuffix)
  t.same(listed.sort(), names)
  // the NameNode's dfs.ls.limit is set to 10 in the local stack: batches of at most 10
  const batches: string[][] = []
  for await (const page of hdfs.listStatusBatches(`${dir}/many`))
    batches.push(page.map((s) => s.pathSuffix))
  t.same(batches.flat().sort(), names, 'LISTSTATUS_BATCH returns every entry once')
  t.ok(batches.length >= 3, `paged: ${batches.map((b) => b.length).join(', ')}`)

  const summary = await hdfs.getContentSummary(dir)
  t.equal(summary.fileCount, 26)
  t.equal(summary.directoryCount, 2)
  t.equal(summary.length, 'one\ntwo\nthree\n'.length + names.join('').length)

  t.equal(await kindOf(hdfs.delete(`${dir}/many`, false)), 'invalid', 'non-empty folder')
  t.equal(await hdfs.delete(`${dir}/many`, true), true)
  t.equal(await hdfs.delete(`${dir}/many`, true), false, 'deleting nothing: false')
})

t.test('typed errors and an aborted upload', async (t) => {
  const hdfs = hdfsClient()
  const dir = await hdfsTestDir(t, hdfs)
  t.equal(await kindOf(hdfs.getFileStatus(`${dir}/missing`)), 'not_found')
  t.equal(await kindOf(hdfs.open(`${dir}/missing`)), 'not_found')
  t.equal(await kindOf(hdfs.listStatus(`${dir}/missing`)), 'not_found')
  await hdfs.create(`${dir}/file`, 'x')
  t.not(await kindOf(hdfs.mkdirs(`${dir}/file/sub`)), 'ok', 'a file is not a folder')
  t.throws(() => hdfs.url('relative', 'GETFILESTATUS'), WebHdfsError)

  const controller = new AbortController()
  let sent = 0
  const endless = new Readable({
    read() {
      const chunk = randomBytes(64 * 1024)
      sent += chunk.length
      if (sent > 2 * MiB) controller.abort()
      this.push(chunk)
    },
  })
  t.equal(
    await kindOf(hdfs.create(`${dir}/cut.bin`, endless, { signal: controller.signal })),
    'aborted',
  )
  endless.destroy()
})
