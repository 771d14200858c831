/**
 * What the job core does with a training job's outcome: its model becomes a registry
 * version when the tracker sees it succeed (before the job is marked succeeded), a repair
 * pass registers what a crash left out, and its result is read back for the API. No
 * write happens on a read.
 */
import { errors } from '../errors.js'
import { inScope, type Scope } from '../tenancy/access.js'
import type { ModelRegistry } from '../training/model-registry.js'
import type { TrainingStager } from '../training/training.js'
import type { Job } from './job-schema.js'
import type { JobStore } from './job-store.js'

export interface TrainingResult extends Record<string, unknown> {
  modelUri: string
  modelName: string
  modelVersion: number | null
}

export class TrainingResults {
  constructor(
    private readonly store: JobStore,
    private readonly registry: ModelRegistry,
    private readonly training: TrainingStager,
  ) {}

  /** Registers a succeeded training job's model; other jobs are left alone. */
  async beforeSucceeded(job: Job): Promise<number | undefined> {
    if (!job.spec.training) return undefined
    return this.registry.register({
      tenant: job.tenant,
      jobId: job.id,
      jobName: job.name,
      spec: job.spec.training,
      finishedAt: job.finishedAt ?? new Date().toISOString(),
    })
  }

  /**
   * What a job wrote tells its outcome when the backend forgot its batch (Livy's retention
   * passed while no tracker ran, or Livy restarted without recovery): a training job that
   * wrote metrics.json succeeded. undefined: nothing to tell by.
   */
  async outcome(job: Job): Promise<'succeeded' | undefined> {
    if (!job.spec.training) return undefined
    return (await this.training.metrics(job.tenant, job.id)) ? 'succeeded' : undefined
  }

  /**
   * Registers the succeeded training jobs that are not yet (a crash or an HDFS fault
   * between a job's end and its registration): the newest `max` succeeded jobs are checked.
   */
  async repair(max = 500): Promise<number> {
    const recent = await this.store.idsInState('succeeded', max, true)
    const missing = await this.registry.unregistered(recent)
    let registered = 0
    for (const job of await this.store.getMany(missing)) {
      if (job.spec.training && (await this.beforeSucceeded(job)) !== undefined) registered++
    }
    return registered
  }

  /** metrics.json of a succeeded training job, with its model's URI, name and version. */
  async result(scope: Scope, id: string): Promise<TrainingResult> {
    const job = await this.store.get(id)
    if (!job || !inScope(scope, job.tenant)) throw errors.jobNotFound(id)
    if (!job.spec.training) throw errors.notTraining(job.id)
    if (job.state !== 'succeeded') throw errors.jobNotSucceeded(job.id, job.state)
    const metrics = await this.training.metrics(job.tenant, job.id)
    if (!metrics) throw errors.resultMissing(job.id)
    return {
      ...metrics,
      modelUri: this.training.modelUri(job.tenant, job.id),
      modelName: job.spec.training.modelName ?? job.name,
      modelVersion: (await this.registry.versionOf(job.id)) ?? null,
    }
  }
}
