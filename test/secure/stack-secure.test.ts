/**
 * The local stack's secure profile (`stack.sh up --secure`, GitHub issue 25): a KDC, HDFS
 * whose WebHDFS demands SPNEGO (over HTTPS, the stack's CA), Livy demanding SPNEGO, YARN
 * with Kerberos. Without a ticket WebHDFS and Livy answer 401; with the ready user's
 * (`kinit -kt analyst.keytab analyst`, into a private credentials cache) 200; `status
 * --json` and run/secure.json say where everything is. One batch goes the gateway's way:
 * sparkgate's ticket, a proxyUser, spark-submit with delegation tokens on secured YARN.
 *
 * Skipped (one plan-0 with the reason) unless $STACK_DIR/run/secure.json exists and the
 * last `up` was the secure profile's ($STACK_DIR/run/profile): phase 1
 * of `npm test` (the default profile) passes over it; phase 2 (`npm run test:secure`)
 * starts the secured stack and runs it.
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { randomUUID } from 'node:crypto'

const STACK = 'docker/local/stack.sh'

/** The state directory as stack.sh computes it: $STACK_DIR, stack.env's, or <repo>/.stack. */
function stateDir(): string {
  const env = readFileSync('docker/local/stack.env', 'utf8')
  const fromEnv = /^STACK_DIR=(.+)$/m.exec(env)?.[1]
  return resolve(process.env['STACK_DIR'] ?? fromEnv ?? '.stack')
}

interface SecureJson {
  realm: string
  krb5Conf: string
  principal: string
  keytab: string
  webhdfsUrl: string
  livyUrl: string
  caFile: string
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeout = 60_000,
): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        done({ code, stdout, stderr })
      },
    )
  })
}

const secureFile = join(stateDir(), 'run', 'secure.json')
const profile = (() => {
  try {
    return readFileSync(join(stateDir(), 'run', 'profile'), 'utf8').trim()
  } catch {
    return 'default'
  }
})()

