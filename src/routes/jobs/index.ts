/** /v1/jobs: create (202, Idempotency-Key), list, get, cancel, logs, events. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Job } from '../../domain/job-schema.js'
import { JobSpecRef } from '../../domain/job-schema.js'
import { redactConf } from '../../tenancy/policy.js'
import { principalOf, recordAudit, scopeOf, tenantOf } from '../caller.js'
import { streamJobEvents } from '../../events/sse.js'
import { isTerminal } from '../../domain/job-state.js'
import {
  EventList,
  IdempotencyHeaders,
  JobIdParams,
  JobList,
  JobRef,
  ListQuery,
  LogPage,
  LogsQuery,
  Problem,
  OutputDoc,
  PlotListSchema,
  PlotParams,
  PngDoc,
} from './schemas.js'
import { Type } from 'typebox'

export const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.jobService
  // conf values of secret keys (SPARKGATE_SECRET_CONF_KEYS) never leave in a reply
  const secrets = app.config.SPARKGATE_SECRET_CONF_KEYS.split(',').filter(Boolean)
  // whatever the kind, a Spark conf in its spec is shown redacted
  const kinds = app.jobKinds
  const show = (job: Job): Job => {
    const of = kinds.of(job)
    const own = of?.spec as { conf?: Record<string, string> } | undefined
    if (!of || !own?.conf) return job
    const spec = { ...own, conf: redactConf(own.conf, secrets) }
    return { ...job, spec: { ...job.spec, [of.kind.name]: spec } }
  }
  const read = { access: 'read' as const }
  const write = { access: 'write' as const }

  app.post(
    '',
    {
      config: write,
      schema: {
        tags: ['jobs'],
        operationId: 'createJob',
        summary: 'Queue a Spark job',
        description:
          'Answers 202 at once with the queued job and its Location; Sparkgate submits it when its backend has a free slot. With an Idempotency-Key, a retried request returns the same job (200).',
        headers: IdempotencyHeaders,
        body: JobSpecRef,
        response: { 200: JobRef, 202: JobRef, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const { job, created } = await service.create(
        await tenantOf(request),
        request.body,
        request.headers['idempotency-key'],
      )
      reply.header('location', `/v1/jobs/${job.id}`)
      return reply.code(created ? 202 : 200).send(show(job))
    },
  )

  app.get(
    '',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List jobs, newest first',
        description:
          "The caller's tenant's jobs. The platform admin sees every tenant's (or one: `tenant=`).",
        querystring: ListQuery,
        response: { 200: JobList, 400: Problem },
      },
    },
    async (request) => {
      const page = await service.list(scopeOf(request, true), request.query)
      return { ...page, items: page.items.map(show) }
    },
  )

  app.get(
    '/:id',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'One job',
        params: JobIdParams,
        response: { 200: JobRef, 404: Problem },
      },
    },
    async (request) => show(await service.mustGet(scopeOf(request, true), request.params.id)),
  )

  app.delete(
    '/:id',
    {
      config: write,
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Cancel a job',
        description:
          'A queued job leaves the queue; a submitted or running one has its batch killed (200, state cancelled). A job in the middle of submission is flagged and cancelled as soon as its batch is known (202). Cancelling a cancelled job again is a 200; a job that already succeeded or failed is a 409, and so is one whose application succeeded before the job recorded it (the batch is read first; the job then becomes succeeded).',
        params: JobIdParams,
        response: { 200: JobRef, 202: JobRef, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const job = await service.cancel(scopeOf(request, true), request.params.id)
      await recordAudit(request, 'job.cancel', `job/${job.id}`, job.tenant)
      return reply.code(job.state === 'cancelled' ? 200 : 202).send(show(job))
    },
  )

  app.get(
    '/:id/logs',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJobLogs',
        summary: "The Spark application's log lines (from the backend)",
        params: JobIdParams,
        querystring: LogsQuery,
        response: { 200: LogPage, 404: Problem, 503: Problem },
      },
    },
    async (request) => {
      const page = await service.logs(
        scopeOf(request, true),
        request.params.id,
        request.query.from,
        request.query.size,
      )
      return { id: request.params.id, ...page }
    },
  )

  app.get(
    '/:id/events',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJobEvents',
        summary: "The job's state history, oldest first — or a live stream of it",
        description:
          'JSON by default. With `Accept: text/event-stream`: Server-Sent Events — the history, then each new transition as it happens (event `transition`, id = its index; `Last-Event-ID` resumes), then an `end` event when the job is terminal.',
        params: JobIdParams,
        response: { 200: EventList, 404: Problem },
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request, true)
      if (request.headers.accept?.includes('text/event-stream')) {
        const job = await service.mustGet(scope, request.params.id)
        // the cap counts the caller's streams (an admin reading another tenant's job too)
        const give = app.sseStreams.take(principalOf(request).tenant)
        const last = request.headers['last-event-id']
        reply.hijack()
        try {
          return await streamJobEvents({
            streams: app.sseStreams,
            hub: app.eventHub,
            streamKey: app.eventLog.streamKey(job.tenant),
            jobId: job.id,
            job: {
              history: () => service.history(job.id),
              state: async () => (await service.find(scope, job.id))?.state,
              isTerminal: (state) => isTerminal(state as Job['state']),
            },
            lastEventId: typeof last === 'string' ? last : undefined,
            res: reply.raw,
            requestId: String(request.id),
          })
        } finally {
          give()
        }
      }
      return { items: await service.events(scope, request.params.id) }
    },
  )

  app.get(
    '/:id/result',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJobResult',
        summary: "A training or scoring job's result",
        description:
          'Training: what jobs/train.py wrote to runs/<jobId>/metrics.json (metrics, row counts, timings, feature importances or coefficients, confusion matrix) plus modelUri. Scoring: rows scored, the output and the model version scored. 409 while the job has not succeeded, or when it is a batch job.',
        params: JobIdParams,
        response: {
          // each kind's result, in the registry's order
          200: Type.Union(
            app.jobKinds.definitions.flatMap((k) => (k.resultSchema ? [k.resultSchema] : [])),
          ),
          404: Problem,
          409: Problem,
          503: Problem,
        },
      },
    },
    async (request) => app.jobResults.result(scopeOf(request, true), request.params.id),
  )

  app.get(
    '/:id/result/plots',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'listJobPlots',
        summary: "A training or scoring job's evaluation plots",
        description:
          'The PNG figures the run drew, each with its title and where it is served. Training (on the held-out test split): ROC, precision-recall, calibration and the confusion matrix (binary); the confusion matrix, row-normalised, and ROC per class one-vs-rest (multi-class); predicted against actual and residuals (regression); feature importances or coefficients. Scoring: a histogram of predicted scores, or rows per predicted class. The data behind them is in the result (curves, calibration, rocByClass, predictedVsActual, distribution). 409 while the job has not succeeded, or when it is a batch job.',
        params: JobIdParams,
        response: { 200: PlotListSchema, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request) => app.jobResults.plots(scopeOf(request, true), request.params.id),
  )

  app.get(
    '/:id/result/plots/:name',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJobPlot',
        summary: 'One evaluation plot, as a PNG',
        description:
          'A figure GET /v1/jobs/{id}/result/plots lists, by its name: image/png, 640 × 480. 404 for a name the job has not drawn (the problem lists those it has).',
        params: PlotParams,
        response: { 200: PngDoc, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params
      const { jobId, png } = await app.jobResults.plot(scopeOf(request, true), id, name)
      reply
        .type('image/png')
        .header('cache-control', 'private, max-age=3600')
        .header('content-disposition', `inline; filename="${jobId}-${name}.png"`)
      return reply.send(png)
    },
  )

  app.get(
    '/:id/output',
    {
      config: read,
      schema: {
        tags: ['jobs'],
        operationId: 'getJobOutput',
        summary: "A scoring job's scored rows, as one file",
        description:
          'The one part file jobs/score.py wrote under runs/<jobId>/scored/: text/csv (with a header; probability as a JSON array text) or application/vnd.apache.parquet (probability as an array of doubles). 409 while the job has not succeeded, or when it is not a scoring job.',
        params: JobIdParams,
        response: { 200: OutputDoc, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const file = await app.jobResults.output(scopeOf(request, true), request.params.id)
      const csv = file.format === 'csv'
      reply
        .type(csv ? 'text/csv; charset=utf-8' : 'application/vnd.apache.parquet')
        .header('content-length', String(file.length))
        .header(
          'content-disposition',
          `attachment; filename="${file.jobId}.${csv ? 'csv' : 'parquet'}"`,
        )
      return reply.send(await file.open())
    },
  )
}
