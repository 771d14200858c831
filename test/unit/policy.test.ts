/**
 * What a tenant's job may name (src/tenancy/policy.ts): URIs inside its own HDFS area,
 * dataset:// references, local folders and admin-allowed prefixes; Spark settings of the
 * allow-list but never a protected one unless named exactly; secret conf keys redacted.
 * Table-driven, with the attacks each rule is there to stop.
 */
import t from 'tap'
import {
  CONF_ALLOWED,
  CONF_PROTECTED,
  CONF_VALUE_RULES,
  DEFAULT_SECRET_PATTERNS,
  checkConf,
  checkUris,
  isSecretKey,
  redactConf,
  uriProblem,
  type Policy,
  type TenantArea,
} from '../../src/tenancy/policy.js'

const FS = 'hdfs://127.0.0.1:8020'
const ROOT = '/sparkgate/tenants/acme'
const AREA = `${FS}${ROOT}`
const HEX = 'ab'.repeat(32)

const area: TenantArea = { defaultFs: FS, root: ROOT }
const policy = (over: Partial<Policy> = {}): Policy => ({
  uriPrefixes: [
    `${FS}/shared/`,
    'abfss://c@acct.dfs.core.windows.net/team',
    'https://repo.example.com/jars/',
    'S3A://Bucket/data/',
  ],
  localFolders: ['/opt/sparkgate/jobs', '/srv/spark/'],
  confAllow: [],
  yarnQueues: ['default'],
  ...over,
})

t.test('URIs a job may name', async (t) => {
  const allowed: [string, string][] = [
    [`${AREA}/app.py`, 'a file in its area'],
    [`${AREA}/deep/er/x.csv`, 'deeper in its area'],
    [AREA, 'the area itself'],
    [`${AREA}/`, 'the area with a trailing slash'],
    [`${AREA}/data/`, 'a folder in its area'],
    [`${ROOT}/data/x.csv`, 'a bare path on the default FS'],
    [`HDFS://127.0.0.1:8020${ROOT}/x`, 'uppercase scheme'],
    [`hdfs://${ROOT}/x`, 'hdfs:/// (default authority)'],
    [`hdfs:${ROOT}/x`, 'hdfs:/path (default authority)'],
    [`${ROOT}/my%20file.csv`, 'an encoded space'],
    [`${FS}/sparkgate/tenants/%61cme/x`, 'an encoded letter decodes into the area'],
    [`${AREA}/data.txt#alias`, 'a link name after a file'],
    [`dataset://${HEX}`, 'a dataset reference'],
    [`${FS}/shared/lib.py`, 'an allowed prefix on the default FS'],
    ['/shared/lib.py', 'a bare path under an allowed prefix of the default FS'],
    ['abfss://c@acct.dfs.core.windows.net/team/x.parquet', 'under a prefix without a slash'],
    ['abfss://c@acct.dfs.core.windows.net/team', 'the prefix itself'],
    ['ABFSS://c@ACCT.DFS.core.windows.net/team/x', 'scheme and host compared case-insensitively'],
    ['https://repo.example.com/jars/a.jar', 'an https prefix'],
    ['https://repo.example.com/jars/a.jar?v=1', 'an https URI with a query'],
    ['s3a://bucket/data/x.csv', 's3a under a prefix written in uppercase'],
    ['file:///opt/sparkgate/jobs/a.py', 'file:/// under a local folder'],
    ['file:/opt/sparkgate/jobs/a.py', 'file:/ under a local folder'],
    ['file://localhost/opt/sparkgate/jobs/a.py', 'file://localhost'],
    ['file://LocalHost/opt/sparkgate/jobs/sub/b.py', 'file://LocalHost, deeper'],
    ['file:///opt/sparkgate/jobs', 'the local folder itself'],
    ['local:/opt/sparkgate/jobs/lib.jar', 'local:/ under a local folder'],
    ['local:///srv/spark/x.jar', 'local:/// under a folder configured with a trailing slash'],
  ]
  for (const [value, why] of allowed)
    t.equal(uriProblem(value, area, policy()), undefined, `${why}: ${value}`)
})

