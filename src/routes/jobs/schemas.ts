/** Request and response schemas of /v1/jobs. */
import { Type } from 'typebox'
import { JobEventSchema, JobRef, JobStateSchema } from '../../domain/job-schema.js'
import { IdParams, Page, Paging } from '../../schemas/common.js'

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

export { PlotListSchema } from '../../schemas/plots.js'

export const PlotParams = Type.Object({
  id: JobIdParams.properties.id,
  name: Type.String({
    pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$',
    maxLength: 64,
    description: "A plot the job's result lists: roc, pr, calibration, confusion-matrix, …",
  }),
})

/** For the OpenAPI document only (the route sends the PNG's bytes). */
export const PngDoc = {
  description: 'The figure: a 640 × 480 PNG.',
  content: { 'image/png': { schema: { type: 'string', format: 'binary' } } },
}

/** For the OpenAPI document only (the route streams the file). */
export const OutputDoc = {
  description: 'The scored rows: one CSV file with a header, or one parquet file.',
  content: {
    'text/csv': { schema: { type: 'string' } },
    'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
  },
}