if (!existsSync(secureFile) || profile !== 'secure') {
  t.plan(
    0,
    existsSync(secureFile)
      ? `the stack's profile is ${profile}, not secure (npm run test:secure runs it)`
      : `no ${secureFile}: the secure profile is not up (npm run test:secure runs it)`,
  )
} else {
  const secure = JSON.parse(readFileSync(secureFile, 'utf8')) as SecureJson

  /** A Kerberos client environment: the stack's krb5.conf, a credentials cache of our own. */
  async function ticket(
    t: Test,
    principal: string,
    keytab: string,
  ): Promise<Record<string, string>> {
    const dir = await mkdtemp(join(tmpdir(), 'sparkgate-krb5-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const env = { KRB5_CONFIG: secure.krb5Conf, KRB5CCNAME: `FILE:${join(dir, 'cc')}` }
    const kinit = await run('kinit', ['-kt', keytab, principal], env)
    t.equal(kinit.code, 0, `kinit -kt ${keytab} ${principal}`)
    return env
  }
  /** No ticket at all: an empty, private credentials cache. */
  async function noTicket(t: Test): Promise<Record<string, string>> {
    const dir = await mkdtemp(join(tmpdir(), 'sparkgate-krb5-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    return { KRB5_CONFIG: secure.krb5Conf, KRB5CCNAME: `FILE:${join(dir, 'none')}` }
  }
  /** curl's HTTP status and body; SPNEGO when asked, trusting the stack's CA. */
  async function curl(env: Record<string, string>, args: string[], negotiate = true) {
    const out = await run(
      'curl',
      [
        '-s',
        '-m',
        '30',
        '--cacert',
        secure.caFile,
        ...(negotiate ? ['--negotiate', '-u', ':'] : []),
        '-w',
        '\n%{http_code}',
        ...args,
      ],
      env,
    )
    const at = out.stdout.lastIndexOf('\n')
    return { status: Number(out.stdout.slice(at + 1)), body: out.stdout.slice(0, at) }
  }

  const status = async () =>
    JSON.parse((await run('bash', [STACK, 'status', '--json'])).stdout) as Record<
      string,
      Record<string, unknown>
    >

  t.test(
    'secure.json: what the gateway needs, absolute paths, secrets 0600 under 0700',
    async (t) => {
      t.same(Object.keys(secure).sort(), [
        'caFile',
        'keytab',
        'krb5Conf',
        'livyUrl',
        'principal',
        'realm',
        'webhdfsUrl',
      ])
      t.equal(secure.realm, 'SPARKGATE.LOCAL')
      t.equal(secure.principal, 'sparkgate@SPARKGATE.LOCAL')
      t.match(secure.webhdfsUrl, /^https:\/\/127\.0\.0\.1:\d+\/webhdfs\/v1$/)
      t.match(secure.livyUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      for (const key of ['krb5Conf', 'keytab', 'caFile'] as const) {
        t.ok(isAbsolute(secure[key]), `${key} is absolute`)
        t.ok(existsSync(secure[key]), `${key} exists`)
      }
      t.equal((await stat(secure.keytab)).mode & 0o777, 0o600, 'the keytab is 0600')
      t.equal((await stat(join(secure.keytab, '..'))).mode & 0o777, 0o700, 'its folder is 0700')
    },
  )

  t.test('stack.sh status --json: the KDC, and Kerberos on HDFS and Livy', async (t) => {
    const s = await status()
    t.equal(s['profile'], 'secure')
    t.match(s['kdc'], {
      up: true,
      realm: 'SPARKGATE.LOCAL',
      krb5Conf: secure.krb5Conf,
      principal: 'analyst@SPARKGATE.LOCAL',
      keytab: /\/secrets\/analyst\.keytab$/,
    })
    t.match(s['hdfs'], { up: true, auth: 'kerberos', webhdfsUrl: secure.webhdfsUrl })
    t.match(s['livy'], { up: true, auth: 'kerberos', url: secure.livyUrl })
    t.match(s['yarn'], { up: true })
    t.match(s['nodemanager'], { up: true })
  })

  t.test('without a ticket: 401 from WebHDFS and from Livy', async (t) => {
    const env = await noTicket(t)
    for (const negotiate of [false, true]) {
      const how = negotiate ? 'curl --negotiate, no ticket' : 'plain curl'
      t.equal(
        (await curl(env, [`${secure.webhdfsUrl}/?op=GETFILESTATUS`], negotiate)).status,
        401,
        `WebHDFS, ${how}`,
      )
      t.equal(
        (await curl(env, [`${secure.livyUrl}/batches`], negotiate)).status,
        401,
        `Livy, ${how}`,
      )
    }
    // the simple-auth way of the default profile is refused too
    t.equal(
      (await curl(env, [`${secure.webhdfsUrl}/?op=GETFILESTATUS&user.name=hdfs`], false)).status,
      401,
      'WebHDFS with user.name=hdfs',
    )
  })

  t.test("with analyst's ticket: 200 from WebHDFS and from Livy", async (t) => {
    const kdc = (await status())['kdc'] as { principal: string; keytab: string }
    const env = await ticket(t, kdc.principal, kdc.keytab)
    const root = await curl(env, [`${secure.webhdfsUrl}/?op=GETFILESTATUS`])
    t.equal(root.status, 200, 'WebHDFS GETFILESTATUS /')
    t.match(JSON.parse(root.body), { FileStatus: { type: 'DIRECTORY' } })
    const livy = await curl(env, [`${secure.livyUrl}/batches`])
    t.equal(livy.status, 200, 'Livy GET /batches')
    t.match(JSON.parse(livy.body), { sessions: Array })

    // the layout the superuser made
    const list = await curl(env, [`${secure.webhdfsUrl}/?op=LISTSTATUS`])
    const entries = (
      JSON.parse(list.body) as {
        FileStatuses: { FileStatus: { pathSuffix: string; owner: string; permission: string }[] }
      }
    ).FileStatuses.FileStatus
    const at = (name: string) => entries.find((e) => e.pathSuffix === name)
    t.match(at('user'), { permission: '1777' }, '/user 1777')
    t.match(at('tmp'), { permission: '1777' }, '/tmp 1777')
    t.match(at('sparkgate'), { owner: 'sparkgate', permission: '755' }, '/sparkgate')
    const tenants = await curl(env, [`${secure.webhdfsUrl}/sparkgate/tenants?op=GETFILESTATUS`])
    t.match(JSON.parse(tenants.body), { FileStatus: { owner: 'sparkgate', permission: '1777' } })

    // a write and a read through the DataNode (SASL data transfer, HTTPS), as analyst
    const path = `/user/analyst/stack-secure-${randomUUID().slice(0, 8)}.txt`
    const local = join(await mkdtemp(join(tmpdir(), 'sparkgate-secure-')), 'hello.txt')
    t.teardown(() => rm(join(local, '..'), { recursive: true, force: true }))
    await writeFile(local, 'hello, secured HDFS\n')
    const put = await curl(env, [
      '-L',
      '-X',
      'PUT',
      '-T',
      local,
      `${secure.webhdfsUrl}${path}?op=CREATE&overwrite=true`,
    ])
    t.equal(put.status, 201, 'CREATE (NameNode, then the DataNode over HTTPS)')
    const read = await curl(env, ['-L', `${secure.webhdfsUrl}${path}?op=OPEN`])
    t.equal(read.body, 'hello, secured HDFS\n', 'OPEN reads it back')
    const owner = await curl(env, [`${secure.webhdfsUrl}${path}?op=GETFILESTATUS`])
    t.match(JSON.parse(owner.body), { FileStatus: { owner: 'analyst' } }, 'owned by analyst')
    t.equal(
      (await curl(env, ['-X', 'DELETE', `${secure.webhdfsUrl}${path}?op=DELETE`])).status,
      200,
    )
    // permissions hold: analyst may not write at the root
    const denied = await curl(env, ['-X', 'PUT', `${secure.webhdfsUrl}/not-yours?op=MKDIRS`])
    t.equal(denied.status, 403, 'MKDIRS at / is denied to analyst')
  })

  t.test("the gateway's way on WebHDFS: sparkgate's ticket, doas a tenant's user", async (t) => {
    const gateway = await ticket(t, secure.principal, secure.keytab)
    const user = `tenant-${randomUUID().slice(0, 8)}`
    const dir = `/sparkgate/tenants/${user}`
    t.teardown(() =>
      curl(gateway, ['-X', 'DELETE', `${secure.webhdfsUrl}${dir}?op=DELETE&recursive=true`]),
    )
    const made = await curl(gateway, [
      '-X',
      'PUT',
      `${secure.webhdfsUrl}${dir}?op=MKDIRS&permission=700&doas=${user}`,
    ])
    t.equal(made.status, 200, `MKDIRS ${dir} as ${user} (sparkgate is a proxy user)`)
    const made2 = await curl(gateway, [`${secure.webhdfsUrl}${dir}?op=GETFILESTATUS`])
    t.match(JSON.parse(made2.body), { FileStatus: { owner: user, permission: '700' } })
    // analyst may not act for anyone
    const kdc = (await status())['kdc'] as { principal: string; keytab: string }
    const analyst = await ticket(t, kdc.principal, kdc.keytab)
    const refused = await curl(analyst, [`${secure.webhdfsUrl}/?op=GETFILESTATUS&doas=${user}`])
    t.equal(refused.status, 403, 'doas by analyst is refused')
    // nor read the tenant's folder
    const closed = await curl(analyst, [`${secure.webhdfsUrl}${dir}?op=LISTSTATUS`])
    t.equal(closed.status, 403, "analyst cannot list the tenant's 0700 folder")
  })

  t.test(
    "a batch the gateway's way: sparkgate's ticket, proxyUser analyst, secured YARN",
    async (t) => {
      const kdc = (await status())['kdc'] as { principal: string; keytab: string }
      const yarn = (await status())['yarn'] as { url: string }
      const analyst = await ticket(t, kdc.principal, kdc.keytab)
      const gateway = await ticket(t, secure.principal, secure.keytab)
      // the job on HDFS, put there by its user
      const dir = await mkdtemp(join(tmpdir(), 'sparkgate-secure-'))
      t.teardown(() => rm(dir, { recursive: true, force: true }))
      const job = join(dir, 'job.py')
      await writeFile(
        job,
        [
          'from pyspark.sql import SparkSession',
          'spark = SparkSession.builder.getOrCreate()',
          'print("SECURE-SUM", spark.range(10).groupBy().sum().collect()[0][0])',
          'spark.stop()',
          '',
        ].join('\n'),
      )
      const path = `/user/analyst/stack-secure-${randomUUID().slice(0, 8)}.py`
      t.teardown(() =>
        curl(analyst, ['-X', 'DELETE', `${secure.webhdfsUrl}${path}?op=DELETE`]).then(() => {}),
      )
      const put = await curl(analyst, [
        '-L',
        '-X',
        'PUT',
        '-T',
        job,
        `${secure.webhdfsUrl}${path}?op=CREATE&overwrite=true`,
      ])
      t.equal(put.status, 201, 'the job file on HDFS')

      const submitted = await curl(gateway, [
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '-d',
        JSON.stringify({ file: `hdfs://${path}`, proxyUser: 'analyst' }),
        `${secure.livyUrl}/batches`,
      ])
      t.equal(submitted.status, 201, 'Livy takes the batch from sparkgate')
      const batch = JSON.parse(submitted.body) as { id: number; owner: string; proxyUser: string }
      t.match(batch, { owner: 'sparkgate', proxyUser: 'analyst' })

      let state = ''
      let appId = ''
      const end = Date.now() + 240_000
      while (Date.now() < end) {
        const b = JSON.parse(
          (await curl(gateway, [`${secure.livyUrl}/batches/${batch.id}`])).body,
        ) as { state: string; appId: string | null }
        state = b.state
        appId = b.appId ?? ''
        if (['success', 'dead', 'killed', 'error'].includes(state)) break
        await new Promise((r) => setTimeout(r, 2000))
      }
      if (state !== 'success') {
        const log = await curl(gateway, [`${secure.livyUrl}/batches/${batch.id}/log?size=80`])
        t.comment(log.body)
      }
      t.equal(state, 'success', `the batch succeeds (${appId})`)
      const app = (await (await fetch(`${yarn.url}/ws/v1/cluster/apps/${appId}`)).json()) as {
        app: { user: string; finalStatus: string }
      }
      t.match(app.app, { user: 'analyst', finalStatus: 'SUCCEEDED' }, 'YARN ran it as analyst')
    },
  )
}
