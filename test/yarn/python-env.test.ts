/**
 * A packed Python environment on YARN: a venv-pack tar.gz holding a package the
 * cluster's Python lacks (test/fixtures/python/sparkgate_probe), uploaded as a dataset and
 * named as a batch's `pythonEnv`. YARN unpacks it in each container; the driver (in the
 * ApplicationMaster's container) and an executor import the package from it.
 */
import { readFile } from 'node:fs/promises'
import t from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import { createJob, getJob, waitForState } from '../helpers/jobs.js'
import { packProbeEnv, PROBE_VERSION } from '../helpers/python-env.js'
import { gatewayOnYarn, rmApp } from '../helpers/yarn.js'

t.test('a batch whose pythonEnv holds a package imports it on YARN', async (t) => {
  const { app, stageFixture } = await gatewayOnYarn(t)
  const file = await stageFixture('import_probe.py')
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=probe-env.tar.gz',
    headers: { 'content-type': 'application/octet-stream' },
    payload: await readFile(await packProbeEnv()),
  })
  t.equal(upload.statusCode, 201, upload.body)
  const env = upload.json<Dataset>()

  const job = await createJob(app, {
    name: 'python-env',
    batch: { file, pythonEnv: `dataset://${env.id}` },
    resources: { driverMemory: '512m' },
  })
  const done = await waitForState(
    (id) => getJob(app, id),
    job.id,
    ['succeeded', 'failed', 'cancelled'],
    480_000,
  )
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.equal((await rmApp(done.backendRef!.appId!)).finalStatus, 'SUCCEEDED')
  const lines = (await app.inject(`/v1/jobs/${job.id}/logs?size=10000`)).json<{ lines: string[] }>()
    .lines
  const said = (text: string) => lines.some((l) => / stdout\] /.test(l) && l.endsWith(text))
  t.ok(said(`sparkgate_probe ${PROBE_VERSION}`), 'the driver imported it')
  t.ok(said(`sparkgate_probe executor ${PROBE_VERSION}`), 'an executor imported it')
  t.ok(
    lines.some((l) => /sparkgate_probe python .*sparkgate_pyenv\/bin\/python/.test(l)),
    "the driver's Python is the packed one",
  )
})