t.test('URIs a job may not name', async (t) => {
  const NOT_ALLOWED = 'is not allowed: a job may name its own area'
  const LOCAL = 'is not allowed: file: and local: URIs must be under'
  const DOTS = "must not contain '.' or '..' path segments"
  const refused: [string, string, string][] = [
    // traversal, plain and encoded
    [`${AREA}/../other/x`, DOTS, '..'],
    [`${ROOT}/../other/x`, DOTS, '.. in a bare path'],
    [`${ROOT}/./x`, DOTS, '.'],
    [`${ROOT}/x/..`, DOTS, 'trailing ..'],
    [`${ROOT}/%2e%2e/other`, DOTS, '%2e%2e'],
    [`${ROOT}/%2E%2E/other`, DOTS, '%2E%2E'],
    [`${ROOT}/.%2e/other`, DOTS, '.%2e'],
    [`${ROOT}/%2e/x`, DOTS, '%2e'],
    [`${ROOT}%2F..%2Fother/x`, 'must not percent-encode a slash (%2F)', '%2F'],
    [`${ROOT}/a%2fb`, 'must not percent-encode a slash (%2F)', '%2f'],
    [`${ROOT}/%252e%252e/x`, 'must not percent-encode a percent sign (%25)', 'double encoding'],
    [`${ROOT}/%zz`, 'has an invalid percent-encoding', 'bad escape'],
    [`${ROOT}/%c0%ae%c0%ae/x`, 'has an invalid percent-encoding', 'overlong UTF-8 dots'],
    [`${ROOT}//x`, 'must not contain empty path segments (//)', 'double slash'],
    [
      `${FS}//sparkgate/tenants/acme/x`,
      'must not contain empty path segments (//)',
      '// after host',
    ],
    [`//127.0.0.1:8020${ROOT}/x`, 'must not start with //', 'network-path reference'],
    [`${ROOT}/x%00.py`, 'must not contain control characters', 'encoded NUL'],
    [`${ROOT}/x%0a.py`, 'must not contain control characters', 'encoded newline'],
    [
      `${ROOT}/x%5c..%5cy`,
      'must not contain control characters, line breaks or backslashes',
      '%5c',
    ],
    [`${ROOT}\\..\\x`, 'must not contain whitespace, control characters or backslashes', '\\'],
    [`${AREA}/x\n`, 'must not contain whitespace', 'newline'],
    [` ${ROOT}/x`, 'must not contain whitespace', 'leading space'],
    [`${ROOT}/a b`, 'must not contain whitespace', 'raw space'],
    // other tenants and the boundary of the root
    ['/sparkgate/tenants/other/x', NOT_ALLOWED, "another tenant's folder"],
    [`${FS}/sparkgate/tenants/other/x`, NOT_ALLOWED, "another tenant's folder, full URI"],
    ['/sparkgate/tenants/acme2/x', NOT_ALLOWED, 'a sibling sharing the prefix'],
    ['/sparkgate/tenants/acme-evil', NOT_ALLOWED, 'a sibling, no slash'],
    [`${FS}/sparkgate/tenants/acmex`, NOT_ALLOWED, 'a sibling, full URI'],
    ['/sparkgate/tenants', NOT_ALLOWED, 'the parent'],
    ['/sparkgate/tenants/', NOT_ALLOWED, 'the parent with a slash'],
    ['/', NOT_ALLOWED, 'the root of the FS'],
    [FS, NOT_ALLOWED, 'the default FS itself'],
    [`/sparkgate/tenants/ACME/x`, NOT_ALLOWED, 'paths are case-sensitive'],
    // other hosts, ports, schemes
    [`hdfs://127.0.0.1:9000${ROOT}/x`, NOT_ALLOWED, 'another port'],
    [`hdfs://127.0.0.1${ROOT}/x`, NOT_ALLOWED, 'no port is not the default port'],
    [`hdfs://127.0.0.1:08020${ROOT}/x`, NOT_ALLOWED, 'the port spelt otherwise'],
    [`hdfs://10.0.0.1:8020${ROOT}/x`, NOT_ALLOWED, 'another host'],
    [`hdfs://localhost:8020${ROOT}/x`, NOT_ALLOWED, 'another name of the host'],
    [`hdfs://evil@127.0.0.1:8020${ROOT}/x`, NOT_ALLOWED, 'user info'],
    [`hdfs://127.0.0.1:8020@evil.com${ROOT}/x`, NOT_ALLOWED, 'the host hidden behind @'],
    [`webhdfs://127.0.0.1:8020${ROOT}/x`, NOT_ALLOWED, 'another scheme, same authority'],
    [`viewfs://cluster${ROOT}/x`, NOT_ALLOWED, 'viewfs'],
    [`hdfs://127.0.0.1:99999${ROOT}/x`, 'is not a valid URI', 'a port out of range'],
    // queries and fragments that parsers read differently
    [`${AREA}/x?y`, "must not contain '?'", 'a query on hdfs'],
    [`${AREA}/x?/../../other`, "must not contain '?'", 'a query hiding ..'],
    [`${ROOT}/x?y`, "must not contain '?'", 'a query on a bare path'],
    [`${AREA}#x`, NOT_ALLOWED, 'a fragment on the root (Hadoop may read acme#x)'],
    [`${AREA}/#x`, 'may end in #name only after a file name', 'a fragment on a folder'],
    [`${AREA}/x#../y`, 'may end in #name only with a plain link name', 'a fragment with ..'],
    [`${AREA}/x#..`, 'may end in #name only with a plain link name', 'a fragment ..'],
    [`${AREA}/x#%2e%2e`, 'may end in #name only with a plain link name', 'an encoded fragment'],
    // relative
    ['sparkgate/tenants/acme/x', 'must be an absolute URI', 'relative'],
    ['./x', 'must be an absolute URI', './'],
    ['../x', 'must be an absolute URI', '../'],
    ['app.py', 'must be an absolute URI', 'a bare name'],
    [`hdfs:sparkgate/tenants/acme/x`, 'must be an absolute URI', 'hdfs: with a relative path'],
    ['jar:file:/opt/sparkgate/jobs/a.jar!/x', 'must be an absolute URI', 'jar:'],
    ['', 'must not be empty', 'empty'],
    // local files
    ['file:///etc/passwd', LOCAL, 'file:///etc/passwd'],
    ['file:/etc/passwd', LOCAL, 'file:/etc/passwd'],
    ['FILE:///etc/passwd', LOCAL, 'uppercase FILE'],
    ['file:///opt/sparkgate/jobsX/a.py', LOCAL, 'a sibling of the local folder'],
    ['file:///opt/sparkgate', LOCAL, 'the parent of the local folder'],
    ['file:///opt/sparkgate/jobs/../../../etc/passwd', DOTS, '.. out of the local folder'],
    ['file:///opt/sparkgate/jobs/%2e%2e/x', DOTS, 'encoded .. out of the local folder'],
    ['file://otherhost/opt/sparkgate/jobs/a.py', 'names another host', 'file://otherhost'],
    ['file:opt/sparkgate/jobs/a.py', 'must be an absolute URI', 'file: relative'],
    ['file:////opt/sparkgate/jobs/a.py', 'must not contain empty path segments', 'file:////'],
    ['file://', 'must name a path', 'file:// alone'],
    ['local:/etc/passwd', LOCAL, 'local: outside'],
    ['local://host/opt/sparkgate/jobs/x.jar', 'names another host', 'local://host'],
    // prefixes
    ['s3a://other-bucket/data/x', NOT_ALLOWED, 's3a, another bucket'],
    ['s3a://bucket/datax/y', NOT_ALLOWED, 's3a, past the prefix boundary'],
    ['s3a://bucket/data/../secret', DOTS, 's3a, .. after the prefix'],
    ['s3a://bucket/data/x?y', "must not contain '?'", 's3a, a query'],
    ['s3://bucket/data/x', NOT_ALLOWED, 's3 is not s3a'],
    ['abfss://c@acct.dfs.core.windows.net/teamX/y', NOT_ALLOWED, 'abfss past the boundary'],
    ['abfss://c@acct.dfs.core.windows.net/team#x', NOT_ALLOWED, 'a fragment on the prefix'],
    ['abfss://c@acct.dfs.core.windows.net.evil.com/team/x', NOT_ALLOWED, 'a longer host'],
    ['abfss://d@acct.dfs.core.windows.net/team/x', NOT_ALLOWED, 'another container'],
    ['https://repo.example.com/jarsX/a.jar', NOT_ALLOWED, 'https past the boundary'],
    ['https://repo.example.com.evil.com/jars/a.jar', NOT_ALLOWED, 'https, a longer host'],
    ['http://repo.example.com/jars/a.jar', NOT_ALLOWED, 'http is not https'],
    ['https://repo.example.com:8443/jars/a.jar', NOT_ALLOWED, 'https, another port'],
    ['https://user@repo.example.com/jars/a.jar', NOT_ALLOWED, 'https, user info'],
    ['https://repo.example.com/jars/../admin', DOTS, 'https, .. after the prefix'],
    ['https://repo.example.com/jars/%2e%2e/admin', DOTS, 'https, encoded ..'],
    ['https://evil.com/x', NOT_ALLOWED, 'another site'],
    ['gs://bucket/x', NOT_ALLOWED, 'gs without a prefix'],
    ['s3a:/data/x', NOT_ALLOWED, 's3a without a bucket'],
    // dataset references
    ['dataset://abc', 'is not a dataset reference', 'a short id'],
    [`dataset://${HEX.toUpperCase()}`, 'is not a dataset reference', 'uppercase hex'],
    [`DATASET://${HEX}`, 'is not a dataset reference', 'uppercase scheme'],
    [`dataset://${HEX}/x`, 'is not a dataset reference', 'a path after the id'],
    [`dataset://${HEX}#x`, 'is not a dataset reference', 'a fragment after the id'],
  ]
  for (const [value, expected, why] of refused) {
    const problem = uriProblem(value, area, policy())
    t.ok(problem?.startsWith(expected), `${why}: ${JSON.stringify(value)} → ${problem}`)
  }
})

