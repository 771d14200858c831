/**
 * Each tenant's HDFS area (<root>/tenants/<tenant>) is made when the tenant is made,
 * owned by the tenant's cluster user, mode 0700; an older area with another mode gets 0700
 * before the tenant's next upload. On a new HDFS root the gateway makes `<root>` (its
 * default mode) and `<root>/tenants` (1777) itself, never with a tenant's 0700. (With HDFS
 * permissions on, test/secure/ shows another tenant's job refused there.)
 */
import t from 'tap'
import {
  ADMIN_KEY,
  bearer,
  build,
  hdfsClient,
  hdfsTestDir,
  makeKey,
  tenantName,
} from '../helpers/stack.js'

const hdfs = hdfsClient()

t.test('a new tenant: its area, its cluster user, 0700', async (t) => {
  // a root that does not exist yet, as on a new cluster
  const hdfsRoot = `${await hdfsTestDir(t, hdfs)}/root`
  const app = await build(t, { SPARKGATE_HDFS_ROOT: hdfsRoot }, { tenant: false })
  const id = tenantName('area')
  const clusterUser = `u-${id}`
  const created = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: bearer(ADMIN_KEY),
    payload: { name: id, clusterUser },
  })
  t.equal(created.statusCode, 201, created.body)
  const root = `${hdfsRoot}/tenants/${id}`
  t.match(await hdfs.getFileStatus(hdfsRoot), {
    owner: app.config.SPARKGATE_HDFS_USER,
    permission: '755',
  })
  t.match(await hdfs.getFileStatus(`${hdfsRoot}/tenants`), {
    owner: app.config.SPARKGATE_HDFS_USER,
    permission: '1777',
  })
  const status = await hdfs.getFileStatus(root)
  t.equal(status.type, 'DIRECTORY')
  t.equal(status.owner, clusterUser)
  t.equal(status.permission, '700')

  // an area left 0755 (made before this rule) is 0700 again before the next upload
  await hdfs.as(clusterUser).setPermission(root, '755')
  // another gateway process (its own memory of areas made), the same Redis
  const restarted = await build(
    t,
    { SPARKGATE_REDIS_PREFIX: app.config.SPARKGATE_REDIS_PREFIX, SPARKGATE_HDFS_ROOT: hdfsRoot },
    { tenant: false },
  )
  const key = await makeKey(restarted, id, 'member')
  const uploaded = await restarted.inject({
    method: 'POST',
    url: '/v1/datasets?name=d.csv',
    headers: { ...bearer(key), 'content-type': 'text/csv' },
    payload: 'x,y\n1,2\n',
  })
  t.equal(uploaded.statusCode, 201, uploaded.body)
  t.equal((await hdfs.getFileStatus(root)).permission, '700')
  const dataset = await hdfs.getFileStatus(`${root}/datasets`)
  t.equal(dataset.owner, clusterUser, "staged files are the tenant's user's")
})
