import t from 'tap'
import { readFile } from 'node:fs/promises'
import {
  hdfsClient,
  hdfsTestDir,
  livyClient,
  testConfig,
  uniqueId,
  waitForBatch,
} from '../helpers/stack.js'

const config = testConfig()
const hdfs = hdfsClient(config)
const livy = livyClient(config)
const uri = (path: string) => `${config.SPARKGATE_HDFS_DEFAULT_FS}${path}`

t.test(
  'a PySpark batch staged on HDFS runs through Livy and writes its result to HDFS',
  async (t) => {
    const dir = await hdfsTestDir(t, hdfs)
    await hdfs.create(`${dir}/line_stats.py`, await readFile('jobs/examples/line_stats.py'))
    await hdfs.create(`${dir}/input.txt`, 'spark on hdfs\nlivy runs spark\n\nspark again\n')

    const submitted = await livy.submit({
      name: uniqueId('stack-success'),
      file: uri(`${dir}/line_stats.py`),
      args: [uri(`${dir}/input.txt`), uri(`${dir}/out`)],
    })
    t.ok(Number.isInteger(submitted.id), `Livy accepted batch ${submitted.id}`)
    const done = await waitForBatch(livy, submitted.id)
    t.comment(`Livy batch ${done.id} state: ${done.state}`)
    t.equal(done.state, 'success', 'the batch reaches success')

    const parts = (await hdfs.listStatus(`${dir}/out`)).filter((f) =>
      f.pathSuffix.startsWith('part-'),
    )
    t.equal(parts.length, 1, 'one result file')
    const text = (await hdfs.readFile(`${dir}/out/${parts[0]!.pathSuffix}`)).toString('utf8').trim()
    t.comment(`value read back from HDFS: ${text}`)
    t.same(JSON.parse(text), {
      lines: 4,
      words: 8,
      top: [
        { word: 'spark', count: 3 },
        { word: 'again', count: 1 },
        { word: 'hdfs', count: 1 },
      ],
    })
  },
)

t.test('a batch that raises reaches dead, and its log lines are readable from Livy', async (t) => {
  const dir = await hdfsTestDir(t, hdfs)
  await hdfs.create(`${dir}/raise_error.py`, await readFile('test/fixtures/spark/raise_error.py'))
  const submitted = await livy.submit({
    name: uniqueId('stack-dead'),
    file: uri(`${dir}/raise_error.py`),
  })
  const done = await waitForBatch(livy, submitted.id)
  t.comment(`Livy batch ${done.id} state: ${done.state}`)
  t.equal(done.state, 'dead')
  const log = await livy.logs(done.id, 0, 1000)
  t.ok(log.total > 0, `${log.total} log lines`)
  t.ok(
    log.log.some((line) =>
      line.includes('ValueError: sparkgate-intended-failure after counting 10 rows'),
    ),
    'the Python exception is in the log',
  )
})

t.test('Livy refuses a second batch with a name already in use', async (t) => {
  const dir = await hdfsTestDir(t, hdfs)
  await hdfs.create(`${dir}/raise_error.py`, await readFile('test/fixtures/spark/raise_error.py'))
  const name = uniqueId('stack-dup')
  const first = await livy.submit({ name, file: uri(`${dir}/raise_error.py`) })
  await t.rejects(livy.submit({ name, file: uri(`${dir}/raise_error.py`) }), {
    kind: 'rejected',
    status: 400,
    message: /Duplicate session name/,
  })
  await livy.kill(first.id)
})
