/**
 * The events Sparkgate publishes: CloudEvents 1.0 (https://cloudevents.io), one per job
 * transition, dataset created or deleted and model version registered. The same event
 * is read from `GET /v1/events`, streamed over SSE, POSTed to webhooks (structured mode)
 * and produced to Kafka (binary mode). Its `data` schema depends on `type`:
 *
 *   dev.sparkgate.job.<state>                JobEventData   subject: the job id
 *   dev.sparkgate.dataset.created|deleted    Dataset        subject: the dataset id
 *   dev.sparkgate.model.version.registered   ModelVersion   subject: the model name
 *
 * The envelope is built here, once, by every writer; the Lua script that records the
 * change appends it to the tenant's stream in the same step (so an event exists if and
 * only if its change does).
 */
import { randomUUID } from 'node:crypto'
import { Type, type Static } from 'typebox'

export const EVENT_TYPE_PREFIX = 'dev.sparkgate.'

export const EVENT_TYPES = [
  'dev.sparkgate.job.queued',
  'dev.sparkgate.job.staging',
  'dev.sparkgate.job.submitting',
  'dev.sparkgate.job.submitted',
  'dev.sparkgate.job.running',
  'dev.sparkgate.job.succeeded',
  'dev.sparkgate.job.failed',
  'dev.sparkgate.job.cancelled',
  'dev.sparkgate.dataset.created',
  'dev.sparkgate.dataset.deleted',
  'dev.sparkgate.model.version.registered',
  'dev.sparkgate.engine.starting',
  'dev.sparkgate.engine.ready',
  'dev.sparkgate.engine.stopping',
  'dev.sparkgate.engine.stopped',
  'dev.sparkgate.engine.failed',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** A type filter: exact types, or `prefix.*` (`dev.sparkgate.job.*`). */
export const EventTypeFilter = Type.String({
  pattern: '^dev\\.sparkgate\\.[a-z.]*[a-z*]$',
  maxLength: 100,
  description:
    'An event type (`dev.sparkgate.job.succeeded`) or a prefix ending in `*` (`dev.sparkgate.job.*`).',
})

export const JobEventDataSchema = Type.Object(
  {
    jobId: Type.String(),
    name: Type.String(),
    state: Type.String({ description: 'The state the job entered.' }),
    previousState: Type.Union([Type.String(), Type.Null()], {
      description: 'The state it left (null for the first event, `queued` when accepted).',
    }),
    reason: Type.Union([Type.String(), Type.Null()]),
    attempt: Type.Integer({ description: 'Submissions so far (0 until the first).' }),
    backend: Type.String(),
    backendRef: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: "Where the job runs on its backend (the backend's id for it, URLs).",
    }),
    error: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: 'Why the job failed: `{code, message, …}`; null when it has not.',
    }),
    sequence: Type.Integer({
      minimum: 0,
      description: "This event's place in the job's history (0 = accepted); consumers order by it.",
    }),
  },
  { $id: 'JobEventData', additionalProperties: false },
)
export type JobEventData = Static<typeof JobEventDataSchema>

export const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({
      description:
        'Unique per event and stable: the same in every delivery of it (webhook-id, ce_id).',
    }),
    source: Type.String({ description: '`/sparkgate/<tenant>`' }),
    type: Type.String({
      description:
        '`dev.sparkgate.job.<state>` (data: JobEventData), `dev.sparkgate.dataset.created|deleted` (data: Dataset), `dev.sparkgate.model.version.registered` (data: ModelVersion), `dev.sparkgate.engine.starting|ready|stopping|stopped|failed` (data: Engine).',
      examples: ['dev.sparkgate.job.succeeded'],
    }),
    subject: Type.String({ description: 'The job id, dataset id, model name or engine id.' }),
    time: Type.String({ format: 'date-time' }),
    datacontenttype: Type.Literal('application/json'),
    tenant: Type.String({ description: 'Extension: the tenant the event belongs to.' }),
    data: Type.Union([
      Type.Ref('JobEventData'),
      Type.Ref('Dataset'),
      Type.Ref('ModelVersion'),
      Type.Ref('Engine'),
    ]),
  },
  { $id: 'CloudEvent', additionalProperties: false },
)

export interface CloudEvent<D = unknown> {
  specversion: '1.0'
  id: string
  source: string
  type: string
  subject: string
  time: string
  datacontenttype: 'application/json'
  tenant: string
  data: D
}

/** The envelope of a new event, without its data (the writer or its Lua script adds it). */
export function eventEnvelope(
  tenant: string,
  type: EventType,
  subject: string,
  time: string = new Date().toISOString(),
): Omit<CloudEvent, 'data'> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `/sparkgate/${tenant}`,
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    tenant,
  }
}

export function jobEventType(state: string): EventType {
  return `dev.sparkgate.job.${state}` as EventType
}

/** Whether `type` passes a filter list (exact types or `prefix.*`); an empty list passes all. */
export function typeMatches(filters: readonly string[] | undefined, type: string): boolean {
  if (!filters || filters.length === 0) return true
  return filters.some((f) => (f.endsWith('*') ? type.startsWith(f.slice(0, -1)) : f === type))
}

/**
 * An event in its tenant's log: its place there (the stream id, "<ms>-<n>") and the event.
 * Defined here, below the log (events/) and its consumers (webhooks/), so that both speak it.
 */
export interface StoredEvent {
  /** the stream id */
  position: string
  event: CloudEvent
}

/**
 * An event as the stream holds it (one field `ce`, JSON as the Lua script wrote it) back
 * to a CloudEvent with its attributes in the spec's order.
 */
export function parseStoredEvent(json: string): CloudEvent {
  const e = JSON.parse(json) as CloudEvent
  return {
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject,
    time: e.time,
    datacontenttype: 'application/json',
    tenant: e.tenant,
    data: e.data,
  }
}
