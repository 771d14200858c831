/**
 * Batch scoring: resolving a job's model at accept time (the registry, or an MLflow alias),
 * checking the dataset's columns against the model's features, staging jobs/score.py
 * (with the job package's zip as a py-file, as training does) and the run's spec.json, and
 * reading back what score.py wrote:
 *
 *   runs/<jobId>/spec.json      the input, the resolved model, the output format
 *   runs/<jobId>/scored/        one part file (csv with a header, or parquet)
 *   runs/<jobId>/scoring.json   rows, model, task, classes, the output's columns
 */
import { fileURLToPath } from 'node:url'
import type { Dataset } from '../datasets/dataset-schema.js'
import type { Staging, StagingOwner } from '../datasets/staging.js'
import { errors as problems } from '../errors.js'
import {
  MlflowError,
  newestVersion,
  quote,
  type MlflowClient,
  type ModelVersion,
} from '../mlflow/mlflow-client.js'
import type { WebHdfsClient } from '../storage/webhdfs-client.js'
import { registeredModelName } from './mlflow-tracking.js'
import { mlflowCall } from './model-views.js'
import type { ModelRegistry } from './model-registry.js'
import {
  outputFormat,
  parseModelRef,
  type ResolvedModel,
  type ScoringSpec,
} from './scoring-spec.js'
import { stageJobPackage } from './job-package.js'
import { inputOf, type TrainingStager } from './training.js'

export const SCORE_SCRIPT = fileURLToPath(new URL('../../jobs/score.py', import.meta.url))

/** What score.py wrote to scoring.json (the fields the gateway reads). */
export interface ScoringReport extends Record<string, unknown> {
  rows: { scored: number; withoutPrediction?: number }
  output: { uri: string; format: 'csv' | 'parquet'; columns?: string[] }
}

/**
 * When the dataset's columns are known (an uploaded dataset): every feature of the model
 * is one of them, and the format can be scored.
 */
export function checkScoring(features: string[] | undefined, dataset: Dataset): void {
  const columns = dataset.columns?.map((c) => c.name)
  const absent = columns ? (features ?? []).filter((f) => !columns.includes(f)) : []
  if (absent.length > 0)
    throw problems.validation(
      'body.scoring.dataset',
      'column',
      `lacks the model's feature column(s) ${absent.join(', ')}; columns of dataset ${dataset.name}: ${columns!.join(', ')}`,
    )
  if (!['csv', 'json', 'parquet', 'libsvm'].includes(dataset.format))
    throw problems.validation(
      'body.scoring.dataset',
      'format',
      `is a ${dataset.format} dataset; score csv, json, parquet or libsvm`,
    )
}

export class ScoringStager {
  constructor(
    private readonly staging: Staging,
    private readonly hdfs: WebHdfsClient,
    private readonly training: TrainingStager,
  ) {}

  /** The HDFS path of an hdfs:// URI of Sparkgate's file system; undefined for another. */
  pathOf(uri: string): string | undefined {
    const base = this.staging.uri('/')
    return uri.startsWith(base) ? uri.slice(base.length - 1) : undefined
  }

  /** Whether a model URI lies in the tenant's own area (runs/ of its training jobs). */
  inArea(tenant: string, uri: string) {
    return this.pathOf(uri)?.startsWith(`${this.staging.tenantRoot(tenant)}/runs/`) === true
  }

  /** The feature columns of a model (metrics.json beside it); undefined when unknown. */
  async features(modelUri: string): Promise<string[] | undefined> {
    const path = this.pathOf(modelUri.replace(/\/+$/, ''))
    if (!path) return undefined
    const metrics = await this.training.readJson(`${path.replace(/\/[^/]*$/, '')}/metrics.json`)
    const features = metrics?.['features']
    return Array.isArray(features) ? features.map(String) : undefined
  }

  /**
   * Stages score.py and the job package's zip (once per content) and writes runs/<jobId>/spec.json in
   * the owner's area (as its user). Idempotent: a re-entered worker may call it again.
   */
  async stage(
    owner: StagingOwner,
    jobId: string,
    s: ScoringSpec,
    uploaded?: { uri: string; format: string },
  ): Promise<{ script: string; spec: string; pyFiles: string[] }> {
    if (!s.resolved) throw new Error(`job ${jobId}: the model was not resolved`)
    const dir = this.training.runDir(owner.tenant, jobId)
    const spec = {
      jobId,
      input: inputOf(jobId, s.dataset, uploaded),
      model: s.resolved,
      output: { uri: this.staging.uri(dir), format: outputFormat(s) },
    }
    const hdfs = this.hdfs.as(owner.user)
    await hdfs.mkdirs(dir)
    await hdfs.create(`${dir}/spec.json`, JSON.stringify(spec, null, 2), { overwrite: true })
    const script = await this.staging.artifact(SCORE_SCRIPT)
    const pyFiles = [await stageJobPackage(this.staging)]
    return { script, spec: this.staging.uri(`${dir}/spec.json`), pyFiles }
  }

