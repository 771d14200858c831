/** Job scripts are staged to <root>/artifacts/<sha256>/<name> once per content. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import t from 'tap'
import { HdfsStore } from '../../src/storage/hdfs-store.js'
import { hdfsClient, hdfsTestDir } from '../helpers/stack.js'

/** A local file staged as a job script is (src/runs/run-area.ts). */
function artifactOf(staging: HdfsStore) {
  return async (file: string) => staging.artifactBytes(await readFile(file), basename(file))
}

t.test('an artifact is uploaded once per content', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const staging = new HdfsStore(hdfs, root, 'hdfs://127.0.0.1:8020')
  const artifact = artifactOf(staging)
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-artifact-'))
  const script = join(dir, 'train.py')
  await writeFile(script, 'print("v1")\n')

  const uri = await artifact(script)
  t.match(uri, new RegExp(`^hdfs://127\\.0\\.0\\.1:8020${root}/artifacts/[0-9a-f]{64}/train\\.py$`))
  const path = new URL(uri).pathname
  t.equal((await hdfs.readFile(path)).toString(), 'print("v1")\n')
  const first = await hdfs.getFileStatus(path)

  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await artifact(script), uri, 'the same content: the same URI')
  const second = await hdfs.getFileStatus(path)
  t.equal(second.modificationTime, first.modificationTime, 'not uploaded again')

  await writeFile(script, 'print("v2")\n')
  const changed = await artifact(script)
  t.not(changed, uri, 'new content: a new path')
  t.equal((await hdfs.readFile(new URL(changed).pathname)).toString(), 'print("v2")\n')
  t.same(await hdfs.listStatus(`${root}/tmp`), [], 'no temp file left')
})

t.test('bytes built in memory are staged the same way, once per content', async (t) => {
  const hdfs = hdfsClient()
  const root = await hdfsTestDir(t, hdfs)
  const staging = new HdfsStore(hdfs, root, 'hdfs://127.0.0.1:8020')
  const artifact = artifactOf(staging)
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-artifact-'))
  const file = join(dir, 'package.zip')
  await writeFile(file, 'zip bytes')

  const uri = await staging.artifactBytes(Buffer.from('zip bytes'), 'package.zip')
  t.equal(await artifact(file), uri, 'the same name and bytes as a file: the same URI')
  const path = new URL(uri).pathname
  t.equal((await hdfs.readFile(path)).toString(), 'zip bytes')
  const first = await hdfs.getFileStatus(path)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await staging.artifactBytes(Buffer.from('zip bytes'), 'package.zip'), uri)
  t.equal((await hdfs.getFileStatus(path)).modificationTime, first.modificationTime, 'once')
})
