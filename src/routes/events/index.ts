/**
 * /v1/events: the caller's tenant's event log, oldest first, as JSON pages or — with
 * `Accept: text/event-stream` — as a live stream. The platform admin reads any tenant's
 * with `?tenant=`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { STREAM_ID } from '../../events/event-log.js'
import { streamTenantEvents } from '../../events/sse.js'
import { errors } from '../../errors.js'
import { Problem } from '../../schemas/common.js'
import { TENANT_ID } from '../../tenancy/tenant-schema.js'
import { principalOf } from '../caller.js'

const TYPE = 'dev\\.sparkgate\\.[a-z.]*[a-z*]'

const EventQuery = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        pattern: `^${TYPE}(,${TYPE})*$`,
        maxLength: 500,
        description:
          'Comma-separated event types; a type ending in `*` is a prefix (`dev.sparkgate.job.*`).',
        examples: ['dev.sparkgate.job.succeeded,dev.sparkgate.job.failed'],
      }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'A job id, dataset id or model name.',
      }),
    ),
    since: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only events at or after this time.' }),
    ),
    cursor: Type.Optional(
      Type.String({
        pattern: STREAM_ID.source,
        description: 'Only events after this position: `nextCursor` of an earlier page.',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    tenant: Type.Optional(
      Type.String({
        pattern: TENANT_ID.source,
        description: "Platform admin only: read this tenant's log (default: the caller's own).",
      }),
    ),
  },
  { additionalProperties: false },
)

const EventPage = Type.Object({
  items: Type.Array(Type.Ref('CloudEvent')),
  nextCursor: Type.Optional(
    Type.String({
      description:
        'The position after the last event scanned: ask with it for what comes next (also after an empty page, when polling).',
    }),
  ),
})

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['events'],
        operationId: 'listEvents',
        summary: "The tenant's events (CloudEvents 1.0), oldest first — or a live stream of them",
        description:
          "Every job transition, dataset created or deleted and model version registered, kept for `SPARKGATE_EVENTS_RETENTION`. JSON pages by default, from `since` or after `cursor`. With `Accept: text/event-stream`: Server-Sent Events — each event's `event` is its type, `id` its position and `data` the CloudEvent; `Last-Event-ID` (or `since`) replays what was missed, otherwise the stream starts now. Filters apply to both.",
        querystring: EventQuery,
        response: { 200: EventPage, 400: Problem, 403: Problem, 429: Problem },
      },
    },
    async (request, reply) => {
      const { tenant: asked, type, subject, since, cursor, limit } = request.query
      const principal = principalOf(request)
      if (asked !== undefined && asked !== principal.tenant && principal.role !== 'admin')
        throw errors.forbidden(principal.role, 'admin')
      const tenant = asked ?? principal.tenant
      const types = type?.split(',')
      if (request.headers.accept?.includes('text/event-stream')) {
        const give = app.sseStreams.take(principal.tenant)
        const last = request.headers['last-event-id']
        reply.hijack()
        try {
          return await streamTenantEvents({
            streams: app.sseStreams,
            hub: app.eventHub,
            log: app.eventLog,
            tenant,
            query: { types, subject, since },
            lastEventId: typeof last === 'string' && STREAM_ID.test(last) ? last : cursor,
            res: reply.raw,
            requestId: String(request.id),
          })
        } finally {
          give()
        }
      }
      const page = await app.eventLog.read(tenant, { types, subject, since, after: cursor, limit })
      return {
        items: page.items.map((e) => e.event),
        ...(page.next ? { nextCursor: page.next } : {}),
      }
    },
  )
}