t.test('messages say what is allowed, and never echo the value', async (t) => {
  t.equal(
    uriProblem('/sparkgate/tenants/other/x', area, policy({ uriPrefixes: [] })),
    `is not allowed: a job may name its own area ${AREA}/, dataset:// references, and the prefixes its admin allowed (none)`,
  )
  t.equal(
    uriProblem('s3a://b/k', area, policy()),
    `is not allowed: a job may name its own area ${AREA}/, dataset:// references, and the prefixes its admin allowed (${FS}/shared/, abfss://c@acct.dfs.core.windows.net/team, https://repo.example.com/jars/, S3A://Bucket/data/)`,
  )
  const many = Array.from({ length: 8 }, (_, i) => `s3a://b${i}/`)
  t.match(
    uriProblem('s3a://b/k', area, policy({ uriPrefixes: many })),
    /s3a:\/\/b4\/ and 3 more\)$/,
  )
  t.equal(
    uriProblem('file:///etc/passwd', area, policy()),
    'is not allowed: file: and local: URIs must be under /opt/sparkgate/jobs/, /srv/spark/',
  )
  t.equal(
    uriProblem('file:///etc/passwd', area, policy({ localFolders: [] })),
    'is not allowed: no local folder is open to jobs for file: and local: URIs',
  )
  const secret = 's3a://bucket/path-with-a-secret-token'
  t.notMatch(uriProblem(secret, area, policy()), 'secret-token')
})

