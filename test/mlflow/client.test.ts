/**
 * The MLflow REST client against the stack's real tracking server (SPARKGATE_MLFLOW_URL's
 * default): experiments, runs found by tag, log-batch, artifacts through the server's
 * proxy, registered models and versions found by run_id; MLflow's errors typed, a server
 * that does not answer transient. Every name carries a unique suffix.
 */
import t from 'tap'
import axios from 'axios'
import { MlflowClient, MlflowError, quote } from '../../src/mlflow/mlflow-client.js'
import { testConfig, uniqueId } from '../helpers/stack.js'
import { freePort } from '../helpers/jobs.js'

const url = testConfig().SPARKGATE_MLFLOW_URL
const client = new MlflowClient({ url })

t.test('experiments: get by name, create once, restore', async (t) => {
  const name = uniqueId('exp')
  t.equal(await client.getExperimentByName(name), undefined, 'unknown: undefined')
  const id = await client.createExperiment(name, [{ key: 'sparkgate.tenant', value: 'x' }])
  const got = await client.getExperimentByName(name)
  t.equal(got?.experiment_id, id)
  t.match(got?.tags, [{ key: 'sparkgate.tenant', value: 'x' }])
  const dup = await client.createExperiment(name).catch((e: unknown) => e)
  t.ok(dup instanceof MlflowError && dup.kind === 'already_exists', 'a second create is typed')
  t.equal((dup as MlflowError).transient, false)
})

t.test('runs: create, find by tag, log a batch, artifacts, finish', async (t) => {
  const experiment = await client.createExperiment(uniqueId('exp'))
  const jobId = uniqueId('job')
  const run = await client.createRun(experiment, {
    name: 'r',
    startTime: 1000,
    tags: [{ key: 'sparkgate.job_id', value: jobId }],
  })
  t.equal(run.info.status, 'RUNNING')
  t.match(run.info.artifact_uri, /^mlflow-artifacts:/, 'the server proxies artifacts')
  const filter = `tags.\`sparkgate.job_id\` = ${quote(jobId)}`
  t.same(
    (await client.searchRuns(experiment, filter)).map((r) => r.info.run_id),
    [run.info.run_id],
  )
  t.same(await client.searchRuns(experiment, `tags.\`sparkgate.job_id\` = 'other'`), [])

  const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: String(i) }))
  const metrics = [{ key: 'accuracy', value: 0.5, timestamp: 2000, step: 0 }]
  await client.logBatch(run.info.run_id, { params, metrics })
  await client.logBatch(run.info.run_id, { metrics }) // the same row again: kept once
  const history = await axios.get(`${url}/api/2.0/mlflow/metrics/get-history`, {
    params: { run_id: run.info.run_id, metric_key: 'accuracy' },
  })
  t.equal(history.data.metrics.length, 1, 'an identical metric row is stored once')
  const logged = await client.getRun(run.info.run_id)
  t.equal(logged?.data.params?.length, 150, 'params past 100 went in a second call')

  await client.uploadArtifact(run.info, 'sparkgate/spec.json', '{"a":1}')
  await client.uploadArtifact(run.info, 'sparkgate/spec.json', '{"a":2}')
  const path = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '')
  const read = await axios.get(
    `${url}/api/2.0/mlflow-artifacts/artifacts/${path}/sparkgate/spec.json`,
  )
  t.same(read.data, { a: 2 }, 'a second PUT replaces the artifact')

  const info = await client.updateRun(run.info.run_id, 'FINISHED', 3000)
  t.equal(info.status, 'FINISHED')
  t.equal(Number(info.end_time), 3000)
  t.equal(await client.getRun('0'.repeat(32)), undefined, 'an unknown run: undefined')
})

t.test('registry: models and versions, found by run_id', async (t) => {
  const experiment = await client.createExperiment(uniqueId('exp'))
  const run = await client.createRun(experiment, {})
  const name = uniqueId('model')
  t.equal(await client.getRegisteredModel(name), undefined)
  await client.createRegisteredModel(name, [{ key: 'sparkgate.tenant', value: 'x' }])
  t.equal((await client.getRegisteredModel(name))?.name, name)
  const again = await client.createRegisteredModel(name).catch((e: unknown) => e)
  t.equal((again as MlflowError).kind, 'already_exists')
  const source = 'hdfs://127.0.0.1:8020/sparkgate-test/model'
  const v = await client.createModelVersion({ name, source, runId: run.info.run_id })
  t.equal(v.version, '1')
  t.equal(v.source, source, 'an hdfs:// source is accepted (the stack allows the scheme)')
  const found = await client.searchModelVersions(`run_id = ${quote(run.info.run_id)}`)
  t.same(
    found.map((f) => [f.name, f.version]),
    [[name, '1']],
  )
  const bad = await client
    .createModelVersion({ name: uniqueId('missing'), source })
    .catch((e: unknown) => e)
  t.equal((bad as MlflowError).kind, 'not_found', 'a version of an unknown model')
})

t.test('registry: search by name prefix, versions by number and alias, aliases', async (t) => {
  const prefix = uniqueId('tenant')
  const name = `${prefix}.churn`
  await client.createRegisteredModel(name)
  await client.createRegisteredModel(`${prefix}.price`)
  const source = 'hdfs://127.0.0.1:8020/sparkgate-test/model'
  for (let i = 0; i < 2; i++) await client.createModelVersion({ name, source })
  const filter = `name LIKE ${quote(`${prefix}.%`)}`
  t.same((await client.searchRegisteredModels(filter)).map((m) => m.name).sort(), [
    name,
    `${prefix}.price`,
  ])
  t.same((await client.searchAllModelVersions(filter)).map((v) => v.version).sort(), ['1', '2'])

  await client.setModelAlias(name, 'champion', '1')
  t.same((await client.getModelVersion(name, '1'))?.aliases, ['champion'])
  t.same((await client.getRegisteredModel(name))?.aliases, [{ alias: 'champion', version: '1' }])
  await client.setModelAlias(name, 'champion', '2')
  t.equal((await client.getModelVersionByAlias(name, 'champion'))?.version, '2', 'moved')
  await client.deleteModelAlias(name, 'champion')
  t.equal(await client.getModelVersionByAlias(name, 'champion'), undefined, 'removed')
  t.same((await client.getRegisteredModel(name))?.aliases ?? [], [])
  t.equal(await client.getModelVersion(name, '9'), undefined, 'an unknown version')
  const reserved = await client.setModelAlias(name, 'latest', '1').catch((e: unknown) => e)
  t.equal((reserved as MlflowError).kind, 'invalid', "MLflow's own alias name")
  const unknown = await client.setModelAlias(name, 'x', '9').catch((e: unknown) => e)
  t.equal((unknown as MlflowError).kind, 'not_found', 'an alias of an unknown version')
})

t.test('a server that does not answer is a transient fault; a token is sent', async (t) => {
  const down = new MlflowClient({ url: `http://127.0.0.1:${await freePort()}` })
  const error = await down.getExperimentByName('x').catch((e: unknown) => e)
  t.ok(error instanceof MlflowError)
  t.equal((error as MlflowError).kind, 'unavailable')
  t.equal((error as MlflowError).transient, true)
  // the stack's server ignores the Authorization header: a token mode still works against it
  const withToken = new MlflowClient({ url, token: async () => 'secret-token' })
  t.equal(await withToken.getExperimentByName(uniqueId('none')), undefined)
  const failing = await withToken.createExperiment('').catch((e: unknown) => e)
  t.equal((failing as MlflowError).kind, 'invalid')
  t.notMatch((failing as Error).message, 'secret-token', 'no token in the error')
})
