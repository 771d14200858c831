/**
 * What the job core does with a training job's outcome: its model becomes a registry
 * version when the tracker sees it succeed (before the job is marked succeeded), then an
 * MLflow run and model version when tracking is on; a repair pass does what a crash or a
 * fault left out, and its result is read back for the API. No write happens on a read.
 */
import type { DatasetOwner, DatasetService } from '../datasets/dataset-service.js'
import { errors } from '../errors.js'
import { inScope, type Scope } from '../tenancy/access.js'
import type { MlflowRun, MlflowTracking } from '../training/mlflow-tracking.js'
import type { ModelRegistry, TrainedRun } from '../training/model-registry.js'
import type { ScoringStager } from '../training/scoring.js'
import { outputFormat } from '../training/scoring-spec.js'
import type { TrainingStager } from '../training/training.js'
import type { Job } from './job-schema.js'
import type { JobStore } from './job-store.js'

export interface TrainingResult extends Record<string, unknown> {
  modelUri: string
  modelName: string
  modelVersion: number | null
  mlflow: MlflowRun | null
}

/** What a succeeded scoring job shows: its row count, its output and the model it scored. */
export interface ScoringResult {
  rows: { scored: number; withoutPrediction: number }
  outputUri: string
  format: 'csv' | 'parquet'
  columns: string[]
  model: { name: string; version: number; alias?: string }
  /** the dataset the output was registered as; null: not registered (see datasetNote) */
  dataset: { id: string; name: string } | null
  datasetNote?: string
}

