/**
 * The gateway's Kerberos tickets outlive their lifetime: a principal of the stack's KDC
 * whose tickets last one minute (made for this test with kadmin.local, removed after)
 * keeps talking SPNEGO to the secured Livy for two minutes (GSSAPI gets a new ticket from
 * the keytab before the old one expires); and a 401 to a Negotiate request is negotiated
 * once more. The client runs in a process of its own (test/fixtures/kerberos/spnego-client.ts):
 * GSSAPI's identity is per process.
 * Skipped (one plan-0 with the reason) unless the stack runs secured: phase 2 of npm test.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { stackStatus } from '../helpers/secured.js'
import { ON_YARN, uniqueId } from '../helpers/stack.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const status = await stackStatus()
if (!existsSync(join(status.stateDir, 'run', 'secure.json')) || !status.kdc?.up) {
  t.plan(0, 'the stack is not secured (npm run test:secure runs this)')
} else {
  const kdc = status.kdc
  const env = {
    ...process.env,
    KRB5_CONFIG: kdc.krb5Conf,
    KRB5_KDC_PROFILE: join(status.stateDir, 'conf', 'kdc', 'kdc.conf'),
  }
  const run = (cmd: string, args: string[], timeout = 60_000) =>
    new Promise<string>((resolve, reject) =>
      execFile(cmd, args, { env, timeout }, (error, stdout, stderr) =>
        error ? reject(new Error(`${cmd}: ${error.message} ${stderr}`)) : resolve(stdout),
      ),
    )
  const kadmin = (query: string) => run('kadmin.local', ['-r', kdc.realm, '-q', query])

  t.test('tickets of one minute, two minutes of calls; a 401 negotiated again', async (t) => {
    const name = uniqueId('refresh').toLowerCase()
    const principal = `${name}@${kdc.realm}`
    const keytab = join(await mkdtemp(join(tmpdir(), 'sparkgate-refresh-')), 'short.keytab')
    await kadmin(`addprinc -randkey -maxlife "1 minute" -maxrenewlife "1 minute" ${principal}`)
    t.teardown(() => kadmin(`delprinc -force ${principal}`).catch(() => undefined))
    await kadmin(`ktadd -k ${keytab} ${principal}`)
    const out = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'test/fixtures/kerberos/spnego-client.ts'),
        principal,
        keytab,
        kdc.krb5Conf,
        ON_YARN.SPARKGATE_LIVY_URL,
        '5',
        '30000',
      ],
      300_000,
    )
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as {
      results: { at: number; ok: boolean; error?: string }[]
      retried: string
      seen: string[]
    }
    t.equal(report.results.length, 5)
    t.ok(report.results.at(-1)!.at >= 110, `the last call at ${report.results.at(-1)!.at} s`)
    for (const r of report.results) t.ok(r.ok, `at ${r.at} s: ${r.error ?? 'Livy answered'}`)
    t.equal(report.retried, 'ok', 'the 401 was negotiated again')
    t.strictSame(report.seen, ['Negotiate', 'Negotiate'], 'twice, each with a token')
  })
}
