/**
 * /v1/engines: a tenant's warm engines (the admin sees every tenant's): list, read, start,
 * stop. /engine/v1/engines/{id}/…: what an engine's driver calls with its own token (see
 * src/engines/engine-protocol.ts); a tenant's key opens none of it, and a token only its
 * own engine's calls.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { errors } from '../../errors.js'
import { EngineRef, engineEnded } from '../../engines/engine-schema.js'
import { publicEngine } from '../../engines/engine-store.js'
import { Problem } from '../../schemas/common.js'
import { recordAudit, scopeOf } from '../caller.js'
import {
  EngineDoneSchema,
  EngineIdParams,
  EngineJobParams,
  EngineReportSchema,
  EngineStart,
  EngineWorkSchema,
  PollQuery,
} from './schemas.js'

export const engineRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const engines = app.engines

  /** The engine if the caller's scope sees it (another tenant's is a 404). */
  async function mustGet(request: FastifyRequest, id: string) {
    const scope = scopeOf(request, true)
    const engine = await engines.store.get(id)
    if (!engine || (!scope.all && engine.tenant !== scope.tenant)) throw errors.engineNotFound(id)
    return engine
  }

  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['engines'],
        operationId: 'listEngines',
        summary: "The tenant's warm engines, newest first (the admin: every tenant's)",
        querystring: Type.Object({
          state: Type.Optional(Type.String({ description: 'live (not ended), or one state' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(EngineRef) }) },
      },
    },
    async (request) => {
      const scope = scopeOf(request, true)
      const now = Date.now()
      const want = request.query.state
      const items = (await engines.store.list(scope.all ? undefined : scope.tenant))
        .filter((e) => (!want ? true : want === 'live' ? !engineEnded(e.state) : e.state === want))
        .map((e) => publicEngine(e, now))
      return { items }
    },
  )

  app.get(
    '/:id',
    {
      config: { access: 'read' },
      schema: {
        tags: ['engines'],
        operationId: 'getEngine',
        summary: 'One warm engine',
        params: EngineIdParams,
        response: { 200: EngineRef, 404: Problem },
      },
    },
    async (request) => publicEngine(await mustGet(request, request.params.id)),
  )

  app.post(
    '',
    {
      config: { access: 'write' },
      schema: {
        tags: ['engines'],
        operationId: 'startEngine',
        summary: 'Start a warm engine now (jobs with engine auto or warm then use it)',
        description:
          "It runs as the tenant's cluster user in its first YARN queue, holds a live slot of the backend, and stops after the policy's `engines.idleSeconds` without a job. 409 when the tenant is at its `engines.max` or the backend at its cap.",
        body: EngineStart,
        response: { 201: EngineRef, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const { tenant } = scopeOf(request)
      const backend = request.body.backend ?? app.backends.defaultName
      if (!app.backends.byName.has(backend))
        throw errors.unknownBackend(backend, [...app.backends.byName.keys()])
      const started = await engines.start(tenant, backend, 'api')
      if (!started) throw errors.engineLimit(tenant, backend)
      await recordAudit(request, 'engine.start', `engine/${started.id}`, tenant)
      return reply.code(201).send(publicEngine(started))
    },
  )

  app.delete(
    '/:id',
    {
      config: { access: 'write' },
      schema: {
        tags: ['engines'],
        operationId: 'stopEngine',
        summary: 'Stop a warm engine',
        description:
          'It takes no more jobs and stops after the job it runs (202, state stopping); one that never started polling is killed. An engine that has ended: 200 as it is.',
        params: EngineIdParams,
        response: { 200: EngineRef, 202: EngineRef, 404: Problem },
      },
    },
    async (request, reply) => {
      const engine = await mustGet(request, request.params.id)
      const moved = await engines.stop(engine, 'stopped on request')
      if (moved) await recordAudit(request, 'engine.stop', `engine/${engine.id}`, engine.tenant)
      const now = (await engines.store.get(engine.id)) ?? engine
      return reply.code(engineEnded(now.state) ? 200 : 202).send(publicEngine(now))
    },
  )
}

export const engineProtocolRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const protocol = app.engineProtocol

  /** The engine the request's token opens (401 otherwise: nothing says whether it exists). */
  async function engineOf(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
  ) {
    const engine = await protocol.authenticate(request.params.id, request.headers.authorization)
    if (!engine) {
      reply.header('www-authenticate', 'Bearer realm="sparkgate engine"')
      throw errors.unauthenticated('unknown')
    }
    return engine
  }
  const tags = ['engines']

  app.post(
    '/:id/poll',
    {
      schema: {
        tags,
        operationId: 'enginePoll',
        summary: "An engine's poll for its next job (its own token, not a key)",
        description:
          'Held up to `wait` seconds: 200 with the next job of its tenant, 200 `{stop: true}` when it is to stop, 204 when no job came.',
        security: [{ engineToken: [] }],
        params: EngineIdParams,
        querystring: PollQuery,
        body: Type.Optional(EngineReportSchema),
        response: {
          200: Type.Union([EngineWorkSchema, Type.Object({ stop: Type.Literal(true) })]),
          204: Type.Null(),
          401: Problem,
        },
      },
    },
    async (request, reply) => {
      const engine = await engineOf(request, reply)
      const abort = new AbortController()
      request.raw.on('close', () => abort.abort())
      const work = await protocol.poll(
        engine,
        request.body ?? {},
        (request.query.wait ?? 20) * 1000,
        abort.signal,
      )
      if (work === 'stop') return { stop: true as const }
      if (!work) return reply.code(204).send(null)
      request.log.info(
        { engine: engine.id, jobId: work.id, attempt: work.attempt },
        'engine took a job',
      )
      return { job: work }
    },
  )

  app.post(
    '/:id/jobs/:job/heartbeat',
    {
      schema: {
        tags,
        operationId: 'engineHeartbeat',
        summary: "A running job's heartbeat from its engine: whether to cancel it",
        security: [{ engineToken: [] }],
        params: EngineJobParams,
        body: Type.Optional(EngineReportSchema),
        response: { 200: Type.Object({ cancel: Type.Boolean() }), 401: Problem },
      },
    },
    async (request, reply) => {
      const engine = await engineOf(request, reply)
      return protocol.heartbeat(engine, request.params.job, request.body ?? {})
    },
  )

  app.post(
    '/:id/jobs/:job/done',
    {
      schema: {
        tags,
        operationId: 'engineJobDone',
        summary: 'How a job’s attempt ended in its engine (recorded once)',
        description:
          '204 when recorded; 409 when the attempt is not this engine’s (it was given up on: its engine was counted lost).',
        security: [{ engineToken: [] }],
        params: EngineJobParams,
        body: EngineDoneSchema,
        response: { 204: Type.Null(), 401: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const engine = await engineOf(request, reply)
      const ok = await protocol.done(engine, request.params.job, request.body)
      if (!ok) throw errors.engineClaimLost(request.params.job, request.body.attempt)
      request.log.info(
        { engine: engine.id, jobId: request.params.job, outcome: request.body.outcome },
        'engine reported a job',
      )
      return reply.code(204).send(null)
    },
  )
}
