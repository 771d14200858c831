/** /v1/jobs: create (202, Idempotency-Key), list, get, cancel, logs, events. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JobSpecRef } from '../../domain/job-schema.js'
import { endAllStreams, streamEvents, type OpenStreams } from './event-stream.js'
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
  TrainingResult,
} from './schemas.js'

export const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.jobService
  // event streams end when the gateway stops taking requests
  const streams: OpenStreams = new Set()
  app.addHook('preClose', async () => endAllStreams(streams))

  app.post(
    '',
    {
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
        request.body,
        request.headers['idempotency-key'],
      )
      reply.header('location', `/v1/jobs/${job.id}`)
      return reply.code(created ? 202 : 200).send(job)
    },
  )

  app.get(
    '',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List jobs, newest first',
        querystring: ListQuery,
        response: { 200: JobList, 400: Problem },
      },
    },
    async (request) => service.list(request.query),
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'One job',
        params: JobIdParams,
        response: { 200: JobRef, 404: Problem },
      },
    },
    async (request) => service.mustGet(request.params.id),
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Cancel a job',
        description:
          'A queued job leaves the queue; a submitted or running one has its batch killed (200, state cancelled). A job in the middle of submission is flagged and cancelled as soon as its batch is known (202). Cancelling a cancelled job again is a 200; a job that already succeeded or failed is a 409.',
        params: JobIdParams,
        response: { 200: JobRef, 202: JobRef, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const job = await service.cancel(request.params.id)
      return reply.code(job.state === 'cancelled' ? 200 : 202).send(job)
    },
  )

  app.get(
    '/:id/logs',
    {
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
      const page = await service.logs(request.params.id, request.query.from, request.query.size)
      return { id: request.params.id, ...page }
    },
  )

  app.get(
    '/:id/events',
    {
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
      if (request.headers.accept?.includes('text/event-stream')) {
        await service.mustGet(request.params.id)
        const last = request.headers['last-event-id']
        return streamEvents(
          service,
          request.params.id,
          typeof last === 'string' ? last : undefined,
          reply,
          streams,
        )
      }
      return { items: await service.events(request.params.id) }
    },
  )

  app.get(
    '/:id/result',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'getJobResult',
        summary: "A training job's result: metrics.json and the model's URI",
        description:
          'What jobs/train.py wrote to runs/<jobId>/metrics.json (metrics, row counts, timings, feature importances or coefficients, confusion matrix) plus modelUri. 409 while the job has not succeeded, or when it is not a training job.',
        params: JobIdParams,
        response: { 200: TrainingResult, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request) => app.trainingResults.result(request.params.id),
  )
}
