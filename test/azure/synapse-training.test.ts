/**
 * Training and scoring on Azure, end to end on the local Azure of the stack: the Synapse
 * double (docker/local/synapse/, the Synapse batch API over HTTPS) whose batches run on a
 * Spark that reads and writes Azurite as abfss:// (Hadoop's WASB driver), the gateway
 * reaching both with the real Azure SDKs (@azure/synapse-spark, @azure/storage-blob).
 * `SPARKGATE_BACKENDS=auto` finds them (.stack/run/synapse.json). Skipped (plan 0) when
 * the stack runs no Synapse double (the secure profile).
 *
 * One tenant: a dataset uploaded for Livy (HDFS) trains on Livy and on Synapse (copied to
 * the storage account once, however many jobs read it), with the same areaUnderROC; its
 * files, job files and model are blobs under the tenant's folder; MLflow tracks the run and
 * registers the model as it does Livy's; scoring on Synapse by the model's alias reads the
 * model there and writes its output there, served by /output as on any backend.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import type { Job } from '../../src/domain/job-schema.js'
import { build, hdfsTestDir, tenantOf } from '../helpers/stack.js'
import { getJob, postJob, waitForState } from '../helpers/jobs.js'
import { demoTraining } from '../helpers/secured.js'
import { containerOf, stackDouble } from '../helpers/azure.js'

const double = stackDouble()
if (!double) {
  t.comment('the stack runs no Synapse double (secure profile): nothing to test here')
  t.plan(0)
} else {
  const churn = await readFile('jobs/examples/data/churn.csv', 'utf8')

  t.test('train on Livy and on Synapse, then score on Synapse by alias', async (t) => {
    const root = await hdfsTestDir(t)
    const app = await build(t, {
      SPARKGATE_HDFS_ROOT: root,
      SPARKGATE_TRACKER_INTERVAL_MS: 500,
      SPARKGATE_SYNAPSE_DOUBLE: 'auto',
    })
    const tenant = tenantOf(app).id
    const store = app.stores.of('synapse')
    t.equal(store.kind, 'adls', 'auto added the synapse backend with its storage account')
    t.teardown(() => store.discard(store.tenantRoot(tenant)))
    const container = containerOf(double)
    const backends = (await app.inject('/v1/backends')).json<{ items: { name: string }[] }>().items
    t.match(
      backends.find((b) => b.name === 'synapse'),
      { healthy: true, kind: 'synapse' },
      'the double is up, and so is its storage',
    )

    // uploaded for livy: on HDFS
    const up = await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=churn.csv&backend=livy',
      headers: { 'content-type': 'text/csv' },
      payload: churn,
    })
    t.equal(up.statusCode, 201, up.body)
    const dataset = up.json<Dataset>()
    t.match(dataset.uri, /^hdfs:\/\//)

    const run = async (backend: string, name: string) => {
      const r = await postJob(app, { ...demoTraining(dataset.id, name), backend })
      t.equal(r.statusCode, 202, r.body)
      const job = await waitForState(
        (id) => getJob(app, id),
        r.json<Job>().id,
        ['succeeded', 'failed'],
        600_000,
      )
      t.equal(job.state, 'succeeded', `${backend}: ${JSON.stringify(job.error)}`)
      const result = await app.inject(`/v1/jobs/${job.id}/result`)
      t.equal(result.statusCode, 200, result.body)
      return { job, result: result.json<Record<string, unknown>>() }
    }
    const onLivy = await run('livy', 'churn-livy')
    const onSynapse = await run('synapse', 'churn-azure')
    const auc = (r: Record<string, unknown>) =>
      (r['metrics'] as Record<string, number>)['areaUnderROC']!
    t.ok(Math.abs(auc(onLivy.result) - auc(onSynapse.result)) <= 1e-6, 'the same areaUnderROC', {
      livy: auc(onLivy.result),
      synapse: auc(onSynapse.result),
    })
    t.same(onSynapse.result['features'], onLivy.result['features'], 'the same features')

    // where it ran from: the copy in the storage account, under the tenant's folder
    const area = `${store.tenantRoot(tenant)}`
    const copy = `${area}/datasets/${dataset.id}/churn.csv`
    t.equal(onSynapse.job.inputs?.[`dataset://${dataset.id}`], store.uri(copy), 'inputs')
    t.equal(onLivy.job.inputs?.[`dataset://${dataset.id}`], dataset.uri)
    const modelUri = onSynapse.result['modelUri'] as string
    t.equal(modelUri, store.uri(`${area}/runs/${onSynapse.job.id}/model`), 'the model on ADLS')

    // the blobs: the dataset's copy, the run's spec, metrics and model, the job files
    const blob = (path: string) => container.getBlockBlobClient(path.slice(1))
    const copied = await blob(copy).getProperties()
    t.equal(copied.contentLength, Buffer.byteLength(churn), 'the copy, whole')
    const names: string[] = []
    for await (const b of container.listBlobsFlat({ prefix: `${area.slice(1)}/` }))
      names.push(b.name.slice(area.length))
    const run1 = `runs/${onSynapse.job.id}`
    for (const expected of [
      `datasets/${dataset.id}/churn.csv`,
      `${run1}/spec.json`,
      `${run1}/metrics.json`,
      `${run1}/model/metadata/part-00000`,
    ])
      t.ok(names.includes(expected), `blob ${expected}`)
    t.ok(
      names.some((n) => n.startsWith(`${run1}/model/stages/`)),
      'the PipelineModel stages',
    )
    for await (const b of container.listBlobsFlat({ prefix: `${store.root.slice(1)}/artifacts/` }))
      names.push(b.name)
    t.ok(
      names.some((n) => n.endsWith('/train.py')),
      'train.py staged once per content in the account',
    )

    // copied once: a second job on synapse reads the same copy
    const again = await run('synapse', 'churn-azure')
    t.equal(again.job.inputs?.[`dataset://${dataset.id}`], store.uri(copy))
    t.equal((await blob(copy).getProperties()).etag, copied.etag, 'not copied twice')
    const listed = (await app.inject(`/v1/datasets/${dataset.id}`)).json<Dataset>()
    t.same(listed.copies, [store.uri(copy)], 'the dataset names its one copy')

    // MLflow tracked and registered it as it does Livy's, its source on ADLS
    const model = (await app.inject('/v1/models/churn-azure')).json<{
      versions: { version: number; modelUri: string }[]
    }>()
    t.equal(model.versions.length, 2, 'two versions of churn-azure')
    t.ok(
      model.versions.every((v) => v.modelUri.startsWith('abfss://')),
      'their models on ADLS',
    )
    t.ok(onSynapse.result['mlflow'], 'the run is in MLflow', { mlflow: onSynapse.result['mlflow'] })

    // scoring on synapse by alias: reads the model there, writes its output there
    const alias = await app.inject({
      method: 'PUT',
      url: '/v1/models/churn-azure/aliases/champion',
      payload: { version: 1 },
    })
    t.equal(alias.statusCode, 200, alias.body)
    const scored = await postJob(app, {
      name: 'score-azure',
      backend: 'synapse',
      resources: { driverMemory: '512m' },
      scoring: {
        dataset: dataset.id,
        model: 'churn-azure@champion',
        output: { format: 'csv' },
      },
    })
    t.equal(scored.statusCode, 202, scored.body)
    const scoring = await waitForState(
      (id) => getJob(app, id),
      scored.json<Job>().id,
      ['succeeded', 'failed'],
      600_000,
    )
    t.equal(scoring.state, 'succeeded', JSON.stringify(scoring.error))
    const report = (await app.inject(`/v1/jobs/${scoring.id}/result`)).json<{
      rows: { scored: number }
      outputUri: string
      model: { version: number; alias?: string }
    }>()
    t.equal(report.rows.scored, churn.trim().split('\n').length - 1, 'every row scored')
    t.match(report.outputUri, /^abfss:\/\//)
    t.match(report.model, { version: 1, alias: 'champion' })
    // Livy's Spark does not read the account: a 400 before anything is queued
    const elsewhere = await postJob(app, {
      backend: 'livy',
      scoring: { dataset: dataset.id, model: 'churn-azure@champion' },
    })
    t.equal(elsewhere.statusCode, 400, elsewhere.body)
    t.match(elsewhere.json(), {
      errors: [{ field: 'body.scoring.model', rule: 'reachable' }],
    })
    const output = await app.inject(`/v1/jobs/${scoring.id}/output`)
    t.equal(output.statusCode, 200)
    t.match(output.headers['content-type'], /text\/csv/)
    t.equal(output.body.trim().split('\n').length, report.rows.scored + 1, 'read back from ADLS')
  })

  t.test('an upload for Synapse cut past the size limit leaves no blob', async (t) => {
    const app = await build(t, {
      SPARKGATE_SYNAPSE_DOUBLE: 'auto',
      // past two 8 MiB blocks staged in the account: cut with blocks uncommitted
      SPARKGATE_DATASET_MAX_BYTES: 20 * 1024 * 1024,
    })
    const store = app.stores.of('synapse')
    const area = store.tenantRoot(tenantOf(app).id)
    // no Content-Length: the gateway learns the size as the bytes stream to the account
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 30; i++) yield Buffer.alloc(1024 * 1024, 'a,b\n')
      })(),
    )
    const r = await app.inject({
      method: 'POST',
      url: '/v1/datasets?name=big.csv&backend=synapse',
      headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
      payload: body,
    })
    t.equal(r.statusCode, 413, r.body)
    const left: string[] = []
    for await (const b of containerOf(double).listBlobsFlat({
      prefix: `${area.slice(1)}/`,
      includeUncommitedBlobs: true,
    }))
      left.push(b.name)
    t.same(left, [], 'no blob, committed or not, in the tenant’s folder')
    t.same((await app.inject('/v1/datasets')).json().items, [], 'and no dataset')
  })

  t.test('a tenant names only its own folder of the storage account', async (t) => {
    const app = await build(t, { SPARKGATE_SYNAPSE_DOUBLE: 'auto' })
    const store = app.stores.of('synapse')
    const mine = store.uri(`${store.tenantRoot(tenantOf(app).id)}/in.csv`)
    const theirs = store.uri(`${store.tenantRoot('someone-else')}/in.csv`)
    const job = (uri: string) =>
      postJob(app, {
        backend: 'synapse',
        training: { dataset: { uri, format: 'csv' }, label: 'y', algorithm: 'logistic_regression' },
      })
    const refused = await job(theirs)
    t.equal(refused.statusCode, 400)
    t.match(refused.json(), {
      errors: [{ field: 'body.training.dataset.uri', rule: 'uri-policy' }],
    })
    t.match(refused.json().errors[0].message, store.uri(`${store.tenantRoot(tenantOf(app).id)}/`))
    const allowed = await job(mine)
    t.equal(allowed.statusCode, 202, allowed.body)
    await app.inject({ method: 'POST', url: `/v1/jobs/${allowed.json<Job>().id}/cancel` })
  })

  t.test('a wrong storage key: the backend is down, and says why', async (t) => {
    const dir = await import('node:fs/promises').then((fs) =>
      fs.mkdtemp(join(process.env['TMPDIR'] ?? '/tmp', 'sparkgate-wrong-key-')),
    )
    const keyFile = join(dir, 'key')
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(keyFile, Buffer.alloc(64, 7).toString('base64'), { mode: 0o600 }),
    )
    t.ok(existsSync(keyFile))
    const app = await build(t, {
      SPARKGATE_BACKENDS: JSON.stringify([
        {
          name: 'synapse',
          kind: 'synapse',
          endpoint: double.endpoint,
          pool: double.pool,
          caFile: double.caFile,
          tokenFile: double.tokenFile,
          storage: {
            account: double.storage.account,
            container: double.storage.container,
            blobEndpoint: double.storage.blobEndpoint,
            auth: { type: 'key', keyFile },
            caFile: double.caFile,
          },
        },
      ]),
      SPARKGATE_DEFAULT_BACKEND: 'synapse',
    })
    const backends = (await app.inject('/v1/backends')).json<{ items: Record<string, unknown>[] }>()
      .items
    t.match(backends, [
      {
        name: 'synapse',
        healthy: false,
        error: /storage account refused the gateway's credential/,
      },
    ])
    t.notMatch(JSON.stringify(backends), Buffer.alloc(64, 7).toString('base64'), 'no key shown')
  })
}
