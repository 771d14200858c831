/**
 * The stack's TLS reverse proxy (docker/local/services/proxy.sh), as a cluster's gateway
 * serves Livy and WebHDFS (HDInsight's, Knox): Basic auth on every path, the stack's own CA,
 * /livy/… to Livy, /webhdfs/v1/… to the NameNode, and the NameNode's redirects to a DataNode
 * rewritten to go through the proxy too (/datanode/PORT/webhdfs/v1/…). Found through
 * `stack.sh status --json`, against the running stack; its own HDFS folder, removed at the end.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:https'
import { dirname, isAbsolute } from 'node:path'
import { Readable } from 'node:stream'
import { stackPort } from '../../bench/ports.js'
import { testConfig } from '../helpers/stack.js'

const STACK = 'docker/local/stack.sh'

interface ProxyStatus {
  url: string
  caFile: string
  user: string
  passwordFile: string
  up: boolean
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout })
    })
  })
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** One HTTPS request; the body streamed when it is a Readable. Rejects on a TLS failure. */
function call(
  method: string,
  url: string,
  options: {
    ca?: Buffer
    auth?: string
    body?: Buffer | Readable
    headers?: Record<string, string>
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.auth)
      headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`
    const req = request(
      url,
      { method, headers, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        )
        res.on('error', reject)
      },
    )
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${url}: timed out`)))
    req.on('error', reject)
    if (options.body instanceof Readable) options.body.pipe(req)
    else req.end(options.body)
  })
}

const status = JSON.parse((await run('bash', [STACK, 'status', '--json'])).stdout) as {
  proxy: ProxyStatus
  stateDir: string
}
const proxy = status.proxy
const ca = await readFile(proxy.caFile)
const password = (await readFile(proxy.passwordFile, 'utf8')).trim()
const auth = `${proxy.user}:${password}`
const user = testConfig().SPARKGATE_HDFS_USER

t.test(
  'status --json names the proxy, its CA and its password file, never the password',
  async (t) => {
    t.match(proxy, {
      url: `https://127.0.0.1:${stackPort('PROXY_PORT')}`,
      user: 'sparkgate',
      up: true,
    })
    t.ok(isAbsolute(proxy.caFile) && proxy.caFile.endsWith('/tls/ca.pem'), proxy.caFile)
    t.ok(isAbsolute(proxy.passwordFile), proxy.passwordFile)
    t.equal((await stat(proxy.passwordFile)).mode & 0o777, 0o600, 'the password file is 0600')
    t.equal((await stat(dirname(proxy.passwordFile))).mode & 0o777, 0o700, 'its folder is 0700')
    t.ok(password.length >= 16, 'a long random password')
    const text = await run('bash', [STACK, 'status'])
    const json = await run('bash', [STACK, 'status', '--json'])
    t.match(text.stdout, /^proxy +true +https:\/\/127\.0\.0\.1:8443/m, 'a line of the text status')
    t.notOk(text.stdout.includes(password) || json.stdout.includes(password), 'never printed')
  },
)

t.test('without credentials, or with a wrong password: 401 and a Basic challenge', async (t) => {
  for (const path of ['/livy/batches', `/webhdfs/v1/?op=GETFILESTATUS&user.name=${user}`]) {
    for (const [what, credentials] of [
      ['no credentials', undefined],
      ['a wrong password', `${proxy.user}:not-the-password`],
      ['another user', `admin:${password}`],
    ] as const) {
      const r = await call('GET', `${proxy.url}${path}`, {
        ca,
        ...(credentials ? { auth: credentials } : {}),
      })
      t.equal(r.status, 401, `${path}, ${what}: 401`)
      t.match(String(r.headers['www-authenticate']), /^Basic realm="[^"]+"$/, 'a Basic challenge')
    }
  }
})

t.test('Livy through the proxy: GET /livy/batches is Livy’s JSON', async (t) => {
  const r = await call('GET', `${proxy.url}/livy/batches?size=1`, {
    ca,
    auth,
    headers: { 'x-requested-by': 'sparkgate-test' },
  })
  t.equal(r.status, 200)
  t.match(String(r.headers['content-type']), /application\/json/)
  const body = JSON.parse(r.body.toString()) as { from: number; sessions: unknown[] }
  t.equal(body.from, 0)
  t.ok(Array.isArray(body.sessions), 'a batch listing')
})

