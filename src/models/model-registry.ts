/**
 * The model registry port: the one registry of record of a gateway, chosen once at boot
 * (src/models/create-model-registry.ts). With MLflow tracking on, it is MLflow's model
 * registry (MlflowModels); with it off (SPARKGATE_MLFLOW_URL=none), Sparkgate's own in
 * Redis (RedisModels). Routes (/v1/models), the scoring kind (resolving a model) and the
 * training kind (recording a succeeded run, through the tracker) talk to this port only,
 * so one version number means one model everywhere.
 */
import { Type, type Static } from 'typebox'
import type { MlflowRun } from './mlflow-tracking.js'
import type { ResolvedModel } from './model-ref.js'
import type { ModelVersion, TrainedRun } from './model-version.js'

/** MLflow keeps these alias names for itself (`latest`, `v1`, `V12`, …), in any case. */
export const RESERVED_ALIAS = /^(latest|v\d+)$/i

/** alias → version number */
export const AliasesSchema = Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
  description: 'Alias → the version it points at (empty with SPARKGATE_MLFLOW_URL=none).',
})
export type Aliases = Static<typeof AliasesSchema>

/** A version by reference (ModelVersion is registered once, named in OpenAPI). */
const VersionRef = Type.Unsafe<ModelVersion>(Type.Ref('ModelVersion'))

/** One model of a tenant: every version, oldest first, and its aliases. */
export const ModelViewSchema = Type.Object({
  name: Type.String(),
  versions: Type.Array(VersionRef),
  aliases: AliasesSchema,
})
export type ModelView = Static<typeof ModelViewSchema>

/** A model in the tenant's list: its number of versions and its latest. */
export const ModelSummarySchema = Type.Object({
  name: Type.String(),
  versions: Type.Integer(),
  latest: VersionRef,
  aliases: AliasesSchema,
})
export type ModelSummary = Static<typeof ModelSummarySchema>

/** Where a job's run went in the registry of record. */
export interface RecordedRun {
  /** the version number the registry of record gave it; null until recorded */
  modelVersion: number | null
  /** its MLflow run and version, with tracking on; null otherwise or until tracked */
  mlflow: MlflowRun | null
}

export interface ModelRegistry {
  /** the registry's name: mlflow or redis */
  readonly kind: 'mlflow' | 'redis'
  /**
   * Records a succeeded training run as a version of its model (again: a no-op). Its
   * version in Sparkgate's own registry, or undefined when there is nothing to record yet
   * (no metrics.json). A fault of the registry of record throws after what could be done.
   */
  record(run: TrainedRun): Promise<number | undefined>
  /** Of these (succeeded training) job ids, those whose recording is not complete. */
  unrecorded(jobIds: string[]): Promise<string[]>
  /** Where a job's run went (null fields: not yet). */
  recordOf(jobId: string): Promise<RecordedRun>
  /** Every model name of a tenant (sorted) with its number of versions and latest version. */
  list(tenant: string): Promise<ModelSummary[]>
  /** Every version of one model, oldest first, and its aliases (404: no such model). */
  get(tenant: string, name: string): Promise<ModelView>
  /** Points `alias` at a version of the tenant's model; the model after. */
  setAlias(tenant: string, name: string, alias: string, version: number): Promise<ModelView>
  deleteAlias(tenant: string, name: string, alias: string): Promise<void>
  deleteVersion(tenant: string, name: string, version: number): Promise<void>
  /**
   * Resolves a model reference (`name`, `name/<version>`, `name@<alias>`) to one version
   * of a model of the tenant (404 when none); `field` names it in a 400.
   */
  resolve(tenant: string, ref: string, field: string): Promise<ResolvedModel>
}
