/**
 * A succeeded training job without Spark: what train.py leaves on HDFS (metrics.json and a
 * model folder) written directly, and the job as the tracker holds it just before success.
 * Hand it to `app.trainingResults.beforeSucceeded` to register and track it.
 */
import type { App } from '../../src/app.js'
import type { Job } from '../../src/domain/job-schema.js'
import type { TrainingSpec } from '../../src/kinds/training/spec.js'
import { hdfsClient, tenantOf, uniqueId } from './stack.js'

const hdfs = hdfsClient()

export async function succeededTrainingJob(
  app: App,
  root: string,
  spec: TrainingSpec,
  metrics: Record<string, unknown>,
): Promise<Job> {
  const tenant = tenantOf(app).id
  const id = uniqueId('job')
  const dir = `${root}/tenants/${tenant}/runs/${id}`
  await hdfs.mkdirs(`${dir}/model/stages`)
  await hdfs.create(`${dir}/metrics.json`, JSON.stringify({ ...metrics, jobId: id }), {
    overwrite: true,
  })
  return {
    id,
    tenant,
    name: `train-${spec.modelName ?? 'model'}`,
    state: 'running',
    backend: 'livy',
    backendState: 'success',
    attempts: 1,
    maxAttempts: 1,
    priority: 5,
    createdAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:05:00.000Z',
    finishedAt: '2026-11-24T10:05:00.000Z',
    spec: { training: spec },
  }
}
