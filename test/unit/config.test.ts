/**
 * Configuration from SPARKGATE_* variables (src/config.ts) and the backends it names
 * (src/backends/create-backends.ts, the registry of kinds). Environments are passed in as
 * objects, so the process environment does not matter; creating a backend makes no call
 * (Livy: an axios instance; Synapse: an SDK client with a static token; local: nothing
 * spawned until a submit).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BackendConfigError } from '../../src/backends/backend-kind.js'
import { LivyBackend } from '../../src/backends/livy/livy-backend.js'
import { LocalBackend } from '../../src/backends/local/local-backend.js'
import {
  BACKEND_SETTINGS,
  backendProblems,
  createBackends,
} from '../../src/backends/create-backends.js'
import { BACKEND_KINDS } from '../../src/backends/registry.js'
import { SynapseBackend } from '../../src/backends/synapse/synapse-backend.js'
import { ConfigError, ConfigSchema, configWith, loadConfig } from '../../src/config.js'

// the defaults, whatever the developer's stack runs: a secured local stack would supply its
// own (run/secure.json); this test's stack folder has none
process.env['STACK_DIR'] = mkdtempSync(join(tmpdir(), 'sparkgate-no-stack-'))

/** The ConfigError problems of an environment (fails the test when it loads). */
function problemsOf(t: { fail: (m: string) => void }, env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  t.fail(`loaded: ${JSON.stringify(env)}`)
  return []
}