  /** runs/<jobId>/scoring.json, or undefined when it is not there. */
  async report(tenant: string, jobId: string): Promise<ScoringReport | undefined> {
    const path = `${this.training.runDir(tenant, jobId)}/scoring.json`
    return (await this.training.readJson(path)) as ScoringReport | undefined
  }

  /** The one part file score.py wrote under runs/<jobId>/scored/, with its size. */
  async outputFile(tenant: string, jobId: string) {
    const dir = `${this.training.runDir(tenant, jobId)}/scored`
    const part = (await this.hdfs.listStatus(dir)).find(
      (f) => f.type === 'FILE' && f.pathSuffix.startsWith('part-'),
    )
    return part && { path: `${dir}/${part.pathSuffix}`, length: part.length }
  }

  open(path: string) {
    return this.hdfs.open(path)
  }
}

/**
 * Resolves a scoring job's model reference, at accept time, to one version of a model of
 * the caller's tenant, in the registry of record — the one /v1/models shows, so a version
 * number means one model everywhere. With MLflow tracking on, that is MLflow's registered
 * model `<tenant>.<name>`: `name` (its newest version), `name/<version>`, `name@<alias>`;
 * its numbers can differ from the Redis registry's (a job tracked after a later one, when
 * MLflow was down at its success), so Redis is not asked. With tracking off, the Redis
 * registry (`name`, `name/<version>`; an alias is refused).
 */
export class ModelResolver {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly scoring: ScoringStager,
    /** MLflow, when tracking is on */
    private readonly mlflow?: MlflowClient,
  ) {}

  /** The feature columns of a resolved model; undefined when unknown. */
  features(uri: string) {
    return this.scoring.features(uri)
  }

  async resolve(tenant: string, ref: string): Promise<ResolvedModel> {
    const { name, version, alias } = parseModelRef(ref)
    if (alias !== undefined) return this.byAlias(tenant, name, alias)
    if (this.mlflow) return this.inMlflow(this.mlflow, tenant, ref, name, version)
    const versions = await this.registry.versions(tenant, name)
    const found =
      version === undefined ? versions.at(-1) : versions.find((v) => v.version === version)
    if (!found) throw problems.modelNotFound(ref)
    return { name, version: found.version, uri: found.modelUri }
  }

  private async byAlias(tenant: string, name: string, alias: string): Promise<ResolvedModel> {
    if (!this.mlflow)
      throw problems.validation(
        'body.scoring.model',
        'alias',
        `names the alias @${alias}, but MLflow tracking is off (SPARKGATE_MLFLOW_URL=none); name ${name} or ${name}/<version>`,
      )
    const mlflow = this.mlflow
    const found = await this.ask(() =>
      mlflow.getModelVersionByAlias(registeredModelName(tenant, name), alias),
    )
    // a version whose source is not one of this tenant's runs is none of its models
    if (!found || !this.scoring.inArea(tenant, found.source))
      throw problems.modelNotFound(`${name}@${alias}`)
    return { name, version: Number(found.version), uri: found.source, alias }
  }

  /** `name/<version>`, or `name`: the newest version made by one of the tenant's runs. */
  private async inMlflow(
    mlflow: MlflowClient,
    tenant: string,
    ref: string,
    name: string,
    version: number | undefined,
  ): Promise<ResolvedModel> {
    const full = registeredModelName(tenant, name)
    const own = (v: ModelVersion | undefined) =>
      v !== undefined && this.scoring.inArea(tenant, v.source)
    const found =
      version !== undefined
        ? await this.ask(() => mlflow.getModelVersion(full, String(version)))
        : newestVersion(
            (
              (await this.ask(() => mlflow.searchAllModelVersions(`name = ${quote(full)}`))) ?? []
            ).filter(own),
          )
    if (!own(found)) throw problems.modelNotFound(ref)
    return { name, version: Number(found!.version), uri: found!.source }
  }

  /**
   * An MLflow read: a name or version MLflow finds invalid (it has rules of its own) is no
   * model of this tenant — undefined, as one not found; any other fault of the server
   * (down, refused credentials, 5xx) is a 503, as in the models view.
   */
  private async ask<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await mlflowCall(read)
    } catch (error) {
      if (error instanceof MlflowError) return undefined // not_found, invalid
      throw error
    }
  }
}