t.test('misconfiguration fails closed', async (t) => {
  for (const root of ['', '/', 'relative', '/a/../b', '/a//b']) {
    const a = { defaultFs: FS, root }
    t.ok(uriProblem(`${FS}/x`, a, policy({ uriPrefixes: [] })), `root ${JSON.stringify(root)}`)
    t.ok(uriProblem(`${FS}/a/b/x`, a, policy({ uriPrefixes: [] })), `root ${JSON.stringify(root)}`)
    t.match(uriProblem('/x', a, policy()), 'its own area (not configured)')
  }
  const noFs = { defaultFs: 'not a uri', root: ROOT }
  t.ok(uriProblem(`${ROOT}/x`, noFs, policy()), 'an unparsable defaultFs: bare paths refused')
  t.ok(uriProblem(`${AREA}/x`, noFs, policy()), 'and full URIs of the area too')
  for (const folder of ['', '/', 'opt/jobs', '/opt/../etc', '/opt//jobs'])
    t.ok(
      uriProblem('file:///opt/jobs/a.py', area, policy({ localFolders: [folder] })),
      `local folder ${JSON.stringify(folder)} opens nothing`,
    )
  t.ok(
    uriProblem('file:///opt/jobs/a.py', area, policy({ uriPrefixes: ['file:///opt/'] })),
    'a file: prefix does not open local files (local folders do)',
  )
  t.ok(
    uriProblem('dataset://x', area, policy({ uriPrefixes: ['dataset://'] })),
    'a dataset: prefix opens nothing',
  )
  t.ok(uriProblem('s3a://b/k', area, policy({ uriPrefixes: ['not a uri'] })), 'a bad prefix')
  t.equal(
    uriProblem('s3a://b/k', area, policy({ uriPrefixes: ['file:///opt/', 'local:/', 's3a://b/'] })),
    undefined,
    'file: and local: prefixes are skipped, the others still count',
  )
  t.ok(uriProblem('/x', { defaultFs: `${FS}?x`, root: ROOT }, policy()), 'a defaultFs with a query')
  t.ok(uriProblem('/x', { defaultFs: `${FS}/a`, root: ROOT }, policy()), 'a defaultFs with a path')
})

t.test('another default FS: host case-insensitive, file:/// as the default FS', async (t) => {
  const named = { defaultFs: 'hdfs://NameNode:8020/', root: '/tenants/acme/' }
  t.equal(uriProblem('hdfs://namenode:8020/tenants/acme/x', named, policy()), undefined)
  t.equal(uriProblem('/tenants/acme/x', named, policy()), undefined)
  t.ok(uriProblem('/tenants/acme2/x', named, policy()))

  const local = { defaultFs: 'file:///', root: '/tmp/sg/acme' }
  const p = policy({ localFolders: [] })
  t.equal(uriProblem('/tmp/sg/acme/x', local, p), undefined)
  t.equal(uriProblem('file:///tmp/sg/acme/x', local, p), undefined)
  t.ok(uriProblem('file:///etc/passwd', local, p))
  t.ok(uriProblem('/tmp/sg/other/x', local, p))
})