/** What `fn` throws (undefined when it returns). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

const KINDS_LIST = BACKEND_KINDS.map((k) => k.kind).join(', ')
const SUMMARIES = BACKEND_KINDS.map((k) => k.summary).join(' | ')
const properties = ConfigSchema.properties as Record<
  string,
  { description?: string; default?: unknown }
>

t.test('with no SPARKGATE_* variable, every default is the local stack', async (t) => {
  const config = loadConfig({ PATH: '/bin', HOME: '/root', SPARK_HOME: '/elsewhere' })
  t.equal(config.SPARKGATE_HOST, '127.0.0.1')
  t.equal(config.SPARKGATE_PORT, 8080)
  t.equal(config.SPARKGATE_REDIS_URL, 'redis://127.0.0.1:6380')
  t.equal(config.SPARKGATE_LIVY_URL, 'http://127.0.0.1:8998')
  t.equal(config.SPARKGATE_WEBHDFS_URL, 'http://127.0.0.1:9870/webhdfs/v1')
  t.equal(config.SPARKGATE_HDFS_DEFAULT_FS, 'hdfs://127.0.0.1:8020')
  t.equal(config.SPARKGATE_BACKENDS, 'auto')
  t.equal(config.SPARKGATE_DEFAULT_BACKEND, 'livy')
  t.equal(config.SPARKGATE_ROLES, 'api,worker,tracker')
  t.equal(config.SPARKGATE_SYNAPSE_TOKEN, 'none')
  // and every other variable is its schema default
  t.strictSame(
    config,
    Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, s.default])),
  )
})

t.test('an empty value counts as unset', async (t) => {
  t.equal(loadConfig({ SPARKGATE_PORT: '', SPARKGATE_HOST: '' }).SPARKGATE_PORT, 8080)
})

t.test('values are converted to their types', async (t) => {
  const config = loadConfig({
    SPARKGATE_PORT: '9090',
    SPARKGATE_LOG_LEVEL: 'debug',
    SPARKGATE_DATASET_MAX_BYTES: '1048576',
    SPARKGATE_LIVY_MAX_LIVE: '7',
    SPARKGATE_REDIS_PREFIX: '{sg}',
  })
  t.equal(config.SPARKGATE_PORT, 9090)
  t.equal(config.SPARKGATE_LOG_LEVEL, 'debug')
  t.equal(config.SPARKGATE_DATASET_MAX_BYTES, 1048576)
  t.equal(config.SPARKGATE_LIVY_MAX_LIVE, 7)
  t.equal(config.SPARKGATE_REDIS_PREFIX, '{sg}')
})

t.test('configWith: defaults plus overrides, validated the same way', async (t) => {
  const config = configWith({ SPARKGATE_PORT: 0, SPARKGATE_HOST: '0.0.0.0' })
  t.equal(config.SPARKGATE_PORT, 0, '0 picks a free port')
  t.equal(config.SPARKGATE_HOST, '0.0.0.0')
  t.equal(config.SPARKGATE_REDIS_URL, 'redis://127.0.0.1:6380')
  t.throws(() => configWith({ SPARKGATE_PORT: -1 }), ConfigError)
})

t.test('bad values and unknown names fail at boot, each named', async (t) => {
  const problems = problemsOf(t, {
    SPARKGATE_PORT: '70000',
    SPARKGATE_PROT: '1',
    SPARKGATE_LIVY_URL: 'not a url',
  })
  t.equal(problems.length, 3, problems.join('\n'))
  t.equal(
    problems.find((p) => p.startsWith('SPARKGATE_PROT')),
    `SPARKGATE_PROT: unknown variable (known: ${Object.keys(properties).join(', ')})`,
    'an unknown name lists the known ones',
  )
  t.match(problems.join('\n'), /SPARKGATE_PORT: .*65535.*\(got 70000\)/)
  t.match(problems.join('\n'), /SPARKGATE_LIVY_URL: .*pattern.*\(got "not a url"\)/)
  t.match(problemsOf(t, { SPARKGATE_PORT: 'x' }), ['SPARKGATE_PORT: must be integer (got "x")'])
})

t.test('every rule of a variable is enforced', async (t) => {
  const bad: Record<string, string> = {
    SPARKGATE_LOG_LEVEL: 'loud',
    SPARKGATE_ROLES: 'api,web',
    SPARKGATE_FAILPOINTS: 'boom',
    SPARKGATE_HDFS_ROOT: 'relative/path',
    SPARKGATE_LOCAL_MASTER: 'yarn',
    SPARKGATE_LOCAL_WORKDIR: 'tmp',
    SPARKGATE_TRACKER_INTERVAL_MS: '10',
    SPARKGATE_REDIS_PREFIX: 'a b',
    SPARKGATE_DATASET_MAX_BYTES: '0',
    SPARKGATE_LIVY_MAX_LIVE: '0',
  }
  for (const [name, value] of Object.entries(bad)) {
    const problems = problemsOf(t, { [name]: value })
    t.ok(
      problems.length > 0 && problems.every((p) => p.startsWith(`${name}: `)),
      `${name}=${value}: ${problems.join('; ')}`,
    )
  }
})

t.test('every variable has a description and a default', async (t) => {
  for (const [name, schema] of Object.entries(properties)) {
    t.ok(name.startsWith('SPARKGATE_'), `${name} is a SPARKGATE_ variable`)
    t.ok(schema.description, `${name} is described`)
    t.not(schema.default, undefined, `${name} has a default`)
  }
})

t.test("every backend kind's variables are in the one config schema", async (t) => {
  t.strictSame(
    BACKEND_KINDS.map((k) => k.kind),
    ['livy', 'local', 'synapse'],
  )
  for (const kind of BACKEND_KINDS) {
    t.ok(Object.keys(kind.settings).length > 0, `${kind.kind} has settings`)
    for (const [name, schema] of Object.entries(kind.settings)) {
      t.equal(properties[name], schema, `${kind.kind}: ${name} is in ConfigSchema`)
      t.ok(properties[name]?.description, `${name} is described`)
      t.not(properties[name]?.default, undefined, `${name} has a default`)
    }
  }
  t.strictSame(
    Object.keys(BACKEND_SETTINGS).sort(),
    BACKEND_KINDS.flatMap((k) => Object.keys(k.settings)).sort(),
    'BACKEND_SETTINGS is every kind’s settings, no variable shared by two kinds',
  )
})

t.test('SPARKGATE_BACKENDS: auto and valid lists have no problem', async (t) => {
  t.strictSame(backendProblems('auto'), [])
  t.strictSame(
    backendProblems(
      JSON.stringify([
        { name: 'livy', kind: 'livy', url: 'http://livy:8998', maxLive: 3 },
        { name: 'local', kind: 'local', sparkHome: '/opt/spark', master: 'local[*]' },
        { name: 'syn', kind: 'synapse', endpoint: 'https://x.dev.azuresynapse.net', pool: 'p' },
      ]),
    ),
    [],
  )
})

t.test('SPARKGATE_BACKENDS: every problem names the entry and the field', async (t) => {
  t.match(backendProblems('not json'), [/^SPARKGATE_BACKENDS: not JSON \(.+\)$/])
  const notArray = ['SPARKGATE_BACKENDS: must be "auto" or a non-empty JSON array']
  t.strictSame(backendProblems('[]'), notArray, 'empty')
  t.strictSame(backendProblems('{"name":"livy","kind":"livy","url":"http://l"}'), notArray)
  t.strictSame(backendProblems('7'), notArray)
  t.strictSame(backendProblems('null'), notArray)

  const unknownKind = `must be one of ${KINDS_LIST} — ${SUMMARIES}`
  t.strictSame(backendProblems('[{"name":"a","kind":"spark"}]'), [
    `SPARKGATE_BACKENDS[0].kind: ${unknownKind}`,
  ])
  t.strictSame(backendProblems('[{"name":"a","kind":"livy","url":"http://l"}, null, {}]'), [
    `SPARKGATE_BACKENDS[1].kind: ${unknownKind}`,
    `SPARKGATE_BACKENDS[2].kind: ${unknownKind}`,
  ])
  t.strictSame(backendProblems('[{"name":"a","kind":"livy"}]'), [
    'SPARKGATE_BACKENDS[0]: must have required properties url (a livy entry is {name, kind: livy, url, yarnUrl?, auth?, caFile?, maxLive?})',
  ])
  t.strictSame(
    backendProblems('[{"name":"s","kind":"synapse","endpoint":"http://x","pool":"p"}]'),
    [
      'SPARKGATE_BACKENDS[0].endpoint: must match pattern "^https://" (a synapse entry is {name, kind: synapse, endpoint, pool, storage?: {account, container, folder?, blobEndpoint?, auth, caFile?}, livyApiVersion?, caFile?, tokenFile?, maxLive?})',
    ],
  )
  t.match(
    backendProblems('[{"name":"Bad_Name","kind":"local"}]'),
    [/^SPARKGATE_BACKENDS\[0\]\.name: must match pattern/],
    'names are lower-case (queue names, key parts)',
  )
  t.strictSame(
    backendProblems(
      '[{"name":"a","kind":"livy","url":"http://l"},{"name":"b","kind":"local"},{"name":"a","kind":"local"}]',
    ),
    ['SPARKGATE_BACKENDS[2]: duplicate name a'],
  )
})

t.test('a bad SPARKGATE_BACKENDS fails loadConfig', async (t) => {
  t.strictSame(problemsOf(t, { SPARKGATE_BACKENDS: '[]' }), [
    'SPARKGATE_BACKENDS: must be "auto" or a non-empty JSON array',
  ])
  t.equal(
    loadConfig({ SPARKGATE_BACKENDS: '[{"name":"a","kind":"livy","url":"http://l"}]' })
      .SPARKGATE_BACKENDS,
    '[{"name":"a","kind":"livy","url":"http://l"}]',
  )
})

t.test('createBackends: a livy and a synapse entry', async (t) => {
  const settings = configWith({ SPARKGATE_SYNAPSE_TOKEN: 'test-token', SPARKGATE_LIVY_MAX_LIVE: 7 })
  const backends = createBackends(
    JSON.stringify([
      { name: 'livy', kind: 'livy', url: 'http://livy:8998' },
      { name: 'syn', kind: 'synapse', endpoint: 'https://x.dev.azuresynapse.net', pool: 'p' },
      { name: 'livy-big', kind: 'livy', url: 'http://big:8998', maxLive: 50 },
    ]),
    'syn',
    settings,
  )
  t.equal(backends.defaultName, 'syn')
  t.strictSame([...backends.byName.keys()], ['livy', 'syn', 'livy-big'])
  const livy = backends.byName.get('livy')!
  t.type(livy.backend, LivyBackend)
  t.equal(livy.backend.kind, 'livy')
  t.equal(livy.backend.name, 'livy')
  t.equal(livy.backend.endpoint, 'http://livy:8998')
  t.equal(livy.maxLive, 7, 'livy: SPARKGATE_LIVY_MAX_LIVE by default')
  t.equal(backends.byName.get('livy-big')!.maxLive, 50, "an entry's own maxLive wins")
  const syn = backends.byName.get('syn')!
  t.type(syn.backend, SynapseBackend)
  t.equal(syn.backend.kind, 'synapse')
  t.equal(syn.backend.endpoint, 'https://x.dev.azuresynapse.net (pool p)')
  t.equal(syn.maxLive, 4, 'synapse: 4 by default')
})

t.test('createBackends: a default backend that is not configured', async (t) => {
  const error = thrownBy(() =>
    createBackends('[{"name":"livy","kind":"livy","url":"http://l"}]', 'other', configWith({})),
  )
  t.type(error, BackendConfigError)
  t.equal(
    (error as Error).message,
    'SPARKGATE_DEFAULT_BACKEND: other is not a configured backend (configured: livy)',
  )
})

t.test('createBackends: a local entry is created without running anything', async (t) => {
  const backends = createBackends(
    '[{"name":"spark","kind":"local","sparkHome":"/opt/spark","master":"local[4]","maxLive":3}]',
    'spark',
    configWith({ SPARKGATE_LOCAL_WORKDIR: '/tmp/sg-unit-never-created' }),
  )
  const local = backends.byName.get('spark')!
  t.type(local.backend, LocalBackend)
  t.equal(local.backend.kind, 'local')
  t.equal(local.backend.endpoint, 'spark-submit --master local[4] (/opt/spark)')
  t.equal(local.maxLive, 3)
  const byDefault = createBackends(
    '[{"name":"spark","kind":"local"}]',
    'spark',
    configWith({ SPARKGATE_SPARK_HOME: '/srv/spark' }),
  ).byName.get('spark')!
  t.equal(
    byDefault.backend.endpoint,
    'spark-submit --master local[2] (/srv/spark)',
    'sparkHome and master from SPARKGATE_SPARK_HOME and SPARKGATE_LOCAL_MASTER',
  )
  t.equal(byDefault.maxLive, 2, 'SPARKGATE_LOCAL_MAX_LIVE')
})

t.test('createBackends: auto', async (t) => {
  const withSpark = createBackends(
    'auto',
    'livy',
    configWith({ SPARKGATE_SPARK_HOME: '/opt/spark', SPARKGATE_LIVY_URL: 'http://l:1' }),
  )
  t.strictSame([...withSpark.byName.keys()], ['livy', 'local'], 'livy, and local with a Spark home')
  t.equal(withSpark.byName.get('livy')!.backend.endpoint, 'http://l:1')

  // no Spark home anywhere: this process's SPARK_HOME and local stack hidden for the test
  const saved = { SPARK_HOME: process.env['SPARK_HOME'], STACK_DIR: process.env['STACK_DIR'] }
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
  })
  delete process.env['SPARK_HOME']
  process.env['STACK_DIR'] = '/nonexistent/sparkgate-unit-stack'
  const noSpark = createBackends('auto', 'livy', configWith({}))
  t.strictSame([...noSpark.byName.keys()], ['livy'], 'livy only')
  const error = thrownBy(() =>
    createBackends('[{"name":"spark","kind":"local"}]', 'spark', configWith({})),
  )
  t.type(error, BackendConfigError, 'a local entry needs a Spark home')
  t.equal(
    (error as Error).message,
    'SPARKGATE_BACKENDS: local backend spark needs sparkHome (or SPARKGATE_SPARK_HOME / SPARK_HOME, or the local stack: npm run stack:up)',
  )
})

t.test('capabilities: livy and local read staged files, synapse does not', async (t) => {
  const capabilities = Object.fromEntries(
    BACKEND_KINDS.map((k) => [k.kind, k.capabilities.readsStagedFiles]),
  )
  t.strictSame(capabilities, { livy: true, local: true, synapse: false })
  const backends = createBackends(
    JSON.stringify([
      { name: 'livy', kind: 'livy', url: 'http://livy:8998' },
      { name: 'local', kind: 'local', sparkHome: '/opt/spark' },
      { name: 'syn', kind: 'synapse', endpoint: 'https://x.dev.azuresynapse.net', pool: 'p' },
    ]),
    'livy',
    configWith({ SPARKGATE_SYNAPSE_TOKEN: 'test-token' }),
  )
  for (const [, { backend }] of backends.byName)
    t.strictSame(
      backend.capabilities,
      BACKEND_KINDS.find((k) => k.kind === backend.kind)!.capabilities,
      `a ${backend.kind} backend has its kind's capabilities`,
    )
})
