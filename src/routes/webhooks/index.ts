/**
 * /v1/webhooks: a tenant's webhook subscriptions (Standard Webhooks signing), their
 * deliveries (pending, delivered, dead = the dead-letter queue) and replays.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { checkWebhookUrl } from '../../events/destination.js'
import { publicView, type WebhookRecord } from '../../events/webhook-store.js'
import { Page, Paging, Problem } from '../../schemas/common.js'
import { EventTypeFilter } from '../../schemas/events.js'
import { DELIVERY_STATUSES } from '../../workers/webhook-deliveries.js'
import { auditActor, principalOf } from '../caller.js'

const Webhook = Type.Ref('Webhook')

const WebhookWithSecret = Type.Object({
  webhook: Webhook,
  secret: Type.String({
    description:
      'The signing secret (`whsec_…`), shown this once: verify `webhook-signature` with it.',
  }),
})

const WebhookCreate = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'Where events are POSTed: http or https; private, loopback and link-local addresses are refused (SPARKGATE_WEBHOOK_ALLOW_PRIVATE).',
      examples: ['https://example.com/hooks/sparkgate'],
    }),
    types: Type.Optional(
      Type.Array(EventTypeFilter, {
        maxItems: 50,
        uniqueItems: true,
        description: 'The event types to send (a type ending in `*` is a prefix); none: all.',
      }),
    ),
  },
  { additionalProperties: false },
)

const WebhookPatch = Type.Object(
  {
    url: Type.Optional(WebhookCreate.properties.url),
    types: Type.Optional(WebhookCreate.properties.types),
    status: Type.Optional(
      Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
        description:
          'Disable to pause deliveries (they go to the dead-letter queue); enable again.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
)

const DeliverySchema = Type.Object({
  id: Type.String({ description: 'The event id: the `webhook-id` of every try.' }),
  eventType: Type.String(),
  subject: Type.String(),
  status: Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s))),
  attempts: Type.Integer({ description: 'Tries so far (reset by a replay).' }),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  nextTryAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})

const WebhookParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'The webhook id: `wh_…`.' }),
})
const DeliveryParams = Type.Object({
  id: WebhookParams.properties.id,
  deliveryId: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The delivery (event) id.',
  }),
})

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const store = app.webhooks
  const deliveries = app.webhookDeliveries
  const allowPrivate = app.config.SPARKGATE_WEBHOOK_ALLOW_PRIVATE
  const read = { access: 'read' } as const
  const write = { access: 'write' } as const

  const checkedUrl = (url: string) => {
    const check = checkWebhookUrl(url, { allowPrivate })
    if (!check.ok) throw errors.validation('body.url', check.rule, check.message)
    return check.url.href
  }
  const audit = (request: FastifyRequest, action: string, hook: WebhookRecord) =>
    app.audit.record({
      ...auditActor(request),
      action,
      target: `tenant/${hook.tenant}/webhook/${hook.id}`,
      tenant: hook.tenant,
    })
  const mustFind = async (tenant: string, id: string): Promise<WebhookRecord> => {
    const hook = await store.find(tenant, id)
    if (!hook) throw errors.webhookNotFound(id)
    return hook
  }

  app.post(
    '',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to the tenant’s events; the signing secret is shown once',
        description:
          'Each event is POSTed as a CloudEvent (structured mode, `application/cloudevents+json`) with the Standard Webhooks headers `webhook-id` (the event id, the same on every try), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`). 2xx = delivered; anything else or no answer within SPARKGATE_WEBHOOK_TIMEOUT_MS is tried again with exponential backoff and jitter, up to SPARKGATE_WEBHOOK_MAX_ATTEMPTS, then the delivery is dead (replayable). A 410 disables the webhook. Redirects are not followed. A job’s events arrive in order.',
        body: WebhookCreate,
        response: { 201: WebhookWithSecret, 400: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      const tenant = principalOf(request).tenant
      const url = checkedUrl(request.body.url)
      const hook = await store.create(tenant, url, request.body.types ?? [])
      await audit(request, 'webhook.create', hook)
      reply.code(201).header('location', `/v1/webhooks/${hook.id}`)
      return { webhook: publicView(hook), secret: hook.secret }
    },
  )

  app.get(
    '',
    {
      config: read,
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhooks',
        summary: "The tenant's webhooks (no secrets)",
        response: { 200: Type.Object({ items: Type.Array(Webhook) }) },
      },
    },
    async (request) => ({
      items: (await store.list(principalOf(request).tenant)).map(publicView),
    }),
  )

  app.get(
    '/:id',
    {
      config: read,
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhook',
        summary: 'One webhook (no secret)',
        params: WebhookParams,
        response: { 200: Webhook, 404: Problem },
      },
    },
    async (request) => publicView(await mustFind(principalOf(request).tenant, request.params.id)),
  )

  app.patch(
    '/:id',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change its URL or types, or disable / enable it',
        params: WebhookParams,
        body: WebhookPatch,
        response: { 200: Webhook, 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const hook = await mustFind(principalOf(request).tenant, request.params.id)
      const { url, types, status } = request.body
      const next = await store.update(hook, {
        ...(url !== undefined ? { url: checkedUrl(url) } : {}),
        ...(types !== undefined ? { types } : {}),
        ...(status !== undefined
          ? {
              status,
              ...(status === 'disabled' ? { disabledReason: 'disabled by its owner' } : {}),
            }
          : {}),
      })
      await audit(request, 'webhook.update', hook)
      return publicView(next)
    },
  )

  app.delete(
    '/:id',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Delete it and every delivery it has',
        params: WebhookParams,
        response: { 204: Type.Null(), 404: Problem },
      },
    },
    async (request, reply) => {
      const hook = await mustFind(principalOf(request).tenant, request.params.id)
      await store.delete(hook)
      await deliveries.remove(hook.id)
      await audit(request, 'webhook.delete', hook)
      reply.code(204)
    },
  )

  app.post(
    '/:id/rotate-secret',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: 'A new signing secret, shown once; the old one still signs for 24 hours',
        description:
          'For 24 hours each delivery carries two signatures (`v1,<new> v1,<old>`), so receivers can switch without missing one.',
        params: WebhookParams,
        response: { 200: WebhookWithSecret, 404: Problem },
      },
    },
    async (request) => {
      const hook = await store.rotate(
        await mustFind(principalOf(request).tenant, request.params.id),
      )
      await audit(request, 'webhook.rotate-secret', hook)
      return { webhook: publicView(hook), secret: hook.secret }
    },
  )

  app.get(
    '/:id/deliveries',
    {
      config: read,
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookDeliveries',
        summary: 'Its deliveries in one status, newest first: pending, delivered or dead (the DLQ)',
        params: WebhookParams,
        querystring: Type.Object(
          {
            status: Type.Union(
              DELIVERY_STATUSES.map((s) => Type.Literal(s)),
              {
                default: 'pending',
              },
            ),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(DeliverySchema), 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const hook = await mustFind(principalOf(request).tenant, request.params.id)
      const { status, limit, cursor } = request.query
      return deliveries.list(hook.id, status, limit, cursor)
    },
  )

  app.post(
    '/:id/deliveries/:deliveryId/replay',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'replayWebhookDelivery',
        summary: 'Send a dead (or delivered) delivery again, with the same webhook-id',
        params: DeliveryParams,
        response: { 202: DeliverySchema, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const hook = await mustFind(principalOf(request).tenant, request.params.id)
      const result = await deliveries.replay(hook.id, request.params.deliveryId)
      if (result === undefined) throw errors.deliveryNotFound(request.params.deliveryId)
      if (result === 'pending') throw errors.deliveryPending(request.params.deliveryId)
      reply.code(202)
      return result
    },
  )

  app.post(
    '/:id/replay',
    {
      config: write,
      schema: {
        tags: ['webhooks'],
        operationId: 'replayWebhookDeadLetters',
        summary: 'Send every dead delivery again (oldest first), with their webhook-ids',
        params: WebhookParams,
        response: { 202: Type.Object({ replayed: Type.Integer() }), 404: Problem },
      },
    },
    async (request, reply) => {
      const hook = await mustFind(principalOf(request).tenant, request.params.id)
      const replayed = await deliveries.replayDead(hook.id)
      await audit(request, 'webhook.replay', hook)
      reply.code(202)
      return { replayed }
    },
  )
}
