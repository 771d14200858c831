/**
 * The shapes of webhooks as the API shows them: a webhook (without its secrets) and one
 * delivery. Each schema is the only definition of its shape: the routes validate and
 * document with it, and the TypeScript type is its `Static<>`.
 */
import { Type, type Static } from 'typebox'

export const WebhookSchema = Type.Object(
  {
    id: Type.String({ description: '`wh_` and 32 hex digits.' }),
    tenant: Type.String(),
    url: Type.String(),
    types: Type.Array(Type.String(), {
      description: 'The event types it gets (a type ending in `*` is a prefix); empty: all.',
    }),
    status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    disabledReason: Type.Optional(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    secretRotatedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { $id: 'Webhook' },
)
export type Webhook = Static<typeof WebhookSchema>

/** pending: queued or being retried; delivered: a 2xx came back; dead: the dead-letter queue. */
export const DeliveryStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('dead'),
])
export type DeliveryStatus = Static<typeof DeliveryStatusSchema>

/** One event on its way to one webhook, with the outcome of its last try. */
export const DeliverySchema = Type.Object({
  id: Type.String({ description: 'The event id: the `webhook-id` of every try.' }),
  eventType: Type.String(),
  subject: Type.String(),
  status: DeliveryStatusSchema,
  attempts: Type.Integer({ description: 'Tries so far (reset by a replay).' }),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  nextTryAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})
export type Delivery = Static<typeof DeliverySchema>
