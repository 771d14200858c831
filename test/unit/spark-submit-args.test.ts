/**
 * The spark-submit command line of the local backend (sparkSubmitArgs in
 * src/backends/local/spark-submit.ts): options before the file, the application's own
 * arguments after it. Nothing is spawned.
 */
import t from 'tap'
import { sparkEnvironment, sparkSubmitArgs } from '../../src/backends/local/spark-submit.js'

t.test('minimal: --master, --name and the file', async (t) => {
  t.strictSame(sparkSubmitArgs({ name: 'job-1', file: 'hdfs://nn:8020/app.py' }, 'local[2]'), [
    '--master',
    'local[2]',
    '--name',
    'job-1',
    'hdfs://nn:8020/app.py',
  ])
})

t.test('every option, in order and spelled as spark-submit wants', async (t) => {
  const args = sparkSubmitArgs(
    {
      name: 'job-1.2',
      file: 'hdfs://nn:8020/app.jar',
      className: 'org.example.Main',
      driverMemory: '1g',
      driverCores: 2,
      executorMemory: '4g',
      executorCores: 3,
      numExecutors: 5,
      pyFiles: ['hdfs://nn:8020/a.py', 'hdfs://nn:8020/b.zip'],
      jars: ['hdfs://nn:8020/x.jar'],
      files: ['hdfs://nn:8020/f.txt', 'hdfs://nn:8020/g.txt'],
      conf: { 'spark.sql.shuffle.partitions': '8', 'spark.app.x': 'a=b c' },
      args: ['--input', 'hdfs://nn:8020/in', ''],
    },
    'local[*]',
  )
  t.strictSame(args, [
    '--master',
    'local[*]',
    '--name',
    'job-1.2',
    '--class',
    'org.example.Main',
    '--driver-memory',
    '1g',
    '--driver-cores',
    '2',
    '--executor-memory',
    '4g',
    '--executor-cores',
    '3',
    '--num-executors',
    '5',
    '--py-files',
    'hdfs://nn:8020/a.py,hdfs://nn:8020/b.zip',
    '--jars',
    'hdfs://nn:8020/x.jar',
    '--files',
    'hdfs://nn:8020/f.txt,hdfs://nn:8020/g.txt',
    '--conf',
    'spark.sql.shuffle.partitions=8',
    '--conf',
    'spark.app.x=a=b c',
    'hdfs://nn:8020/app.jar',
    '--input',
    'hdfs://nn:8020/in',
    '',
  ])
  t.ok(
    args.every((a) => typeof a === 'string'),
    'numbers become strings (spawn takes strings only)',
  )
})

t.test('empty lists and an empty conf add nothing', async (t) => {
  t.strictSame(
    sparkSubmitArgs(
      {
        name: 'j',
        file: '/opt/app.py',
        pyFiles: [],
        jars: [],
        files: [],
        conf: {},
        args: [],
      },
      'local',
    ),
    ['--master', 'local', '--name', 'j', '/opt/app.py'],
  )
})

t.test(
  "the application's arguments come after the file, even when they look like options",
  async (t) => {
    const args = sparkSubmitArgs(
      { name: 'j', file: 'hdfs://nn/app.py', args: ['--master', 'yarn'] },
      'local[1]',
    )
    t.strictSame(args.slice(4), ['hdfs://nn/app.py', '--master', 'yarn'])
    t.equal(args.indexOf('--master'), 0, 'our --master comes first')
  },
)

t.test('a local spark-submit sees a minimal environment: no gateway secret', async (t) => {
  const env = sparkEnvironment({
    PATH: '/usr/bin',
    HOME: '/root',
    JAVA_HOME: '/usr/lib/jvm/java-17',
    PYSPARK_PYTHON: '/venv/bin/python',
    SPARKGATE_ADMIN_KEY: 'sgk_secret',
    SPARKGATE_SYNAPSE_TOKEN: 'token',
    SPARKGATE_REDIS_URL: 'redis://:password@host:6379',
    AZURE_CLIENT_SECRET: 'secret',
    AWS_SECRET_ACCESS_KEY: 'secret',
    NODE_OPTIONS: '--inspect',
  })
  t.strictSame(env, {
    PATH: '/usr/bin',
    HOME: '/root',
    JAVA_HOME: '/usr/lib/jvm/java-17',
    PYSPARK_PYTHON: '/venv/bin/python',
  })
})
