/**
 * What the job core does with a training job's outcome: its model becomes a registry
 * version when the tracker sees it succeed (before the job is marked succeeded), then an
 * MLflow run and model version when tracking is on; a repair pass does what a crash or a
 * fault left out, and its result is read back for the API. No write happens on a read.
 */
import { errors } from '../errors.js'
import { inScope, type Scope } from '../tenancy/access.js'
import type { MlflowRun, MlflowTracking } from '../training/mlflow-tracking.js'
import type { ModelRegistry, TrainedRun } from '../training/model-registry.js'
import type { TrainingStager } from '../training/training.js'
import type { Job } from './job-schema.js'
import type { JobStore } from './job-store.js'

export interface TrainingResult extends Record<string, unknown> {
  modelUri: string
  modelName: string
  modelVersion: number | null
  mlflow: MlflowRun | null
}

/** A fault the next pass may not see: stop the pass rather than hit every job with it. */
const transient = (error: unknown) => (error as { transient?: boolean }).transient === true

export class TrainingResults {
  constructor(
    private readonly store: JobStore,
    private readonly registry: ModelRegistry,
    private readonly training: TrainingStager,
    /** MLflow tracking, when SPARKGATE_MLFLOW_URL is not none */
    private readonly tracking?: MlflowTracking,
  ) {}

  /**
   * Registers a succeeded training job's model, then logs it to MLflow; other jobs are left
   * alone. An MLflow fault throws after the registration (the tracker logs it and marks the
   * job succeeded all the same; the repair pass logs the run later).
   */
  async beforeSucceeded(job: Job): Promise<number | undefined> {
    if (!job.spec.training) return undefined
    const run: TrainedRun = {
      tenant: job.tenant,
      jobId: job.id,
      jobName: job.name,
      spec: job.spec.training,
      finishedAt: job.finishedAt ?? new Date().toISOString(),
    }
    const version = await this.registry.register(run)
    if (version !== undefined) await this.tracking?.track(run)
    return version
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
   * Registers (and tracks) the succeeded training jobs that are not yet (a crash, an HDFS
   * or MLflow fault between a job's end and its registration): the newest `max` succeeded
   * jobs are checked. A transient fault ends the pass; another one skips that job, and the
   * first such is thrown once the others are done (the tracker logs it).
   */
  async repair(max = 500): Promise<number> {
    const recent = await this.store.idsInState('succeeded', max, true)
    const missing = new Set(await this.registry.unregistered(recent))
    for (const id of (await this.tracking?.untracked(recent)) ?? []) missing.add(id)
    let repaired = 0
    let failed: Error | undefined
    for (const job of await this.store.getMany([...missing])) {
      if (!job.spec.training) continue
      try {
        if ((await this.beforeSucceeded(job)) !== undefined) repaired++
      } catch (error) {
        if (transient(error)) throw error
        failed ??= error instanceof Error ? error : new Error(String(error))
      }
    }
    if (failed) throw failed
    return repaired
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
      mlflow: (await this.tracking?.runOf(job.id)) ?? null,
    }
  }
}
