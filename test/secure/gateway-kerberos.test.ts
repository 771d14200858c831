/**
 * The gateway on the secured stack (`stack.sh up --secure`): a real KDC, WebHDFS and Livy
 * demanding SPNEGO, HDFS permissions on, YARN with Kerberos. The gateway is configured by
 * nothing but the stack (its run/secure.json: principal, keytab, krb5.conf, the https
 * WebHDFS and its CA), and:
 *   - shows the Livy backend up, its auth `kerberos`;
 *   - stages a tenant's upload as the tenant's cluster user (doas) in its 0700 area;
 *   - runs a training and a batch job (SPNEGO to Livy, proxyUser the tenant's cluster
 *     user): the YARN application's user and the owner of what the job wrote are that user;
 *   - a job of tenant A naming tenant B's file by a bare path fails with the cluster's
 *     access-denied reason in its error.message;
 *   - no key material of the keytab, no SPNEGO token, in any log line.
 * Skipped (one plan-0 with the reason) unless the stack runs secured: phase 2 of npm test.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { postJob, waitForState } from '../helpers/jobs.js'
import { demoTraining, loggedApp, secretsFound, stackStatus } from '../helpers/secured.js'
import { hdfsClient, makeTenant, ON_YARN, testConfig, uniqueId } from '../helpers/stack.js'
import { killAppsAtEnd, rmApp } from '../helpers/yarn.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const status = await stackStatus()
const secureJson = join(status.stateDir, 'run', 'secure.json')
if (!existsSync(secureJson)) {
  t.plan(0, 'the stack is not secured (npm run test:secure runs this)')
} else {
  await secured()
}

async function secured() {
  const config = testConfig(ON_YARN)
  const hdfs = hdfsClient(config)
  const fs = config.SPARKGATE_HDFS_DEFAULT_FS
  const keytab = readFileSync(config.SPARKGATE_KERBEROS_KEYTAB)
  // the keytab's bytes as a log could carry them (base64, hex)
  const secrets = [keytab.toString('base64').slice(-40), keytab.toString('hex').slice(-40)]

  /** A script on HDFS that any user's job can read: staged by the gateway's own principal. */
  async function script(name: string) {
    const path = `${config.SPARKGATE_HDFS_ROOT}/test-scripts/${uniqueId('s')}/${name}`
    await hdfs.create(path, readFileSync(join(root, 'test/fixtures/spark', name)))
    t.teardown(() => hdfs.delete(path).catch(() => undefined))
    return `${fs}${path}`
  }

  t.test('the gateway on the secured stack, configured by the stack alone', async (t) => {
    t.equal(config.SPARKGATE_HDFS_AUTH, '{"type":"kerberos"}')
    t.match(config.SPARKGATE_WEBHDFS_URL, /^https:/)
    t.match(config.SPARKGATE_KERBEROS_PRINCIPAL, /^sparkgate@/)
    const { app, lines } = await loggedApp(t, ON_YARN)
    const backends = await app.inject({
      method: 'GET',
      url: '/v1/backends',
      headers: { authorization: `Bearer ${app.config.SPARKGATE_ADMIN_KEY}` },
    })
    t.match(backends.json<{ items: unknown[] }>().items, [
      { name: 'livy', auth: 'kerberos', healthy: true },
    ])
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 200, ready.body)

    const a = await makeTenant(app)
    const b = await makeTenant(app)
    killAppsAtEnd(t, a.id)
    killAppsAtEnd(t, b.id)
    const as = (key: string) => ({ authorization: `Bearer ${key}` })
    const area = (id: string) => `${app.config.SPARKGATE_HDFS_ROOT}/tenants/${id}`
    for (const tenant of [a, b]) {
      const made = await hdfs.getFileStatus(area(tenant.id))
      t.match(made, { owner: tenant.id, permission: '700' }, `${tenant.id}'s area`)
    }

    const upload = async (key: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/datasets?name=churn.csv',
        headers: { ...as(key), 'content-type': 'text/csv' },
        payload: readFileSync(join(root, 'jobs/examples/data/churn.csv')),
      })
      t.equal(r.statusCode, 201, r.body)
      return r.json<{ id: string; path: string; uri: string }>()
    }
    const mine = await upload(a.key)
    // the gateway's own principal may not look inside a tenant's area: only its user may
    const denied = await hdfs.getFileStatus(mine.path).catch((e: unknown) => e as Error)
    t.match(denied, { kind: 'access_denied', message: /Permission denied: user=sparkgate\b/ })
    const theirs = await upload(b.key)
    t.equal(
      (await hdfs.as(a.id).getFileStatus(mine.path)).owner,
      a.id,
      "staged as A's cluster user",
    )

    const wait = (id: string, key: string) =>
      waitForState(
        async (jobId) =>
          (
            await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: as(key) })
          ).json<Job>(),
        id,
        ['succeeded', 'failed'],
        600_000,
      )

    // a training: SPNEGO to Livy, the tenant as proxyUser, delegation tokens on YARN
    const training = await postJob(app, demoTraining(mine.id, 'churn-kerberos'), as(a.key))
    t.equal(training.statusCode, 202, training.body)
    // a batch job reading its own dataset, and one naming B's by a bare path
    const reader = await script('read_path.py')
    const own = await postJob(
      app,
      { name: 'own', batch: { file: reader, args: [mine.path] } },
      as(a.key),
    )
    const other = await postJob(
      app,
      { name: 'cross-tenant', batch: { file: reader, args: [theirs.path] } },
      as(a.key),
    )
    t.equal(own.statusCode, 202, own.body)
    t.equal(other.statusCode, 202, other.body)

    const trained = await wait(training.json<Job>().id, a.key)
    t.equal(trained.state, 'succeeded', JSON.stringify(trained.error))
    const app1 = await rmApp(trained.backendRef!.appId!)
    t.equal(app1.user, a.id, "the YARN application ran as A's cluster user")
    const result = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${trained.id}/result`,
      headers: as(a.key),
    })
    t.equal(result.statusCode, 200, result.body)
    if (result.statusCode !== 200)
      t.comment(lines.filter((l) => /"level":(50|60)/.test(l)).join('\n'))
    const modelPath = new URL(result.json<{ modelUri: string }>().modelUri).pathname
    t.equal((await hdfs.as(a.id).getFileStatus(modelPath)).owner, a.id, "the model is A's")

    const ran = await wait(own.json<Job>().id, a.key)
    t.equal(ran.state, 'succeeded', JSON.stringify(ran.error))
    t.equal((await rmApp(ran.backendRef!.appId!)).user, a.id)
    const refused = await wait(other.json<Job>().id, a.key)
    t.equal(refused.state, 'failed')
    t.match(
      refused.error?.message,
      new RegExp(`AccessControlException: Permission denied: user=${a.id}\\b`),
      "the cluster's access-denied reason",
    )
    t.match(refused.error?.message, area(b.id))

    t.strictSame(await secretsFound(secrets, lines, status.stateDir), [], 'no keytab bytes')
    t.notOk(
      lines.some((l) => /Negotiate [A-Za-z0-9+/]{20}/.test(l)),
      'no SPNEGO token in the log',
    )
  })
}
