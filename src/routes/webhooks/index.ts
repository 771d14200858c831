/**
 * /v1/webhooks: a tenant's webhook subscriptions (Standard Webhooks signing), their
 * deliveries (pending, delivered, dead = the dead-letter queue) and replays.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { Page, Problem } from '../../schemas/common.js'
import { DeliverySchema, type Webhook } from '../../webhooks/schemas.js'
import { publicView } from '../../webhooks/webhook-store.js'
import { principalOf, recordAudit } from '../caller.js'
import {
  DeliveryParams,
  DeliveryQuery,
  WebhookCreate,
  WebhookParams,
  WebhookPatch,
  WebhookRef,
  WebhookWithSecret,
} from './schemas.js'

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.webhookService
  const read = { access: 'read' } as const
  const write = { access: 'write' } as const
  const mine = (request: FastifyRequest) => principalOf(request).tenant
  const audit = (request: FastifyRequest, action: string, hook: Webhook) =>
    recordAudit(request, action, `tenant/${hook.tenant}/webhook/${hook.id}`, hook.tenant)

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
      const hook = await service.create(mine(request), request.body.url, request.body.types ?? [])
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
        response: { 200: Type.Object({ items: Type.Array(WebhookRef) }) },
      },
    },
    async (request) => ({ items: (await service.list(mine(request))).map(publicView) }),
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
        response: { 200: WebhookRef, 404: Problem },
      },
    },
    async (request) => publicView(await service.get(mine(request), request.params.id)),
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
        response: { 200: WebhookRef, 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const next = await service.update(mine(request), request.params.id, request.body)
      await audit(request, 'webhook.update', next)
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
      const hook = await service.delete(mine(request), request.params.id)
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
      const hook = await service.rotate(mine(request), request.params.id)
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
        querystring: DeliveryQuery,
        response: { 200: Page(DeliverySchema), 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query
      return service.listDeliveries(mine(request), request.params.id, status, limit, cursor)
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
      const { id, deliveryId } = request.params
      const delivery = await service.replay(mine(request), id, deliveryId)
      reply.code(202)
      return delivery
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
      const { hook, replayed } = await service.replayDead(mine(request), request.params.id)
      await audit(request, 'webhook.replay', hook)
      reply.code(202)
      return { replayed }
    },
  )
}
