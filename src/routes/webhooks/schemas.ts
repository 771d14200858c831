/**
 * The request and reply schemas of /v1/webhooks. The shapes of a webhook and a delivery
 * are webhooks/schemas.ts (the store and the queue speak them too); these are HTTP's own.
 */
import { Type } from 'typebox'
import { DeliveryStatusSchema } from '../../webhooks/schemas.js'
import { Paging } from '../../schemas/common.js'
import { EventTypeFilter } from '../../schemas/events.js'

/** The registered Webhook schema (webhooks/schemas.ts), by $ref. */
export const WebhookRef = Type.Ref('Webhook')

export const WebhookWithSecret = Type.Object({
  webhook: WebhookRef,
  secret: Type.String({
    description:
      'The signing secret (`whsec_…`), shown this once: verify `webhook-signature` with it.',
  }),
})

export const WebhookCreate = Type.Object(
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

export const WebhookPatch = Type.Object(
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

export const WebhookParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'The webhook id: `wh_…`.' }),
})
export const DeliveryParams = Type.Object({
  id: WebhookParams.properties.id,
  deliveryId: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The delivery (event) id.',
  }),
})

export const DeliveryQuery = Type.Object(
  {
    status: Type.Union(DeliveryStatusSchema.anyOf, { default: 'pending' }),
    ...Paging,
  },
  { additionalProperties: false },
)
