/**
 * One version of a tenant's model as the API shows it, and the succeeded training run it
 * is made from. The registry knows a run through RunFiles (what the training kind wrote)
 * and the parts of its spec it records (TrainedSpec), never through the job kind itself.
 */
import { Type, type Static } from 'typebox'

/** The parts of a declarative training spec the registries record (params, tags). */
export interface TrainedSpec {
  dataset: string | { uri: string }
  algorithm: string
  modelName?: string
  task?: string
  label?: string
  features?: string[]
  params?: Record<string, unknown>
  split?: { test?: number; seed?: number }
  missing?: object
  standardize?: boolean
  classWeights?: unknown
  crossValidation?: { folds?: number; metric?: string; grid?: Record<string, unknown[]> }
  evaluation?: { folds?: number }
}

/** A training run: its tenant, job and backend (whose store holds its files). */
export interface RunOf {
  tenant: string
  jobId: string
  backend?: string
}

/** What a training run wrote, read where the training kind staged it. */
export interface RunFiles {
  /** runs/<jobId>/metrics.json, or undefined when it is not there */
  metrics(run: RunOf): Promise<Record<string, unknown> | undefined>
  /** the fitted PipelineModel's URI */
  modelUri(run: RunOf): string
  /** runs/<jobId>/plots/<name>.png (a figure metrics.json lists), or undefined */
  plot(run: RunOf, name: string): Promise<Buffer | undefined>
}

export const ModelVersionSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    jobId: Type.String(),
    datasetId: Type.Union([Type.String(), Type.Null()]),
    task: Type.String(),
    algorithm: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
    metrics: Type.Record(Type.String(), Type.Number()),
    modelUri: Type.String({ description: 'The fitted PipelineModel (hdfs://…/model).' }),
    createdAt: Type.String({ format: 'date-time' }),
    runId: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'The MLflow run of the version (null with SPARKGATE_MLFLOW_URL=none).',
      }),
    ),
    dataset: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'What the run trained on: a dataset id, or the URI the spec named.',
      }),
    ),
    aliases: Type.Optional(
      Type.Array(Type.String(), {
        description: 'The aliases pointing at this version (none with tracking off).',
      }),
    ),
  },
  { $id: 'ModelVersion' },
)
export type ModelVersion = Static<typeof ModelVersionSchema>

/** A succeeded training run, as the registry needs it. */
export interface TrainedRun {
  /** whose model it is: model names are per tenant */
  tenant: string
  jobId: string
  /** the backend it ran on: its store holds the run's files */
  backend?: string
  /** the job's name: the model's name when the spec gives none */
  jobName: string
  spec: TrainedSpec
  finishedAt?: string
}

/** One version of a run's model: what a registry keeps of it, and its event's data. */
export function versionRecord(
  run: TrainedRun,
  result: Record<string, unknown>,
  modelUri: string,
  version: number,
): ModelVersion {
  const t = run.spec
  return {
    name: t.modelName ?? run.jobName,
    version,
    jobId: run.jobId,
    datasetId: typeof t.dataset === 'string' ? t.dataset : null,
    task: typeof result['task'] === 'string' ? result['task'] : '',
    algorithm: t.algorithm,
    params: t.params ?? {},
    metrics: (result['metrics'] ?? {}) as Record<string, number>,
    modelUri,
    createdAt: run.finishedAt ?? new Date().toISOString(),
  }
}