/** Where scoring outputs become datasets: the datasets and the owner of a tenant's. */
export interface OutputDatasets {
  datasets: DatasetService
  ownerOf: (tenant: string) => Promise<DatasetOwner>
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
    /** what scoring jobs wrote */
    private readonly scoring?: ScoringStager,
    /** where scoring outputs are registered as datasets */
    private readonly outputs?: OutputDatasets,
  ) {}

  /**
   * Registers a succeeded training job's model, then logs it to MLflow; other jobs are left
   * alone. An MLflow fault throws after the registration (the tracker logs it and marks the
   * job succeeded all the same; the repair pass logs the run later).
   */
  async beforeSucceeded(job: Job): Promise<number | undefined> {
    if (job.spec.scoring) {
      await this.registerOutput(job)
      return undefined
    }
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
    if (job.spec.scoring && this.scoring)
      return (await this.scoring.report(job.tenant, job.id)) ? 'succeeded' : undefined
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
    // training jobs without a registry version or an MLflow run; scoring jobs whose
    // output's registration is not decided
    const models = new Set(await this.registry.unregistered(recent))
    for (const id of (await this.tracking?.untracked(recent)) ?? []) models.add(id)
    const outputs = new Set((await this.outputs?.datasets.outputsUndecided(recent)) ?? [])
    let repaired = 0
    let failed: Error | undefined
    for (const job of await this.store.getMany([...new Set([...models, ...outputs])])) {
      try {
        if (job.spec.training && models.has(job.id)) {
          if ((await this.beforeSucceeded(job)) !== undefined) repaired++
        } else if (job.spec.scoring && outputs.has(job.id)) {
          if (await this.registerOutput(job)) repaired++
        }
      } catch (error) {
        if (transient(error)) throw error
        failed ??= error instanceof Error ? error : new Error(String(error))
      }
    }
    if (failed) throw failed
    return repaired
  }

  /**
   * metrics.json of a succeeded training job, with its model's URI, name and version; of a
   * scoring job, its rows, output and model.
   */
  async result(scope: Scope, id: string): Promise<TrainingResult | ScoringResult> {
    const job = await this.succeeded(scope, id)
    if (job.spec.scoring) return this.scoringResult(job)
    if (!job.spec.training) throw errors.notTraining(job.id)
    const metrics = await this.training.metrics(job.tenant, job.id)
    if (!metrics) throw errors.resultMissing(job.id)
    const mlflow = (await this.tracking?.runOf(job.id)) ?? null
    return {
      ...metrics,
      modelUri: this.training.modelUri(job.tenant, job.id),
      modelName: job.spec.training.modelName ?? job.name,
      // the number of the registry of record (the one /v1/models shows and scoring takes):
      // MLflow's with tracking on — null until tracked —, else the Redis registry's
      modelVersion: this.tracking
        ? (mlflow?.modelVersion ?? null)
        : ((await this.registry.versionOf(job.id)) ?? null),
      mlflow,
    }
  }

  /**
   * Registers a scoring job's output file as a dataset of its tenant (once per job);
   * false when there is nothing to register (no output yet, or registration is off).
   */
  private async registerOutput(job: Job): Promise<boolean> {
    if (!this.outputs || !this.scoring) return false
    const file = await this.scoring.outputFile(job.tenant, job.id)
    if (!file) return false
    const { name, version } = job.spec.scoring!.resolved!
    await this.outputs.datasets.registerOutput(await this.outputs.ownerOf(job.tenant), job.id, {
      ...file,
      name: `${name}-v${version}-scored-${job.id}.${outputFormat(job.spec.scoring!)}`,
      model: `${name}/${version}`,
    })
    return true
  }

  /** The one file a succeeded scoring job wrote: its HDFS path, size and format. */
  async output(scope: Scope, id: string) {
    const job = await this.succeeded(scope, id)
    if (!job.spec.scoring || !this.scoring) throw errors.notScoring(job.id)
    const file = await this.scoring.outputFile(job.tenant, job.id)
    if (!file) {
      const registration = await this.outputs?.datasets.outputOf(job.id)
      throw errors.resultMissing(
        job.id,
        registration && 'id' in registration
          ? `scored output: it was registered as dataset ${registration.id}, which was deleted`
          : 'scored output',
      )
    }
    return { ...file, format: outputFormat(job.spec.scoring), jobId: job.id }
  }

  /** The bytes of a file output() named. */
  open(path: string) {
    return this.scoring!.open(path)
  }

  /** A job of the scope that succeeded (404: none; 409: not yet, or not at all). */
  private async succeeded(scope: Scope, id: string): Promise<Job> {
    const job = await this.store.get(id)
    if (!job || !inScope(scope, job.tenant)) throw errors.jobNotFound(id)
    if (!job.spec.training && !job.spec.scoring) throw errors.notTraining(job.id)
    if (job.state !== 'succeeded') throw errors.jobNotSucceeded(job.id, job.state)
    return job
  }

  private async scoringResult(job: Job): Promise<ScoringResult> {
    const report = await this.scoring?.report(job.tenant, job.id)
    if (!report) throw errors.resultMissing(job.id, 'scoring.json')
    const { name, version, alias } = job.spec.scoring!.resolved!
    return {
      rows: { scored: report.rows.scored, withoutPrediction: report.rows.withoutPrediction ?? 0 },
      outputUri: report.output.uri,
      format: report.output.format,
      columns: report.output.columns ?? [],
      model: { name, version, ...(alias ? { alias } : {}) },
      ...(await this.outputDataset(job)),
    }
  }

  /** The dataset a scoring job's output became, or why there is none. */
  private async outputDataset(job: Job): Promise<Pick<ScoringResult, 'dataset' | 'datasetNote'>> {
    const none = (datasetNote: string) => ({ dataset: null, datasetNote })
    if (!this.outputs) return { dataset: null }
    const registration = await this.outputs.datasets.outputOf(job.id)
    if (!registration) return none('not registered as a dataset yet (the tracker does it shortly)')
    if ('refused' in registration)
      return none(`not registered as a dataset: ${registration.refused}`)
    const dataset = await this.outputs.datasets.find(job.tenant, registration.id)
    if (!dataset) return none(`registered as dataset ${registration.id}, since deleted`)
    return { dataset: { id: dataset.id, name: dataset.name } }
  }
}