t.test('checkUris: every field checked, args only where they name a URI', async (t) => {
  const other = `${FS}/sparkgate/tenants/other`
  const fields: [string, string][] = [
    ['body.batch.file', `${AREA}/app.py`],
    ['body.batch.pyFiles.0', `${other}/lib.py`],
    ['body.batch.jars.0', 'https://repo.example.com/jars/a.jar'],
    ['body.batch.files.0', 'relative.txt'],
    ['body.batch.args.0', '--epochs=3'],
    ['body.batch.args.1', '--input=hdfs://other:8020/x'],
    ['body.batch.args.2', `${AREA}/in`],
    ['body.batch.args.3', `${other}/in`],
    ['body.batch.args.4', '/sparkgate/tenants/other/in'],
    ['body.batch.args.5', 'file:/etc/passwd'],
    ['body.batch.args.6', 'S3A://bucket/x'],
    ['body.batch.args.7', 'relative/path'],
    ['body.batch.args.8', 'key:value'],
    ['body.batch.args.9', `${AREA}/a,${other}/b`],
    ['body.batch.args.10', `--in=${AREA}/a,${AREA}/b`],
    ['body.batch.args.11', `--in=dataset://${HEX}`],
    ['body.batch.args.12', ' hdfs://evil/x'],
    ['body.batch.args.13', '--conf=spark.x=1'],
    ['body.batch.args.14', '--url=https://repo.example.com/jars/a.jar?x=1'],
    ['body.batch.args.15', 'jar:file:/etc/x.jar!/y'],
    ['body.batch.args.16', `input=${other}/x`],
    ['body.batch.args.17', `--in=${AREA}/%2e%2e/other/x`],
    ['body.batch.args.18', 'http://169.254.169.254/latest/meta-data/'],
    ['body.batch.args.19', 'a=b=hdfs://evil/x'],
    ['body.training.dataset.uri', `${AREA}/data.csv`],
    ['body.training.dataset.uri', 'relative'],
  ]
  const entries = checkUris(fields, area, policy())
  t.strictSame(
    entries.map((e) => e.field),
    [
      'body.batch.pyFiles.0',
      'body.batch.files.0',
      'body.batch.args.1',
      'body.batch.args.3',
      'body.batch.args.5',
      'body.batch.args.6',
      'body.batch.args.9',
      'body.batch.args.12',
      'body.batch.args.15',
      'body.batch.args.16',
      'body.batch.args.17',
      'body.batch.args.18',
      'body.training.dataset.uri',
    ],
  )
  for (const e of entries) {
    t.equal(e.rule, 'uri-policy')
    const value = fields.find(([f]) => f === e.field)![1]
    t.notMatch(e.message, value.trim(), `${e.field}: the message does not echo the value`)
  }
  t.match(
    entries.find((e) => e.field === 'body.batch.args.1')?.message,
    /^names a URI after '=' that is not allowed/,
  )
  t.match(
    entries.find((e) => e.field === 'body.batch.args.9')?.message,
    /^names a URI that is not allowed/,
  )
  t.match(entries.find((e) => e.field === 'body.batch.args.3')?.message, /^is not allowed/)
  t.strictSame(checkUris([], area, policy()), [])
  t.strictSame(
    checkUris([['body.batch.args', 'relative']], area, policy()),
    [
      {
        field: 'body.batch.args',
        rule: 'uri-policy',
        message: uriProblem('relative', area, policy()),
      },
    ],
    'a field without .args. is always checked',
  )
})

t.test('checkConf: allowed settings pass', async (t) => {
  const conf = {
    'spark.executor.memory': '4g',
    'spark.executor.cores': '4',
    'spark.executor.instances': '10',
    'spark.executor.memoryOverhead': '512m',
    'spark.driver.memory': '2G',
    'spark.driver.maxResultSize': '1000000',
    'spark.sql.shuffle.partitions': '200',
    'spark.sql.adaptive.enabled': 'TRUE',
    'spark.sql.session.timeZone': 'UTC',
    'spark.dynamicAllocation.enabled': 'false',
    'spark.dynamicAllocation.minExecutors': '0',
    'spark.dynamicAllocation.maxExecutors': '20',
    'spark.speculation': 'true',
    'spark.speculation.multiplier': '1.5',
    'spark.serializer': 'org.apache.spark.serializer.KryoSerializer',
    'spark.kryo.registrator': 'com.example.Registrator',
    'spark.kryoserializer.buffer.max': '512m',
    'spark.locality.wait': '3s',
    'spark.locality.wait.node': '0',
    'spark.shuffle.compress': 'true',
    'spark.memory.fraction': '0.6',
    'spark.python.worker.memory': '512m',
    'spark.network.timeout': '300s',
    'spark.default.parallelism': '100',
    'spark.task.maxFailures': '4',
  }
  t.strictSame(checkConf(conf, policy()), [])
  t.strictSame(checkConf({}, policy()), [])
})

