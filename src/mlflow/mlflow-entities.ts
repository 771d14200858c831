/**
 * MLflow's REST entities as its server sends them (snake_case, numbers as strings where
 * MLflow sends strings): experiments, runs, registered models, model versions, metrics.
 * Only the fields Sparkgate reads.
 */

export interface MlflowTag {
  key: string
  value: string
}

export interface Experiment {
  experiment_id: string
  name: string
  lifecycle_stage: string
  artifact_location?: string
  tags?: MlflowTag[]
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED'

export interface RunInfo {
  run_id: string
  experiment_id: string
  run_name?: string
  status: RunStatus
  start_time?: number
  end_time?: number
  artifact_uri: string
  lifecycle_stage: string
}

export interface Run {
  info: RunInfo
  data: {
    metrics?: { key: string; value: number; timestamp: number; step: number }[]
    params?: MlflowTag[]
    tags?: MlflowTag[]
  }
}

export interface RegisteredModel {
  name: string
  tags?: MlflowTag[]
  creation_timestamp?: number
  /** every alias of the model and the version it points at */
  aliases?: { alias: string; version: string }[]
}

export interface ModelVersion {
  name: string
  version: string
  source: string
  run_id?: string
  status?: string
  tags?: MlflowTag[]
  creation_timestamp?: number
  /** only from model-versions/get and registered-models/alias (search leaves it out) */
  aliases?: string[]
}

export interface Metric {
  key: string
  value: number
  timestamp: number
  step: number
}

/** What log-batch takes (MLflow's limits: 1000 metrics, 100 params, 100 tags a call). */
export interface Batch {
  metrics?: Metric[]
  params?: MlflowTag[]
  tags?: MlflowTag[]
}

/** The highest-numbered of some versions (MLflow sends numbers as strings). */
export const newestVersion = (versions: ModelVersion[]): ModelVersion | undefined =>
  versions.reduce<ModelVersion | undefined>(
    (a, v) => (a && Number(a.version) > Number(v.version) ? a : v),
    undefined,
  )
