/**
 * Cluster credentials (src/cluster-auth): auth settings and entries checked at boot with
 * errors that name the setting and the file or variable but never a secret; a password
 * that never prints; Basic credentials sent to the endpoint's origin only; a 401 that is
 * transient and names no secret; a secured local stack's defaults beneath the environment.
 * The HTTP endpoints here are small servers of the test's own (no cluster needed); the
 * real gateway, nginx and KDC are exercised by test/stack/proxy.test.ts and test/secure/.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { mkdtemp, mkdir, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rootCertificates } from 'node:tls'
import { inspect } from 'node:util'
import axios from 'axios'
import t, { type Test } from 'tap'
import { BackendConfigError } from '../../src/backends/backend-kind.js'
import { createBackends } from '../../src/backends/create-backends.js'
import type { LivyBackend } from '../../src/backends/livy/livy-backend.js'
import { LivyClient, LivyError } from '../../src/backends/livy/livy-client.js'
import { authenticate, httpsAgent } from '../../src/cluster-auth/http-auth.js'
import { CredentialError, resolveAuth, Secret } from '../../src/cluster-auth/credentials.js'
import { authSettingProblems, secureStackDefaults } from '../../src/cluster-auth/settings.js'
import { ConfigError, configWith, loadConfig } from '../../src/config.js'
import { WebHdfsClient, WebHdfsError } from '../../src/storage/webhdfs-client.js'
import { webHdfsFromConfig } from '../../src/plugins/hdfs.js'

// the defaults, whatever the developer's stack runs: a secured local stack would supply its
// own (run/secure.json); this test's stack folder has none
process.env['STACK_DIR'] = mkdtempSync(join(tmpdir(), 'sparkgate-no-stack-'))

const PASSWORD = 'pw-' + Math.random().toString(36).slice(2) + '-never-shown'

async function scratch() {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-auth-'))
  const passwordFile = join(dir, 'password')
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
  const keytab = join(dir, 'gw.keytab')
  await writeFile(keytab, Buffer.from([5, 2]), { mode: 0o600 })
  return { dir, passwordFile, keytab }
}

function thrownBy(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('did not throw')
}

/** A server that answers `status` and records each request's Authorization header. */
async function recorder(t: Test, status = 200) {
  const seen: { url: string; authorization: string | undefined }[] = []
  const server: Server = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization })
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(status === 401 ? { 'www-authenticate': 'Basic realm="cluster"' } : {}),
    })
    res.end(
      status === 401
        ? '<html>401 Authorization Required</html>'
        : '{"from":0,"total":0,"sessions":[]}',
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, seen }
}

t.test('a password never prints: JSON, inspect, string', async (t) => {
  const secret = new Secret(PASSWORD)
  const shown = [JSON.stringify({ secret }), inspect({ secret }), String(secret), secret.toString()]
  for (const text of shown) t.notMatch(text, PASSWORD)
  t.equal(secret.reveal(), PASSWORD)
})

