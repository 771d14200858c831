/**
 * TypeBox schemas of a job: what a client sends (JobSpec) and what Sparkgate shows (Job).
 * They drive request validation, the TypeScript types and the OpenAPI document.
 */
import { Type, type Static } from 'typebox'
import { ClusterUri, Timestamp } from '../schemas/common.js'
import { ScoringSpecSchema, type ScoringSpec } from '../training/scoring-spec.js'
import { TrainingSpecSchema, type TrainingSpec } from '../training/training-spec.js'
import { JOB_STATES, type JobState } from './job-state.js'

const MEMORY = '^[1-9][0-9]{0,6}[kKmMgGtT]?$'
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
    scoring: Type.Optional(ScoringSpecSchema),
  },
  {
    $id: 'JobSpec',
    additionalProperties: false,
    description:
      'Exactly one of batch (your own Spark code), training (declarative MLlib) or scoring (a trained model on a dataset).',
  },
)
export type JobSpec = Static<typeof JobSpecSchema>
/** JobSpec by reference: registered once (src/plugins/swagger.ts), named in OpenAPI. */
export const JobSpecRef = Type.Unsafe<JobSpec>(Type.Ref('JobSpec'))
export type BatchSpec = Static<typeof BatchSpecSchema>
export type { ScoringSpec, TrainingSpec }

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

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String({ description: 'The tenant the job belongs to.' }),
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
    spec: JobSpecRef,
  },
  { $id: 'Job' },
)
export type Job = Static<typeof JobSchema>
/** Job by reference: registered once (src/plugins/swagger.ts), named in OpenAPI. */
export const JobRef = Type.Unsafe<Job>(Type.Ref('Job'))

/**
 * What the gateway keeps of a job beside its public record and never shows: where the
 * submit worker staged a training job's files, and the format of its dataset.
 */
export interface JobInternals {
  /** hdfs:// URI of the staged train.py (score.py for a scoring job) */
  trainScript?: string
  /** hdfs:// URI of the run's spec.json */
  trainSpec?: string
  /** py-files of the staged script (the zip of the sparkgate_jobs package it imports) */
  trainPyFiles?: string[]
  /** the format of the uploaded dataset a training or scoring job reads */
  datasetFormat?: string
  /** the user Spark runs as (Livy proxyUser) and the job's files are staged as */
  clusterUser?: string
  /**
   * Why Sparkgate is killing the batch, recorded before the kill (a cancel records
   * `cancelRequested`): a crash between the kill and the record then ends the job as
   * intended — never BACKEND_LOST, never a second run.
   */
  killReason?: 'timeout'
}

/** A job as the store holds it: the public record plus its internals. */
export type JobRecord = Job & { internals?: JobInternals }

export const JobEventSchema = Type.Object({
  at: Timestamp,
  from: Type.Union([JobStateSchema, Type.Null()]),
  to: JobStateSchema,
  reason: Type.Optional(Type.String()),
})
export type JobEvent = Static<typeof JobEventSchema>
