/**
 * TypeBox schemas of a job: what a client sends (JobSpec) and what Sparkgate shows (Job).
 * They drive request validation, the TypeScript types and the OpenAPI document.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { Timestamp } from '../schemas/common.js'
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

/** What every job has, whatever its kind: its name, backend, priority, attempts, resources. */
export const JobSpecCoreSchema = Type.Object({
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
  engine: Type.Optional(
    Type.Unsafe<'auto' | 'warm' | 'cold'>({
      type: 'string',
      enum: ['auto', 'warm', 'cold'],
      description:
        "Training and scoring only: auto (the default) runs in one of the tenant's warm engines when it has one, else cold; warm waits for one (starting it); cold never uses one. A batch job always runs cold.",
    }),
  ),
  queue: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        "The YARN queue to run in: one of the tenant's policy yarnQueues (GET /v1/me); default its first. Backends without YARN queues ignore it.",
    }),
  ),
})

/** A job kind's part of JobSpec: its field and the schema of its spec. */
export interface KindSpec {
  name: string
  summary: string
  specSchema: TSchema
}

/**
 * JobSpec: the core's fields and one optional field per job kind (src/kinds/registry.ts),
 * exactly one of which a request carries. Built once at boot from the kinds.
 */
export function jobSpecSchema(kinds: readonly KindSpec[]) {
  const names = kinds.map((k) => k.summary)
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]
  return Type.Object(
    {
      ...JobSpecCoreSchema.properties,
      ...Object.fromEntries(kinds.map((k) => [k.name, Type.Optional(k.specSchema)])),
    },
    {
      $id: 'JobSpec',
      additionalProperties: false,
      description: `Exactly one of ${list}.`,
    },
  )
}

/** A job spec: the core's fields, and its kind's spec under the kind's name. */
export type JobSpec = Static<typeof JobSpecCoreSchema> & { [kind: string]: unknown }
/** JobSpec by reference: registered once (src/plugins/swagger.ts), named in OpenAPI. */
export const JobSpecRef = Type.Unsafe<JobSpec>(Type.Ref('JobSpec'))

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
  engine: Type.Optional(
    Type.String({
      description:
        'The warm engine that ran the job (GET /v1/engines/{id}); batchId is then "engine".',
    }),
  ),
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
    queue: Type.Optional(
      Type.String({
        description: 'The YARN queue the job runs in (its spec’s, or the policy’s first).',
      }),
    ),
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
 * What the gateway keeps of a job beside its public record and never shows: the core's
 * own fields, and whatever its kind keeps (where it staged the job's files, say).
 */
export interface JobInternals extends Record<string, unknown> {
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