t.test('resolveAuth: basic from a file or a variable; kerberos with the defaults', async (t) => {
  const { passwordFile, keytab, dir } = await scratch()
  const basic = resolveAuth({ type: 'basic', user: 'admin', passwordFile }, 'X.auth', {})
  t.equal(basic.type, 'basic')
  t.equal(basic.type === 'basic' && basic.password.reveal(), PASSWORD, 'trailing newline trimmed')
  t.notMatch(JSON.stringify(basic), PASSWORD)
  const fromEnv = resolveAuth(
    { type: 'basic', user: 'admin', passwordEnv: 'HDI_PW' },
    'X',
    {},
    {
      HDI_PW: PASSWORD,
    },
  )
  t.equal(fromEnv.type === 'basic' && fromEnv.password.reveal(), PASSWORD)
  t.strictSame(resolveAuth({ type: 'kerberos' }, 'X', { principal: 'gw@R', keytab }), {
    type: 'kerberos',
    principal: 'gw@R',
    keytab,
  })
  t.strictSame(resolveAuth(undefined, 'X', {}), { type: 'none' })

  // each problem names the setting and the file or variable; none shows a secret
  const problems = [
    thrownBy(() =>
      resolveAuth(
        { type: 'basic', user: 'a', passwordFile: join(dir, 'nope') },
        'SPARKGATE_HDFS_AUTH',
        {},
      ),
    ),
    thrownBy(() =>
      resolveAuth({ type: 'basic', user: 'a', passwordEnv: 'UNSET_PW_VAR' }, 'X.auth', {}, {}),
    ),
    thrownBy(() => resolveAuth({ type: 'basic', user: 'a' }, 'X.auth', {})),
    thrownBy(() => resolveAuth({ type: 'kerberos' }, 'X.auth', { principal: 'gw@R' })),
    thrownBy(() =>
      resolveAuth({ type: 'kerberos', keytab: join(dir, 'missing.keytab') }, 'X.auth', {
        principal: 'gw@R',
      }),
    ),
  ]
  for (const p of problems) t.type(p, CredentialError)
  t.match(
    problems[0]!.message,
    `SPARKGATE_HDFS_AUTH.passwordFile: ${join(dir, 'nope')} does not exist`,
  )
  t.match(
    problems[1]!.message,
    'X.auth.passwordEnv: the environment variable UNSET_PW_VAR is not set',
  )
  t.match(problems[2]!.message, 'one of passwordFile or passwordEnv')
  t.match(problems[3]!.message, 'X.auth.keytab: no keytab')
  t.match(problems[4]!.message, `X.auth.keytab: ${join(dir, 'missing.keytab')} does not exist`)
  const empty = join(dir, 'empty')
  await writeFile(empty, '')
  t.match(
    thrownBy(() => resolveAuth({ type: 'basic', user: 'a', passwordFile: empty }, 'X', {})).message,
    'is empty',
  )
  if (process.getuid?.() !== 0) {
    await chmod(passwordFile, 0o000)
    t.match(
      thrownBy(() => resolveAuth({ type: 'basic', user: 'a', passwordFile }, 'X', {})).message,
      'is not readable',
    )
  }
  t.match(
    thrownBy(() => resolveAuth({ type: 'kerberos', keytab: dir }, 'X', { principal: 'a@R' }))
      .message,
    'is not a file',
  )
})

t.test('auth settings: none or a JSON auth object, each problem named', async (t) => {
  t.strictSame(authSettingProblems('SPARKGATE_HDFS_AUTH', 'none'), [])
  t.strictSame(authSettingProblems('SPARKGATE_HDFS_AUTH', '{"type":"kerberos"}'), [])
  t.match(authSettingProblems('SPARKGATE_HDFS_AUTH', 'basic'), [
    /^SPARKGATE_HDFS_AUTH: none or a JSON auth object/,
  ])
  t.strictSame(authSettingProblems('SPARKGATE_LIVY_AUTH', '{"type":"ntlm"}'), [
    'SPARKGATE_LIVY_AUTH.type: must be none, basic or kerberos',
  ])
  t.match(authSettingProblems('SPARKGATE_LIVY_AUTH', '{"type":"basic","passwordFile":"/x"}'), [
    /^SPARKGATE_LIVY_AUTH: .*user/,
  ])
  t.match(
    authSettingProblems('SPARKGATE_LIVY_AUTH', '{"type":"basic","user":"a","password":"inline"}'),
    [/SPARKGATE_LIVY_AUTH.*password/],
  )
  let error: unknown
  try {
    loadConfig({ SPARKGATE_HDFS_AUTH: '{"type":"basic"}' })
  } catch (e) {
    error = e
  }
  t.type(error, ConfigError)
  t.match((error as ConfigError).problems.join('\n'), /SPARKGATE_HDFS_AUTH/)
})