t.test('checkConf: unknown and protected settings', async (t) => {
  const NOT_ALLOWED =
    "is not an allowed Spark setting; allowed: the server's list and the tenant's confAllow (see GET /v1/me policy)"
  const NAME = 'is not a Spark setting name (spark. followed by letters, digits, _ . -)'
  const PROTECTED = 'is a protected Spark setting; only a platform admin can allow it for a tenant'
  const QUEUE =
    "is set by the job's queue field (body.queue), checked against the tenant's yarnQueues; it cannot be set in conf"
  const cases: [string, string][] = [
    ['spark.foo.bar', NOT_ALLOWED],
    ['spark.scheduler.allocation.file', NOT_ALLOWED],
    ['spark.executor.resource.gpu.discoveryScript', NOT_ALLOWED],
    ['spark.ml.anything', NOT_ALLOWED],
    ['spark.app.name', PROTECTED],
    ['spark.master', PROTECTED],
    ['spark.submit.deployMode', PROTECTED],
    ['spark.driver.extraJavaOptions', PROTECTED],
    ['spark.executor.extraClassPath', PROTECTED],
    ['spark.sql.extensions', PROTECTED],
    ['spark.sql.catalog.mine', PROTECTED],
    ['spark.sql.catalog.mine.uri', PROTECTED],
    ['spark.sql.warehouse.dir', PROTECTED],
    ['spark.sql.hive.metastore.jars', PROTECTED],
    ['spark.sql.streaming.checkpointLocation', PROTECTED],
    ['spark.sql.queryExecutionListeners', PROTECTED],
    ['spark.hadoop.fs.defaultFS', PROTECTED],
    ['spark.hive.metastore.uris', PROTECTED],
    ['spark.jars', PROTECTED],
    ['spark.jars.packages', PROTECTED],
    ['spark.files', PROTECTED],
    ['spark.archives', PROTECTED],
    ['spark.yarn.queue', QUEUE],
    ['spark.YARN.Queue', QUEUE],
    ['spark.kubernetes.namespace', PROTECTED],
    ['spark.kerberos.keytab', PROTECTED],
    ['spark.executorEnv.PATH', PROTECTED],
    ['spark.yarn.appMasterEnv.PYSPARK_PYTHON', PROTECTED],
    ['spark.pyspark.python', PROTECTED],
    ['spark.pyspark.driver.python', PROTECTED],
    ['spark.sql.execution.pyspark.python', PROTECTED],
    ['spark.files.userClassPathFirst', PROTECTED],
    ['spark.eventLog.dir', PROTECTED],
    ['spark.plugins', PROTECTED],
    ['spark.extraListeners', PROTECTED],
    ['spark.authenticate', PROTECTED],
    ['spark.authenticate.secret', PROTECTED],
    ['spark.ssl.enabled', PROTECTED],
    ['spark.admin.acls', PROTECTED],
    ['spark.ui.filters', PROTECTED],
    ['spark.local.dir', PROTECTED],
    ['spark.metrics.conf.driver.sink.x.class', PROTECTED],
    ['spark.redaction.regex', PROTECTED],
    ['spark.SQL.Extensions', PROTECTED],
    ['spark.Driver.ExtraJavaOptions', PROTECTED],
    ['foo.bar', NAME],
    ['spark.a b', NAME],
    ['spark.metrics.conf.*.sink.x.class', NAME],
    ['__proto__', NAME],
  ]
  for (const [key, message] of cases) {
    const conf = JSON.parse(JSON.stringify({ [key]: 'x' })) as Record<string, string>
    t.strictSame(
      checkConf(conf, policy()),
      [{ field: `body.batch.conf.${key}`, rule: 'conf-policy', message }],
      key,
    )
  }
  t.strictSame(
    checkConf({ 'spark.sql.extensions': 'x' }, policy(), 'body.conf').map((e) => e.field),
    ['body.conf.spark.sql.extensions'],
    'the field prefix is the caller’s',
  )
  t.strictSame(
    checkConf({ 'spark.executor.memory': '4g', 'spark.foo': 'x', 'spark.jars': 'y' }, policy()).map(
      (e) => e.field,
    ),
    ['body.batch.conf.spark.foo', 'body.batch.conf.spark.jars'],
    'one entry per refused key, in order',
  )
})

t.test('checkConf: what a tenant’s confAllow opens, and what it cannot', async (t) => {
  const p = policy({
    confAllow: [
      'spark.hadoop.fs.s3a.endpoint',
      'spark.hadoop.*',
      'spark.sql.*',
      'spark.scheduler.allocation.file',
      'spark.executor.resource.*',
      'spark.kubernetes.*',
    ],
  })
  const ok = {
    'spark.hadoop.fs.s3a.endpoint': 'http://minio:9000',
    'spark.scheduler.allocation.file': 'hdfs://x/pools.xml',
    'spark.executor.resource.gpu.amount': '1',
  }
  t.strictSame(checkConf(ok, p), [], 'an exact protected key, an exact key, a wildcard')
  const refused = checkConf(
    {
      'spark.hadoop.fs.defaultFS': 'hdfs://evil:8020',
      'spark.sql.extensions': 'x',
      'spark.kubernetes.namespace': 'other',
      'spark.Hadoop.fs.s3a.endpoint': 'x',
    },
    p,
  )
  t.strictSame(
    refused.map((e) => [e.field, e.rule]),
    [
      ['body.batch.conf.spark.hadoop.fs.defaultFS', 'conf-policy'],
      ['body.batch.conf.spark.sql.extensions', 'conf-policy'],
      ['body.batch.conf.spark.kubernetes.namespace', 'conf-policy'],
      ['body.batch.conf.spark.Hadoop.fs.s3a.endpoint', 'conf-policy'],
    ],
    'a wildcard of confAllow opens no protected key; exact means exact case',
  )
  for (const e of refused) t.match(e.message, /^is a protected Spark setting/)
  t.strictSame(
    checkConf({ 'spark.foo': 'x' }, policy({ confAllow: ['spark.*'] })),
    [],
    'spark.* opens every unprotected key',
  )
  t.equal(
    checkConf({ 'spark.jars': 'x' }, policy({ confAllow: ['spark.*'] }))[0]?.rule,
    'conf-policy',
    'but no protected one',
  )
  t.strictSame(
    checkConf({ 'spark.hadoop.fs.s3a.endpoint': 'a\nb' }, p).map((e) => e.rule),
    ['conf-value'],
    'an exactly allowed protected key still follows the value rules',
  )
})

