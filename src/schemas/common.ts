/**
 * Schemas shared by several resources (the fastify/demo `schemas/common.ts` habit): the
 * problem document, list paging, timestamps, URIs a cluster can read and id patterns.
 * Objects that the OpenAPI document should reference instead of inlining carry a `$id`.
 */
import { Type, type Static } from 'typebox'
import { DependencyStateSchema } from './status.js'

/** RFC 9457 problem details, with Sparkgate's stable `code` and per-field `errors`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the problem kind.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String({ description: 'Stable machine-readable code, e.g. SPARKGATE_VALIDATION.' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({ description: 'Where: body.name, query.limit, header.x, …' }),
          rule: Type.String({ description: 'The rule that failed: minLength, type, …' }),
          message: Type.String(),
        }),
      ),
    ),
    dependencies: Type.Optional(Type.Record(Type.String(), DependencyStateSchema)),
  },
  { $id: 'Problem', additionalProperties: true },
)
export type Problem = Static<typeof ProblemSchema>

/** A reference to the registered Problem schema, for `response: { 4xx: Problem }`. */
export const Problem = Type.Ref('Problem')

export const Timestamp = Type.String({ format: 'date-time' })

/** Where a cluster can read a file from. */
export const ClusterUri = Type.String({
  pattern: '^(hdfs|abfss|wasbs|s3a|gs|file|dataset)://[^\\s]+$',
  maxLength: 2048,
  description:
    'A URI the cluster can read, e.g. hdfs://namenode:8020/path/app.py, or dataset://<id> for an uploaded dataset.',
  examples: ['hdfs://127.0.0.1:8020/sparkgate/artifacts/app.py'],
})

/** Job ids are UUIDs; anything else names no job (404, never a Redis key). */
export const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** Dataset ids are the SHA-256 of the bytes. */
export const DATASET_ID = /^[0-9a-f]{64}$/

/** `{id}` path parameters: shape documented; an id of another shape is a 404. */
export const IdParams = (what: string, shape: string) =>
  Type.Object({
    id: Type.String({ minLength: 1, maxLength: 128, description: `The ${what} id: ${shape}.` }),
  })

/** The paging half of every list query: `limit` and the opaque `cursor`. */
export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(
    Type.String({ maxLength: 200, description: 'nextCursor of the previous page' }),
  ),
}

/** A page of a list: its items, newest first, and the cursor of the next page. */
export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Optional(Type.String({ description: 'Absent on the last page.' })),
  })

/** Milliseconds of a duration written as a number and s, m, h or d (`7d`, `90m`). */
export function durationMs(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text)
  if (!m) throw new Error(`not a duration: ${text}`)
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
  return Number(m[1]) * unit
}