t.test(
  'a livy entry with credentials: checked at boot, the type shown, never the secret',
  async (t) => {
    const { passwordFile, dir } = await scratch()
    const entry = (auth: object, extra: object = {}) =>
      JSON.stringify([
        { name: 'hdi', kind: 'livy', url: 'https://gw.example:443/livy', auth, ...extra },
      ])
    const backends = createBackends(
      entry({ type: 'basic', user: 'admin', passwordFile }),
      'hdi',
      configWith({}),
    )
    const livy = backends.byName.get('hdi')!.backend as LivyBackend
    t.equal(livy.auth, 'basic')
    t.notMatch(inspect(livy, { depth: 6 }), PASSWORD)
    t.notMatch(JSON.stringify(livy.client.options), PASSWORD)

    const missing = thrownBy(() =>
      createBackends(
        entry({ type: 'basic', user: 'admin', passwordFile: join(dir, 'gone') }),
        'hdi',
        configWith({}),
      ),
    )
    t.type(missing, BackendConfigError)
    t.match(
      missing.message,
      `livy backend hdi: auth.passwordFile: ${join(dir, 'gone')} does not exist`,
    )
    const badCa = thrownBy(() =>
      createBackends(
        entry({ type: 'none' }, { caFile: join(dir, 'ca.pem') }),
        'hdi',
        configWith({}),
      ),
    )
    t.match(badCa.message, `livy backend hdi: caFile: ${join(dir, 'ca.pem')} does not exist`)
    // the auto livy from SPARKGATE_LIVY_AUTH
    const auto = createBackends(
      'auto',
      'livy',
      configWith({
        SPARKGATE_LIVY_AUTH: JSON.stringify({ type: 'basic', user: 'u', passwordFile }),
      }),
    )
    t.equal(auto.byName.get('livy')!.backend.auth, 'basic')
    t.equal(createBackends('auto', 'livy', configWith({})).byName.get('livy')!.backend.auth, 'none')
    // WebHDFS from the config: an unreadable password file names the variable
    const hdfsProblem = thrownBy(() =>
      webHdfsFromConfig(
        configWith({
          SPARKGATE_HDFS_AUTH: JSON.stringify({
            type: 'basic',
            user: 'u',
            passwordFile: join(dir, 'no'),
          }),
        }),
      ),
    )
    t.match(
      hdfsProblem.message,
      `SPARKGATE_HDFS_AUTH.passwordFile: ${join(dir, 'no')} does not exist`,
    )
  },
)