t.test('checkConf: value rules', async (t) => {
  const cases: [string, string, boolean][] = [
    ['spark.executor.memory', '64g', true],
    ['spark.executor.memory', '65536m', true],
    ['spark.executor.memory', '4gb', true],
    ['spark.executor.memory', '4G', true],
    ['spark.executor.memory', '1024', true],
    ['spark.executor.memory', '65g', false],
    ['spark.executor.memory', '65537m', false],
    ['spark.executor.memory', '100000', false],
    ['spark.executor.memory', '1t', false],
    ['spark.executor.memory', '0g', false],
    ['spark.executor.memory', '4 g', false],
    ['spark.executor.memory', '-1', false],
    ['spark.executor.memory', '4x', false],
    ['spark.executor.memory', '', false],
    ['spark.driver.memory', '128g', false],
    ['spark.driver.memoryOverhead', '100g', false],
    ['spark.driver.maxResultSize', '1000000', true],
    ['spark.driver.maxResultSize', '65g', false],
    ['spark.python.worker.memory', '512m', true],
    ['spark.python.worker.memory', '1t', false],
    ['spark.executor.cores', '64', true],
    ['spark.executor.cores', '1', true],
    ['spark.executor.cores', '0', false],
    ['spark.executor.cores', '65', false],
    ['spark.executor.cores', '1.5', false],
    ['spark.executor.cores', '08', false],
    ['spark.executor.cores', ' 4', false],
    ['spark.executor.instances', '1000', true],
    ['spark.executor.instances', '1001', false],
    ['spark.dynamicAllocation.minExecutors', '0', true],
    ['spark.dynamicAllocation.maxExecutors', '0', false],
    ['spark.sql.shuffle.partitions', '100000', true],
    ['spark.sql.shuffle.partitions', '100001', false],
    ['spark.default.parallelism', '99999999999', false],
    ['spark.task.maxFailures', '101', false],
    ['spark.dynamicAllocation.enabled', 'true', true],
    ['spark.dynamicAllocation.enabled', 'False', true],
    ['spark.dynamicAllocation.enabled', 'yes', false],
    ['spark.dynamicAllocation.enabled', '1', false],
    ['spark.speculation', 'on', false],
    ['spark.rdd.compress', 'true ', false],
    ['spark.sql.session.timeZone', 'a\nb', false],
    ['spark.sql.session.timeZone', 'a\rb', false],
    ['spark.sql.session.timeZone', 'a\u0000b', false],
    ['spark.sql.session.timeZone', 'a\u2028b', false],
    ['spark.sql.session.timeZone', 'x'.repeat(1024), true],
    ['spark.sql.session.timeZone', 'x'.repeat(1025), false],
  ]
  for (const [key, value, ok] of cases) {
    const entries = checkConf({ [key]: value }, policy())
    const shown = JSON.stringify(value.slice(0, 40)).replace(/\u2028/g, '\\u2028')
    if (ok) t.strictSame(entries, [], `${key}=${shown} passes`)
    else
      t.strictSame(
        entries.map((e) => [e.field, e.rule]),
        [[`body.batch.conf.${key}`, 'conf-value']],
        `${key}=${shown} is refused`,
      )
  }
  t.strictSame(checkConf({ 'spark.executor.memory': '65g' }, policy()), [
    {
      field: 'body.batch.conf.spark.executor.memory',
      rule: 'conf-value',
      message: 'must be a size such as 512m or 4g (k, m, g, t; no unit means MiB), at most 64g',
    },
  ])
  t.strictSame(
    checkConf({ 'spark.executor.cores': '65' }, policy())[0]?.message,
    'must be an integer from 1 to 64',
  )
  t.strictSame(
    checkConf({ 'spark.speculation': 'on' }, policy())[0]?.message,
    'must be true or false',
  )
  t.match(
    checkConf({ 'spark.sql.x': 'a\nb' }, policy())[0]?.message,
    /^must be at most 1024 characters, without newlines/,
  )
  t.strictSame(
    checkConf({ 'spark.sql.x': 3 as unknown as string }, policy())[0]?.message,
    'must be a string',
    'a value that is no string (the schema lets none through)',
  )
  t.strictSame(
    checkConf({ 'spark.jars': 'a\nb' }, policy()).map((e) => e.rule),
    ['conf-policy'],
    'a refused key is not checked for its value: one entry per key',
  )
})

