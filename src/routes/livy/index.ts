/**
 * /livy: Apache Livy's batch REST API (POST/GET /batches, GET /batches/{id}, …/state,
 * …/log, DELETE /batches/{id}) over Sparkgate's jobs, so that Livy clients (Airflow's
 * LivyOperator, pylivy, curl) move over unchanged: Livy's JSON shapes, states and status
 * codes, and its `{msg}` error body naming the field and the rule. A batch is a job of the
 * batch kind: the tenant's key (HTTP Basic's password, or a Bearer token), its policy,
 * quotas, queue, retries, idempotency (`Idempotency-Key`), audit, events and webhooks
 * apply as to any job. Interactive sessions are not served: /livy/sessions is a 501.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import type { Job } from '../../domain/job-schema.js'
import { errors, SparkgateError } from '../../errors.js'
import type { Problem } from '../../schemas/common.js'
import { recordAudit, scopeOf, tenantOf } from '../caller.js'
import { LivyBatchIds } from './batch-ids.js'
import { checkProxyUser, jobSpecOf, livyBatch, livyMessage, livyState } from './mapping.js'
import {
  LivyBatch,
  LivyBatchList,
  LivyBatchRef,
  LivyBatchRequest,
  LivyHeaders,
  LivyIdParams,
  LivyListQuery,
  LivyLogQuery,
  LivyLogReply,
  LivyMsg,
  LivyStateReply,
} from './schemas.js'

/** A tenant's key as HTTP Basic's password (Livy clients send Basic), or as a Bearer token. */
const LIVY_SECURITY: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { livyBasic: [] }]

/** The lines of a batch's log shown in its Batch object (Livy shows its last ones). */
const TAIL = 20

/** Sends an error as Livy does: its status and `{msg}`. */
function sendLivyError(
  problem: Problem,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (problem.status >= 500 && problem.status !== 503 && problem.status !== 501)
    request.log.error({ err: error }, 'request failed')
  return reply
    .code(problem.status)
    .type('application/json; charset=utf-8')
    .send({ msg: livyMessage(problem) })
}