t.test('Basic credentials go to the endpoint’s origin only', async (t) => {
  const { passwordFile } = await scratch()
  const cluster = await recorder(t)
  const elsewhere = await recorder(t)
  const http = axios.create({ baseURL: cluster.url })
  authenticate(http, {
    url: `${cluster.url}/livy`,
    auth: resolveAuth({ type: 'basic', user: 'admin', passwordFile }, 'X', {}),
  })
  await http.get('/batches')
  await http.get(`${cluster.url}/webhdfs/v1/x?op=OPEN`)
  await http.get(`${elsewhere.url}/webhdfs/v1/x?op=OPEN`)
  const expected = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`
  t.strictSame(
    cluster.seen.map((s) => s.authorization),
    [expected, expected],
  )
  t.strictSame(
    elsewhere.seen.map((s) => s.authorization),
    [undefined],
    'another origin gets nothing',
  )
})

t.test('a 401 is transient, names the auth type and no secret', async (t) => {
  const { passwordFile } = await scratch()
  const gateway = await recorder(t, 401)
  const auth = resolveAuth({ type: 'basic', user: 'admin', passwordFile }, 'X', {})
  const client = new LivyClient({ url: `${gateway.url}/livy`, auth })
  const error = await client.list(0, 1).then(
    () => undefined,
    (e: unknown) => e as LivyError,
  )
  t.type(error, LivyError)
  t.equal(error?.kind, 'transient')
  t.match(error?.message, "Livy refused the gateway's credentials (HTTP 401; basic auth)")
  t.notMatch(error?.message, PASSWORD)

  const hdfs = new WebHdfsClient({ url: `${gateway.url}/webhdfs/v1`, user: 'sparkgate', auth })
  const hdfsError = await hdfs.getFileStatus('/').then(
    () => undefined,
    (e: unknown) => e as WebHdfsError,
  )
  t.type(hdfsError, WebHdfsError)
  t.equal(hdfsError?.kind, 'unavailable')
  t.ok(hdfsError?.transient)
  t.match(hdfsError?.message, "WebHDFS refused the gateway's credentials (HTTP 401; basic auth)")
})

t.test('WebHDFS query: user.name under simple/basic auth, doas under Kerberos', async (t) => {
  const { keytab } = await scratch()
  const simple = new WebHdfsClient({ url: 'http://nn:9870/webhdfs/v1', user: 'sparkgate' })
  t.match(simple.as('alice').url('/a', 'MKDIRS'), 'user.name=alice')
  const kerberos = new WebHdfsClient({
    url: 'https://nn:9871/webhdfs/v1',
    user: 'sparkgate',
    auth: { type: 'kerberos', principal: 'sparkgate@R', keytab },
  })
  t.notMatch(
    kerberos.url('/a', 'MKDIRS'),
    /user\.name|doas/,
    "the gateway's own calls: its principal",
  )
  t.match(kerberos.as('alice').url('/a', 'MKDIRS'), /doas=alice/)
  t.notMatch(kerberos.as('alice').url('/a', 'MKDIRS'), /user\.name/)
})

t.test('a secured local stack supplies what is unset, nothing more', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-stack-'))
  t.strictSame(secureStackDefaults({ STACK_DIR: dir }), {}, 'no secure.json: nothing')
  await mkdir(join(dir, 'run'))
  const { keytab } = await scratch()
  await writeFile(
    join(dir, 'run', 'secure.json'),
    JSON.stringify({
      realm: 'SPARKGATE.LOCAL',
      krb5Conf: join(dir, 'krb5.conf'),
      principal: 'sparkgate@SPARKGATE.LOCAL',
      keytab,
      webhdfsUrl: 'https://127.0.0.1:9871/webhdfs/v1',
      livyUrl: 'http://127.0.0.1:8998',
      caFile: join(dir, 'ca.pem'),
    }),
  )
  const config = loadConfig({ STACK_DIR: dir })
  t.equal(config.SPARKGATE_WEBHDFS_URL, 'https://127.0.0.1:9871/webhdfs/v1')
  t.equal(config.SPARKGATE_HDFS_AUTH, '{"type":"kerberos"}')
  t.equal(config.SPARKGATE_LIVY_AUTH, '{"type":"kerberos"}')
  t.equal(config.SPARKGATE_KERBEROS_PRINCIPAL, 'sparkgate@SPARKGATE.LOCAL')
  t.equal(config.SPARKGATE_KERBEROS_KEYTAB, keytab)
  t.equal(config.SPARKGATE_HDFS_CA_FILE, join(dir, 'ca.pem'))
  const mine = loadConfig({
    STACK_DIR: dir,
    SPARKGATE_WEBHDFS_URL: 'http://nn:9870/webhdfs/v1',
    SPARKGATE_HDFS_AUTH: 'none',
  })
  t.equal(mine.SPARKGATE_WEBHDFS_URL, 'http://nn:9870/webhdfs/v1', 'a variable set wins')
  t.equal(mine.SPARKGATE_HDFS_AUTH, 'none')
})

t.test('a caFile adds the private CA to the public ones', async (t) => {
  const { dir } = await scratch()
  const ca = join(dir, 'ca.pem')
  await writeFile(ca, rootCertificates[0]!)
  const agent = httpsAgent(ca)!
  const trusted = agent.options.ca as string[]
  t.equal(trusted.length, rootCertificates.length + 1)
  t.ok(trusted.includes(rootCertificates[5]!), 'the public CAs stay')
  t.equal(httpsAgent(undefined), undefined)
})