t.test('the lists agree with each other', async (t) => {
  const covered = (entry: string, key: string) =>
    entry.endsWith('*') ? key.startsWith(entry.slice(0, -1)) : key === entry
  for (const key of Object.keys(CONF_VALUE_RULES)) {
    t.ok(
      CONF_ALLOWED.some((a) => covered(a, key)),
      `${key} has a value rule and is allowed`,
    )
    t.notOk(
      CONF_PROTECTED.some((p) => covered(p, key)),
      `${key} has a value rule and is not protected`,
    )
  }
  for (const key of CONF_ALLOWED.filter((k) => !k.endsWith('*')))
    t.notOk(
      CONF_PROTECTED.some((p) => covered(p, key)),
      `${key} is allowed exactly and not protected`,
    )
  for (const entry of CONF_PROTECTED) {
    const key = entry.endsWith('*') ? `${entry.slice(0, -1)}x` : entry
    t.equal(checkConf({ [key]: 'x' }, policy())[0]?.rule, 'conf-policy', `${key} is refused`)
    t.strictSame(
      checkConf({ [key]: 'x' }, policy({ confAllow: [key] })),
      [],
      `${key} is allowed when named exactly`,
    )
  }
})

t.test('secret keys and redaction', async (t) => {
  const secret = [
    'spark.hadoop.fs.s3a.secret.key',
    'spark.hadoop.fs.s3a.access.key',
    'spark.hadoop.fs.s3a.bucket.b.access.key',
    'spark.hadoop.fs.s3a.session.token',
    'spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net',
    'spark.hadoop.fs.azure.sas.fixed.token.acct',
    'spark.hadoop.fs.azure.account.oauth2.client.secret',
    'spark.hadoop.javax.jdo.option.ConnectionPassword',
    'spark.ssl.keyStorePassword',
    'spark.authenticate.secret',
    'spark.kubernetes.authenticate.submission.oauthToken',
    'spark.hadoop.hadoop.security.credential.provider.path',
    'spark.kafka.sasl.jaas.config',
    'SPARK.HADOOP.X.PASSWORD',
    'spark.my.sas',
    'spark.redis.auth',
  ]
  const plain = [
    'spark.executor.memory',
    'spark.sql.shuffle.partitions',
    'spark.sql.autoBroadcastJoinThreshold',
    'spark.sql.sources.partitionOverwriteMode',
    'spark.kryo.registrator',
    'spark.kryo.classesToRegister',
    'spark.kryoserializer.buffer.max',
    'spark.io.encryption.keySizeBits',
    'spark.network.sasl.serverAlwaysEncrypt',
    'spark.authenticate',
    'spark.dynamicAllocation.enabled',
    'spark.keystore.type',
  ]
  for (const key of secret) t.ok(isSecretKey(key, DEFAULT_SECRET_PATTERNS), `${key} is secret`)
  for (const key of plain) t.notOk(isSecretKey(key, DEFAULT_SECRET_PATTERNS), `${key} is not`)
  t.notOk(isSecretKey('spark.x.password', []), 'no patterns, no secrets')
  t.ok(isSecretKey('spark.my.thing', ['spark.my.*']))
  t.ok(isSecretKey('SPARK.MY.THING', ['spark.my.*']), 'case-insensitive')
  t.notOk(isSecretKey('spark.my.thing.x', ['spark.my.thing']), 'the whole key')
  t.notOk(isSecretKey('spark.aab', ['spark.a+b']), 'regex characters are literal')
  t.notOk(isSecretKey('spark.ab', ['spark.a?b']), '? is no wildcard')
  t.notOk(isSecretKey('spark.myXthing', ['spark.my.thing']), '. is literal')

  const conf = JSON.parse(
    '{"spark.executor.memory":"4g","spark.hadoop.fs.s3a.secret.key":"s3cr3t","__proto__":"p","spark.x.token":"t"}',
  ) as Record<string, string>
  const redacted = redactConf(conf, DEFAULT_SECRET_PATTERNS)
  t.strictSame(Object.keys(redacted), Object.keys(conf), 'same keys, same order')
  t.strictSame(Object.entries(redacted), [
    ['spark.executor.memory', '4g'],
    ['spark.hadoop.fs.s3a.secret.key', '***'],
    ['__proto__', 'p'],
    ['spark.x.token', '***'],
  ])
  t.equal(conf['spark.hadoop.fs.s3a.secret.key'], 's3cr3t', 'the original is untouched')
  t.equal(Object.getPrototypeOf(redacted), Object.prototype, 'a __proto__ key stays a key')
})
