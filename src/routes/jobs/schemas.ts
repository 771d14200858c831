/** Request and response schemas of /v1/jobs. */
import { Type } from 'typebox'
import { JobEventSchema, JobRef, JobStateSchema } from '../../domain/job-schema.js'
import { IdParams, Page, Paging } from '../../schemas/common.js'
import { MlflowRunSchema } from '../../training/mlflow-tracking.js'

export { Problem } from '../../schemas/common.js'

export const JobIdParams = IdParams('job', 'a UUID; any other string names no job (404)')

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Same key + same body → the same job (200); same key + another body → 409.',
    }),
  ),
})

export const ListQuery = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    backend: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tenant: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 63,
        description: 'Platform admin only: one tenant’s jobs (others: ignored).',
      }),
    ),
    ...Paging,
  },
  { additionalProperties: false },
)

export const JobList = Page(JobRef)

export const LogsQuery = Type.Object(
  {
    from: Type.Integer({ minimum: 0, default: 0 }),
    size: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
  },
  { additionalProperties: false },
)

export const LogPage = Type.Object({
  id: Type.String(),
  from: Type.Integer(),
  total: Type.Integer(),
  lines: Type.Array(Type.String()),
  source: Type.Union([Type.Literal('backend'), Type.Literal('stored')], {
    description:
      'backend: read live from the backend; stored: kept by Sparkgate when the job failed',
  }),
})

export const EventList = Type.Object({ items: Type.Array(JobEventSchema) })

export { JobRef }

export const TrainingResult = Type.Object(
  {
    metrics: Type.Record(Type.String(), Type.Number()),
    modelUri: Type.String(),
    modelName: Type.String(),
    modelVersion: Type.Union([Type.Integer(), Type.Null()], {
      description:
        "The model's version as GET /v1/models shows it and a scoring job names it: with MLflow tracking on, the MLflow registry's (null until tracked); with it off, the Redis registry's.",
    }),
    mlflow: Type.Union([MlflowRunSchema, Type.Null()], {
      description: 'The MLflow run and model version, once tracked (null: not yet, or off).',
    }),
  },
  { additionalProperties: true, description: 'metrics.json of the run, plus the model.' },
)

export const ScoringResult = Type.Object(
  {
    rows: Type.Object({
      scored: Type.Integer({ description: 'Rows written: every row of the dataset.' }),
      withoutPrediction: Type.Integer({
        description: 'Rows missing a numeric feature the model does not impute (null prediction).',
      }),
    }),
    outputUri: Type.String({
      description: 'The folder of the one part file (runs/<jobId>/scored).',
    }),
    format: Type.Union([Type.Literal('parquet'), Type.Literal('csv')]),
    columns: Type.Array(Type.String(), {
      description: 'The input columns, then prediction (and probability).',
    }),
    model: Type.Object({
      name: Type.String(),
      version: Type.Integer(),
      alias: Type.Optional(Type.String()),
    }),
    dataset: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], {
      description:
        'The dataset the output file was registered as (where it lies, counted in the quota; dataset://<id> in another job), or null (see datasetNote).',
    }),
    datasetNote: Type.Optional(
      Type.String({
        description:
          'Why dataset is null: not registered yet, over the quota or the size limit, or deleted since.',
      }),
    ),
  },
  { description: 'What jobs/score.py wrote to runs/<jobId>/scoring.json, and its dataset.' },
)

/** For the OpenAPI document only (the route streams the file). */
export const OutputDoc = {
  description: 'The scored rows: one CSV file with a header, or one parquet file.',
  content: {
    'text/csv': { schema: { type: 'string' } },
    'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
  },
}
