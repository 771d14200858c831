/**
 * TypeBox schemas of a job: what a client sends (JobSpec) and what Sparkgate shows (Job).
 * They drive request validation, the TypeScript types and the OpenAPI document.
 */
import { Type, type Static } from 'typebox'
import { ALGORITHM_NAMES } from '../training/algorithms.js'
import { JOB_STATES, type JobState } from './job-state.js'

const MEMORY = '^[1-9][0-9]{0,6}[kKmMgGtT]?$'
/** Where a cluster can read a file from. */
const ClusterUri = Type.String({
  pattern: '^(hdfs|abfss|wasbs|s3a|gs|file|dataset)://[^\\s]+$',
  maxLength: 2048,
  description:
    'A URI the cluster can read, e.g. hdfs://namenode:8020/path/app.py, or dataset://<id> for an uploaded dataset.',
  examples: ['hdfs://127.0.0.1:8020/sparkgate/artifacts/app.py'],
})

export const ResourcesSchema = Type.Object(
  {
    driverMemory: Type.Optional(Type.String({ pattern: MEMORY, description: 'e.g. 1g, 512m' })),
    driverCores: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    executorMemory: Type.Optional(Type.String({ pattern: MEMORY, description: 'e.g. 2g' })),
    executorCores: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    numExecutors: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
)

export const BatchSpecSchema = Type.Object(
  {
    file: ClusterUri,
    className: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*$',
        maxLength: 512,
      }),
    ),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 1000 })),
    pyFiles: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    jars: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    files: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    conf: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        propertyNames: { pattern: '^spark\\.[A-Za-z0-9_.-]+$', maxLength: 256 },
        additionalProperties: { type: 'string', maxLength: 8192 },
        maxProperties: 500,
        description: 'Spark configuration; keys must start with spark.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Run your own PySpark file or jar.' },
)

const ColumnName = Type.String({ minLength: 1, maxLength: 256 })

export const TrainingSpecSchema = Type.Object(
  {
    dataset: Type.Union(
      [
        Type.String({ pattern: '^[0-9a-f]{64}$', description: 'An uploaded dataset id.' }),
        Type.Object(
          {
            uri: ClusterUri,
            format: Type.Unsafe<'csv' | 'parquet' | 'json' | 'libsvm'>({
              type: 'string',
              enum: ['csv', 'parquet', 'json', 'libsvm'],
            }),
            header: Type.Optional(Type.Boolean({ description: 'CSV: first line is a header.' })),
            separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'A dataset id, or { uri, format } for data already on the cluster.' },
    ),
    label: Type.Optional({
      ...ColumnName,
      description: 'The label column (not for clustering).',
    }),
    features: Type.Optional(
      Type.Array(ColumnName, {
        minItems: 1,
        maxItems: 10_000,
        description: 'Feature columns; default: every column but the label.',
      }),
    ),
    task: Type.Optional(
      Type.Unsafe<'classification' | 'regression' | 'clustering'>({
        type: 'string',
        enum: ['classification', 'regression', 'clustering'],
        description: 'Inferred from the algorithm when omitted.',
      }),
    ),
    algorithm: Type.Unsafe<string>({
      type: 'string',
      enum: ALGORITHM_NAMES,
      description: 'The MLlib estimator.',
    }),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The estimator's params by MLlib name; checked against an allow-list.",
      }),
    ),
    split: Type.Optional(
      Type.Object(
        {
          test: Type.Number({ exclusiveMinimum: 0, maximum: 0.9, default: 0.2 }),
          seed: Type.Integer({ minimum: 0, default: 42 }),
        },
        { additionalProperties: false },
      ),
    ),
    crossValidation: Type.Optional(
      Type.Object(
        {
          folds: Type.Integer({ minimum: 2, maximum: 20, default: 3 }),
          grid: Type.Record(
            Type.String(),
            Type.Array(Type.Unknown(), { minItems: 1, maxItems: 20 }),
            {
              description: 'Param name → values to try.',
            },
          ),
          metric: Type.Optional(
            Type.Unsafe<string>({
              type: 'string',
              enum: [
                'accuracy',
                'f1',
                'weightedPrecision',
                'weightedRecall',
                'areaUnderROC',
                'areaUnderPR',
                'rmse',
                'mae',
                'r2',
                'silhouette',
              ],
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    modelName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'Registry name of the model; default: the job name.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Declarative MLlib training (jobs/train.py).' },
)

export const JobSpecSchema = Type.Object(
  {
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$' }),
    ),
    backend: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'A configured backend; default from config.',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10, default: 5, description: '1 is the highest.' }),
    ),
    maxAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10,
        default: 1,
        description: 'How many times a failed Spark application is run in all.',
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 7 * 24 * 3600,
        description: 'Kill the application and fail the job (code TIMEOUT) after this long.',
      }),
    ),
    resources: Type.Optional(ResourcesSchema),
    batch: Type.Optional(BatchSpecSchema),
    training: Type.Optional(TrainingSpecSchema),
  },
  {
    additionalProperties: false,
    description: 'Exactly one of batch (your own Spark code) or training (declarative MLlib).',
  },
)
export type JobSpec = Static<typeof JobSpecSchema>
export type TrainingSpec = Static<typeof TrainingSpecSchema>
export type BatchSpec = Static<typeof BatchSpecSchema>

export const JobStateSchema = Type.Unsafe<JobState>({
  type: 'string',
  enum: [...JOB_STATES],
  description: 'queued, staging, submitting, submitted, running, succeeded, failed, cancelled',
})

export const BackendRefSchema = Type.Object({
  batchId: Type.String({ description: "The backend's id of the batch (Livy batch id)." }),
  batchName: Type.String({ description: 'The name the batch was submitted under.' }),
  appId: Type.Optional(Type.String()),
  driverLogUrl: Type.Optional(Type.String()),
  sparkUiUrl: Type.Optional(Type.String()),
})
export type BackendRef = Static<typeof BackendRefSchema>

export const JobErrorSchema = Type.Object({
  code: Type.String({
    description: 'SPARK_APP_FAILED, BACKEND_REJECTED, TIMEOUT, BACKEND_LOST, …',
  }),
  message: Type.String(),
  logLines: Type.Array(Type.String(), { description: 'The last lines of the application log.' }),
})
export type JobError = Static<typeof JobErrorSchema>

const Timestamp = Type.String({ format: 'date-time' })

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: JobStateSchema,
    backend: Type.String(),
    backendState: Type.Union([Type.String(), Type.Null()], {
      description: "The backend's raw state.",
    }),
    attempts: Type.Integer({ description: 'Spark applications started so far.' }),
    maxAttempts: Type.Integer(),
    priority: Type.Integer(),
    timeoutSeconds: Type.Optional(Type.Integer()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    submittedAt: Type.Optional(Timestamp),
    startedAt: Type.Optional(Timestamp),
    finishedAt: Type.Optional(Timestamp),
    cancelRequested: Type.Optional(Type.Boolean()),
    backendRef: Type.Optional(BackendRefSchema),
    error: Type.Optional(JobErrorSchema),
    inputs: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Each dataset:// reference of the spec and the hdfs:// URI it runs with.',
      }),
    ),
    spec: JobSpecSchema,
  },
  {},
)
export type Job = Static<typeof JobSchema>

export const JobEventSchema = Type.Object({
  at: Timestamp,
  from: Type.Union([JobStateSchema, Type.Null()]),
  to: JobStateSchema,
  reason: Type.Optional(Type.String()),
})
export type JobEvent = Static<typeof JobEventSchema>
