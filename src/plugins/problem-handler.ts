/**
 * The one mapper to RFC 9457 application/problem+json: a SparkgateError of the catalogue
 * (src/errors.ts), an ajv validation error, a Fastify client error or anything else becomes
 * a problem with `type`, `title`, `status`, `detail`, `instance` and `code`; 5xx details
 * are masked (the full error goes to the log only).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors, SparkgateError } from '../errors.js'
import type { Problem } from '../schemas/common.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}
const title = (status: number) =>
  TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error')

interface AjvLikeError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** Turns Fastify/ajv validation errors into `{ field, rule, message }` entries. */
function validationEntries(error: FastifyError): Problem['errors'] {
  const context = error.validationContext ?? 'body'
  const list = (error.validation ?? []) as AjvLikeError[]
  return list.map((v) => {
    let field = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
    const missing = v.params?.['missingProperty'] ?? v.params?.['requiredProperties']
    if (v.keyword === 'required' && missing !== undefined) {
      field = [field, String(Array.isArray(missing) ? missing[0] : missing)]
        .filter(Boolean)
        .join('.')
    }
    const extra = v.params?.['additionalProperty'] ?? v.params?.['additionalProperties']
    if (v.keyword === 'additionalProperties' && extra !== undefined) {
      field = [field, String(Array.isArray(extra) ? extra[0] : extra)].filter(Boolean).join('.')
    }
    const name = v.params?.['propertyName']
    if (v.keyword === 'propertyNames' && typeof name === 'string') {
      field = [field, name].filter(Boolean).join('.')
    }
    const where = field ? `${context}.${field}` : context
    return {
      field: where,
      rule: v.keyword ?? 'invalid',
      message: `${where} ${v.message ?? 'is invalid'}`,
    }
  })
}

/**
 * Redis not there or not serving: ioredis failing fast (maxRetriesPerRequest, a closed or
 * refused connection, a command timeout) or Redis refusing for a while (loading its data
 * after a restart, a replica, a busy script, a failing disk). A 503, never a 500: the
 * client's request was fine and may be repeated.
 */
export function redisDown(error: unknown): boolean {
  const e = error as { name?: string; message?: string; code?: string } | undefined
  if (!e) return false
  if (e.name === 'MaxRetriesPerRequestError') return true
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(e.code ?? ''))
    return /redis|connect|write|read/i.test(e.message ?? '') || e.name === 'ReplyError'
  return (
    /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit|Command timed out|connect ECONNREFUSED)/.test(
      e.message ?? '',
    ) ||
    (e.name === 'ReplyError' &&
      /^(LOADING|READONLY|MASTERDOWN|BUSY|MISCONF|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/.test(
        e.message ?? '',
      ))
  )
}

/** The problem+json body for anything a request threw; 5xx details masked. */
export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const instance = request.url
  if (redisDown(error)) error = errors.redisUnavailable((error as Error).message)
  if (error instanceof SparkgateError) {
    return {
      type: `https://sparkgate.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
      title: title(error.status),
      status: error.status,
      detail: error.status >= 500 && error.status !== 503 ? 'internal error' : error.message,
      instance,
      code: error.code,
      ...error.extra,
    }
  }
  const fe = error as FastifyError
  if (fe.validation) {
    const entries = validationEntries(fe) ?? []
    return {
      type: 'https://sparkgate.dev/problems/sparkgate-validation',
      title: title(400),
      status: 400,
      detail: entries.map((e) => e.message).join('; ') || fe.message,
      instance,
      code: 'SPARKGATE_VALIDATION',
      errors: entries,
    }
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 ? fe.statusCode : 500
  if (status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type…).
    return {
      type: `https://sparkgate.dev/problems/${(fe.code ?? 'client-error').toLowerCase().replace(/_/g, '-')}`,
      title: title(status),
      status,
      detail: fe.message,
      instance,
      code: fe.code ? `SPARKGATE_${fe.code.replace(/^FST_ERR_/, '')}` : 'SPARKGATE_BAD_REQUEST',
    }
  }
  return {
    type: 'https://sparkgate.dev/problems/sparkgate-internal',
    title: title(500),
    status: 500,
    detail: 'internal error; see the gateway log for this request id',
    instance,
    code: 'SPARKGATE_INTERNAL',
  }
}

/** Sends a problem with its status and the problem+json content type. */
export function sendProblem(reply: FastifyReply, problem: Problem) {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem)
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The problem of an error (for a route prefix that words its errors its own way: /livy) */
    problemOf: (error: unknown, request: FastifyRequest) => Problem
  }
}

/** Installs the one error handler and the problem+json 404. */
export function installErrorHandling(app: FastifyInstance) {
  app.decorate('problemOf', toProblem)
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request)
    if (problem.status >= 500 && problem.status !== 503)
      request.log.error({ err: error }, 'request failed')
    else
      request.log.info(
        { code: problem.code, status: problem.status },
        problem.detail ?? problem.title,
      )
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'https://sparkgate.dev/problems/sparkgate-route-not-found',
      title: title(404),
      status: 404,
      detail: `no route ${request.method} ${request.url.split('?')[0]}`,
      instance: request.url,
      code: 'SPARKGATE_ROUTE_NOT_FOUND',
    }),
  )
}
