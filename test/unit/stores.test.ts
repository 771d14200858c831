/**
 * The storage port's pure parts (no service): which store each backend's Spark reads and
 * which store a URI lies in (src/storage/stores.ts); paths and URIs of both adapters; a
 * storage `auth` resolved from a file or a variable, never shown (src/cluster-auth/
 * storage-auth.ts); and the policy's view of a tenant's areas in other stores (an abfss://
 * folder of its own, not another tenant's).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import t from 'tap'
import { CredentialError } from '../../src/cluster-auth/credentials.js'
import { resolveStorageAuth } from '../../src/cluster-auth/storage-auth.js'
import { AdlsStore } from '../../src/storage/adls-store.js'
import { HdfsStore } from '../../src/storage/hdfs-store.js'
import { Stores } from '../../src/storage/stores.js'
import type { WebHdfsClient } from '../../src/storage/webhdfs-client.js'
import { uriProblem } from '../../src/tenancy/policy.js'

const hdfs = new HdfsStore({} as WebHdfsClient, '/sparkgate', 'hdfs://nn:8020')
// built only: no call reaches the account
const adls = new AdlsStore({
  account: 'wsdata',
  container: 'ml',
  auth: { type: 'default' },
})

t.test('paths and URIs of each store', async (t) => {
  t.equal(hdfs.uri('/sparkgate/x'), 'hdfs://nn:8020/sparkgate/x')
  t.equal(adls.root, '/sparkgate', 'the default folder')
  t.equal(adls.id, 'abfss://ml@wsdata.dfs.core.windows.net/sparkgate')
  t.equal(adls.endpoint, 'https://wsdata.blob.core.windows.net/ml', 'the public Blob endpoint')
  t.equal(adls.tenantRoot('acme'), '/sparkgate/tenants/acme')
  t.equal(adls.datasetDir('acme', 'ab'), '/sparkgate/tenants/acme/datasets/ab')
  t.equal(adls.pathOf('abfss://ml@wsdata.dfs.core.windows.net/sparkgate/a'), '/sparkgate/a')
  t.equal(adls.pathOf('abfss://other@wsdata.dfs.core.windows.net/sparkgate/a'), undefined)
  t.equal(adls.pathOf('hdfs://nn:8020/sparkgate/a'), undefined)
  const nested = new AdlsStore({
    account: 'wsdata',
    container: 'ml',
    folder: 'teams/sparkgate/',
    blobEndpoint: 'https://127.0.0.1:10000/wsdata/',
    auth: { type: 'default' },
  })
  t.equal(nested.root, '/teams/sparkgate')
  t.equal(nested.endpoint, 'https://127.0.0.1:10000/wsdata/ml')
})

t.test("each backend's store, and the store a URI lies in", async (t) => {
  const stores = new Stores(hdfs, new Map([['synapse', adls]]))
  t.equal(stores.of('synapse'), adls)
  t.equal(stores.of('livy'), hdfs, 'a backend without its own: the gateway’s HDFS')
  t.equal(stores.of(undefined), hdfs)
  t.equal(stores.ofUri(adls.uri('/sparkgate/x')), adls)
  t.equal(stores.ofUri(hdfs.uri('/sparkgate/x')), hdfs)
  t.equal(stores.ofUri('s3a://bucket/x'), undefined)
  t.equal(stores.holding('s3a://bucket/x'), hdfs)
  const twice = new Stores(
    hdfs,
    new Map([
      ['a', adls],
      ['b', adls],
    ]),
  )
  t.equal(twice.all().length, 2, 'one store named by two backends counts once')
})

t.test('a storage auth: from a file or a variable, exactly one, never shown', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-storage-auth-'))
  const keyFile = join(dir, 'key')
  await writeFile(keyFile, 'a2V5LWJ5dGVz\n')
  const where = 'synapse backend s: storage.auth'
  const key = resolveStorageAuth({ type: 'key', keyFile }, where)
  t.equal(key.type === 'key' && key.key.reveal(), 'a2V5LWJ5dGVz', 'the trailing newline dropped')
  t.notMatch(inspect(key), 'a2V5', 'never shown')
  t.equal(JSON.stringify(key), '{"type":"key","key":"***"}')
  const sas = resolveStorageAuth({ type: 'sas', tokenEnv: 'SAS' }, where, { SAS: '?sv=1&sig=x' })
  t.equal(sas.type === 'sas' && sas.token.reveal(), 'sv=1&sig=x', 'without its leading ?')
  t.same(resolveStorageAuth({ type: 'default' }, where), { type: 'default' })
  t.throws(() => resolveStorageAuth({ type: 'key' }, where), {
    name: 'CredentialError',
    message: `${where}: needs one of keyFile or keyEnv`,
  })
  t.throws(() => resolveStorageAuth({ type: 'key', keyFile: join(dir, 'none') }, where), {
    message: new RegExp(`${where}.keyFile: .*/none does not exist`),
  })
  t.throws(
    () => resolveStorageAuth({ type: 'sas', tokenEnv: 'NOPE' }, where, {}),
    new CredentialError(`${where}.tokenEnv: the environment variable NOPE is not set`),
  )
})

t.test("a tenant may name its folder in another store, not another tenant's", async (t) => {
  const area = {
    defaultFs: 'hdfs://nn:8020',
    root: '/sparkgate/tenants/acme',
    others: ['abfss://ml@wsdata.dfs.core.windows.net/sparkgate/tenants/acme'],
  }
  const policy = { uriPrefixes: [], confAllow: [], yarnQueues: ['default'], localFolders: [] }
  const base = 'abfss://ml@wsdata.dfs.core.windows.net/sparkgate/tenants'
  t.equal(uriProblem(`${base}/acme/in.csv`, area, policy), undefined)
  t.equal(uriProblem(`${base}/acme`, area, policy), undefined)
  const theirs = uriProblem(`${base}/globex/in.csv`, area, policy)
  t.match(
    theirs,
    /is not allowed: a job may name its own areas hdfs:\/\/nn:8020\/sparkgate\/tenants\/acme\/, abfss:\/\/ml@wsdata/,
  )
  t.ok(uriProblem(`${base}/acme-two/in.csv`, area, policy), 'a folder boundary, not a prefix')
  t.ok(uriProblem(`${base}/acme/../globex/in.csv`, area, policy), 'no climbing out')
  t.ok(
    uriProblem('abfss://ml@evil.dfs.core.windows.net/sparkgate/tenants/acme/x', area, policy),
    'another account',
  )
})