export const livyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ids = new LivyBatchIds(app.redis, app.config.SPARKGATE_REDIS_PREFIX)
  const service = app.jobService
  const jobSpec = app.getSchema('JobSpec') as TSchema
  app.addSchema(LivyBatch)
  // Livy clients send `Content-Type: application/json` on every call, a DELETE's empty body
  // included (pylivy, Livy's own client): an empty body is no body
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch {
      done(errors.validation('body', 'json', 'is not valid JSON'), undefined)
    }
  })
  app.setErrorHandler((error, request, reply) =>
    sendLivyError(app.problemOf(error, request), error, request, reply),
  )
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ msg: `no Livy route ${request.method} ${request.url}` }),
  )
  const read = { access: 'read' as const }
  const write = { access: 'write' as const }
  const errorsOf = { 400: LivyMsg, 401: LivyMsg, 403: LivyMsg, 404: LivyMsg }

  /** The tenant's job of a batch id (404 as Livy says it). */
  async function jobOf(request: FastifyRequest, batchId: string): Promise<[number, Job]> {
    const id = Number(batchId)
    const tenant = (await tenantOf(request)).id
    const jobId = Number.isInteger(id) && id >= 0 ? await ids.jobOf(tenant, id) : undefined
    const job = jobId ? await service.find(scopeOf(request), jobId) : undefined
    if (!job)
      throw new SparkgateError('SPARKGATE_NOT_FOUND', 404, `Session '${batchId}' not found.`)
    return [id, job]
  }

  async function batchView(request: FastifyRequest, id: number, job: Job) {
    const tenant = await tenantOf(request)
    const log = await service
      .logs(scopeOf(request), job.id, 0, 0)
      .then((head) => service.logs(scopeOf(request), job.id, Math.max(0, head.total - TAIL), TAIL))
      .then(
        (page) => page.lines,
        () => [] as string[],
      )
    return livyBatch(id, job, tenant.clusterUser, log)
  }

  app.post(
    '/batches',
    {
      config: write,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyCreateBatch',
        summary: 'Submit a batch (Livy: POST /batches)',
        description:
          "Livy's CreateBatchRequest, run as a Sparkgate job of the batch kind: on the default backend, or the one `X-Sparkgate-Backend` or the conf's `spark.sparkgate.backend` names; its priority from `X-Sparkgate-Priority` or `spark.sparkgate.priority`. The tenant's policy checks its URIs, conf and queue; `proxyUser`, when given, must be the tenant's cluster user (403). With an `Idempotency-Key`, a retry gets the same batch and never runs twice. 201 with Livy's Batch object; errors as Livy's `{msg}`.",
        headers: LivyHeaders,
        body: LivyBatchRequest,
        response: { 200: LivyBatchRef, 201: LivyBatchRef, ...errorsOf, 409: LivyMsg },
      },
    },
    async (request, reply) => {
      const tenant = await tenantOf(request)
      checkProxyUser(request.body.proxyUser, tenant.clusterUser)
      const spec = jobSpecOf(request.body, {
        backend: request.headers['x-sparkgate-backend'],
        priority: request.headers['x-sparkgate-priority'],
      })
      // the job spec Sparkgate checks any job's against (a URI the cluster reads, a name, …)
      if (!Value.Check(jobSpec, spec))
        throw errors.validationAll(
          [...Value.Errors(jobSpec, spec)].map((e) => ({
            field: `body${e.instancePath.replace(/\//g, '.')}`,
            rule: e.keyword,
            message: e.message,
          })),
        )
      const { job, created } = await service.create(
        tenant,
        spec,
        request.headers['idempotency-key'],
      )
      const id = await ids.idOf(tenant.id, job.id)
      if (created) await recordAudit(request, 'job.create', `job/${job.id}`, job.tenant)
      reply.header('location', `/livy/batches/${id}`)
      return reply.code(created ? 201 : 200).send(await batchView(request, id, job))
    },
  )

  app.get(
    '/batches',
    {
      config: read,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyListBatches',
        summary: 'The tenant’s batches (Livy: GET /batches)',
        description:
          'Batches submitted through /livy, by id from `from` (default 0), at most `size` (default 100): `{from, total, sessions}`.',
        querystring: LivyListQuery,
        response: { 200: LivyBatchList, ...errorsOf },
      },
    },
    async (request) => {
      const tenant = (await tenantOf(request)).id
      const { from, size } = request.query
      const sessions = []
      for (const [id, jobId] of await ids.page(tenant, from, size)) {
        const job = await service.find(scopeOf(request), jobId)
        if (job) sessions.push(await batchView(request, id, job))
      }
      return { from, total: await ids.total(tenant), sessions }
    },
  )

  app.get(
    '/batches/:batchId',
    {
      config: read,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyGetBatch',
        summary: 'One batch (Livy: GET /batches/{batchId})',
        params: LivyIdParams,
        response: { 200: LivyBatchRef, ...errorsOf },
      },
    },
    async (request) => {
      const [id, job] = await jobOf(request, request.params.batchId)
      return batchView(request, id, job)
    },
  )

  app.get(
    '/batches/:batchId/state',
    {
      config: read,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyGetBatchState',
        summary: 'A batch’s state (Livy: GET /batches/{batchId}/state)',
        params: LivyIdParams,
        response: { 200: LivyStateReply, ...errorsOf },
      },
    },
    async (request) => {
      const [id, job] = await jobOf(request, request.params.batchId)
      return { id, state: livyState(job.state) }
    },
  )

  app.get(
    '/batches/:batchId/log',
    {
      config: read,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyGetBatchLog',
        summary: 'A batch’s log lines (Livy: GET /batches/{batchId}/log)',
        description:
          'Lines `from` (default: the last `size`) … at most `size` (default 100): `{id, from, total, log}`.',
        params: LivyIdParams,
        querystring: LivyLogQuery,
        response: { 200: LivyLogReply, ...errorsOf },
      },
    },
    async (request) => {
      const [id, job] = await jobOf(request, request.params.batchId)
      const { size } = request.query
      let from = request.query.from
      if (from === undefined) {
        const head = await service.logs(scopeOf(request), job.id, 0, 0)
        from = Math.max(0, head.total - size)
      }
      const page = await service.logs(scopeOf(request), job.id, from, size)
      return { id, from: page.from, total: page.total, log: page.lines }
    },
  )

  app.delete(
    '/batches/:batchId',
    {
      config: write,
      schema: {
        tags: ['livy'],
        security: LIVY_SECURITY,
        operationId: 'livyDeleteBatch',
        summary: 'Kill a batch (Livy: DELETE /batches/{batchId})',
        description:
          'Cancels its job (a queued one leaves the queue; a live one is killed). `{msg: "deleted"}`; a batch that already ended stays as it is.',
        params: LivyIdParams,
        response: { 200: LivyMsg, ...errorsOf },
      },
    },
    async (request) => {
      const [, job] = await jobOf(request, request.params.batchId)
      try {
        await service.cancel(scopeOf(request), job.id)
        await recordAudit(request, 'job.cancel', `job/${job.id}`, job.tenant)
      } catch (error) {
        // Livy deletes a finished batch too: its job simply stays as it ended
        if (!(error instanceof SparkgateError && error.status === 409)) throw error
      }
      return { msg: 'deleted' }
    },
  )

  // interactive sessions: not served (Livy 0.7's sessions cannot run Spark 3.5 anyway)
  for (const url of ['/sessions', '/sessions/*'])
    app.all(url, { config: read, schema: { hide: true } }, async (_request, reply) =>
      reply.code(501).send({ msg: SESSIONS }),
    )
}

const SESSIONS =
  'interactive sessions are not served by Sparkgate: submit batches (POST /livy/batches), or use /v1/jobs'
