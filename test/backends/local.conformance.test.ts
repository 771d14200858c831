/** The SparkBackend conformance suite against the local spark-submit (the stack's Spark). */
import { copyFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { LocalBackend } from '../../src/backends/local/local-backend.js'
import { batchKey } from '../../src/domain/ports/spark-backend.js'
import { conformance } from '../helpers/conformance.js'

conformance(t, async () => {
  const sparkHome = process.env['SPARK_HOME']
  if (!sparkHome) throw new Error('SPARK_HOME is not set: run through npm test')
  const workdir = await mkdtemp(join(tmpdir(), 'sparkgate-local-conformance-'))
  const files = await mkdtemp(join(tmpdir(), 'sparkgate-local-files-'))
  return {
    backend: new LocalBackend({
      name: 'local',
      sparkHome,
      workdir,
      master: 'local[2]',
      killGraceMs: 3000,
    }),
    down: new LocalBackend({
      name: 'local-down',
      sparkHome: '/nonexistent/spark',
      workdir,
      master: 'local[2]',
    }),
    // local reads file:// (and hdfs://, as the training e2e on this backend shows)
    stage: async (local, name) => {
      await copyFile(local, join(files, name))
      return `file://${join(files, name)}`
    },
    refusedFile: 'file:///nonexistent/sparkgate/nope.py',
    refusesDuplicateNames: true,
  }
})

t.test('a batch outlives the backend object that started it (a gateway restart)', async (t) => {
  const sparkHome = process.env['SPARK_HOME']!
  const workdir = await mkdtemp(join(tmpdir(), 'sparkgate-local-restart-'))
  const hello = fileURLToPath(new URL('../fixtures/spark/hello.py', import.meta.url))
  const before = new LocalBackend({ name: 'local', sparkHome, workdir, master: 'local[1]' })
  const ref = await before.submit({ name: 'restart-1', file: hello, args: ['x'] })
  // a new instance, as after a restart, reads the same folder
  const after = new LocalBackend({ name: 'local', sparkHome, workdir, master: 'local[1]' })
  t.same(await after.findByName('restart-1'), ref)
  const deadline = Date.now() + 120_000
  let phase = ''
  while (Date.now() < deadline) {
    phase = (await after.statusMany([ref])).get(batchKey(ref))?.phase ?? 'unknown'
    if (phase === 'succeeded' || phase === 'failed') break
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  t.equal(phase, 'succeeded', 'the exit code recorded by the wrapper')
  const log = await after.logs(ref, 0, 1000)
  t.ok(log.lines.some((l) => l.includes('hello from sparkgate')))
})