t.test('WebHDFS through the proxy: mkdirs, a two-step create, open, delete', async (t) => {
  const dir = `/tmp/sparkgate-test-proxy-${randomUUID().slice(0, 8)}`
  const namenode = `http://127.0.0.1:${stackPort('HDFS_NAMENODE_HTTP_PORT')}/webhdfs/v1`
  // removed on the NameNode itself, whatever became of the proxy
  t.teardown(() =>
    fetch(`${namenode}${dir}?op=DELETE&recursive=true&user.name=${user}`, {
      method: 'DELETE',
    }).catch(() => undefined),
  )
  const web = (path: string, query: string) =>
    `${proxy.url}/webhdfs/v1${dir}${path}?${query}&user.name=${user}`

  const mkdirs = await call('PUT', web('/a', 'op=MKDIRS'), { ca, auth })
  t.equal(mkdirs.status, 200)
  t.same(JSON.parse(mkdirs.body.toString()), { boolean: true }, 'MKDIRS')

  // 2 MiB in 64 KiB chunks (chunked transfer encoding), a name that needs escaping
  const bytes = randomBytes(2 * 1024 * 1024)
  const chunks = Array.from({ length: bytes.length / 65536 }, (_, i) =>
    bytes.subarray(i * 65536, (i + 1) * 65536),
  )
  const file = '/a/blob%20one.bin'
  const step1 = await call('PUT', web(file, 'op=CREATE&overwrite=false'), { ca, auth })
  t.equal(step1.status, 307, 'CREATE: the NameNode redirects')
  const location = new URL(String(step1.headers['location']))
  t.equal(location.origin, proxy.url, `to the proxy (${location.href})`)
  t.match(location.pathname, new RegExp(`^/datanode/\\d+/webhdfs/v1${dir}/a/blob%20one\\.bin$`))
  t.equal(location.searchParams.get('op'), 'CREATE', 'the query string kept')
  t.equal(location.searchParams.get('user.name'), user)
  t.match(location.searchParams.get('namenoderpcaddress'), /^127\.0\.0\.1:\d+$/)

  const anonymous = await call('PUT', location.href, { ca, body: Buffer.from('x') })
  t.equal(anonymous.status, 401, 'the DataNode hop wants the credentials too')
  const step2 = await call('PUT', location.href, { ca, auth, body: Readable.from(chunks) })
  t.equal(step2.status, 201, 'CREATE: the DataNode stored the bytes, through the proxy')

  const fileStatus = await call('GET', web(file, 'op=GETFILESTATUS'), { ca, auth })
  t.match(JSON.parse(fileStatus.body.toString()), {
    FileStatus: { type: 'FILE', length: bytes.length },
  })

  const open = await call('GET', web(file, 'op=OPEN'), { ca, auth })
  t.equal(open.status, 307, 'OPEN: the NameNode redirects')
  const openAt = new URL(String(open.headers['location']))
  t.equal(openAt.origin, proxy.url, 'to the proxy')
  const read = await call('GET', openAt.href, { ca, auth })
  t.equal(read.status, 200)
  t.ok(read.body.equals(bytes), 'OPEN reads the same bytes back')
  const slice = await call('GET', web(file, 'op=OPEN&offset=1000&length=5000'), { ca, auth })
  const sliceRead = await call('GET', String(slice.headers['location']), { ca, auth })
  t.ok(sliceRead.body.equals(bytes.subarray(1000, 6000)), 'offset and length kept')

  const del = await call('DELETE', web('', 'op=DELETE&recursive=true'), { ca, auth })
  t.same(JSON.parse(del.body.toString()), { boolean: true }, 'DELETE')
  const gone = await call('GET', web(file, 'op=GETFILESTATUS'), { ca, auth })
  t.equal(gone.status, 404, 'gone')
})

t.test('the DataNode route reaches only /webhdfs/v1 paths', async (t) => {
  const jmx = await call(
    'GET',
    `${proxy.url}/datanode/${stackPort('HDFS_NAMENODE_HTTP_PORT')}/jmx`,
    {
      ca,
      auth,
    },
  )
  t.equal(jmx.status, 404, 'not the NameNode’s /jmx')
  const climb = await call('GET', `${proxy.url}/datanode/1/webhdfs/v1/%2e%2e/%2e%2e/%2e%2e/jmx`, {
    ca,
    auth,
  })
  t.equal(climb.status, 404, 'no climbing out of /webhdfs/v1')
})

t.test('without the stack’s CA the TLS handshake fails', async (t) => {
  const error = (await call('GET', `${proxy.url}/livy/batches`, { auth }).catch(
    (e: unknown) => e,
  )) as {
    code?: string
  }
  t.match(error.code, /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/)
  const curl = await run('curl', ['-s', '-o', '/dev/null', `${proxy.url}/`])
  t.equal(curl.code, 60, 'curl: exit 60 (the peer certificate cannot be verified)')
  const tls12 = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '--cacert',
    proxy.caFile,
    '--tls-max',
    '1.2',
    `${proxy.url}/`,
  ])
  t.equal(tls12.code, 0, 'with it, TLS 1.2 (and 1.3) answer')
})
