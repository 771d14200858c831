/**
 * The one mapper to application/problem+json (toProblem in src/plugins/problem-handler.ts) and the error
 * catalogue. Plain objects stand in for Fastify's errors and request: no server.
 */
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { errors, SparkgateError } from '../../src/errors.js'
import { toProblem } from '../../src/plugins/problem-handler.js'

const request = { url: '/v1/jobs?limit=5' } as FastifyRequest

/** A Fastify schema validation error as its validator hands it to the error handler. */
const validationError = (context: string | undefined, validation: unknown[]) =>
  Object.assign(new Error('fastify says: bad request'), {
    statusCode: 400,
    code: 'FST_ERR_VALIDATION',
    validation,
    ...(context === undefined ? {} : { validationContext: context }),
  })

t.test('a SparkgateError: type from its code, title from its status, extra spread', async (t) => {
  const error = new SparkgateError('SPARKGATE_JOB_TERMINAL', 409, 'job j is already failed', {
    state: 'failed',
  })
  t.strictSame(toProblem(error, request), {
    type: 'https://sparkgate.dev/problems/sparkgate-job-terminal',
    title: 'Conflict',
    status: 409,
    detail: 'job j is already failed',
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_JOB_TERMINAL',
    state: 'failed',
  })
})

t.test('titles: known statuses by name, others by class', async (t) => {
  const titleOf = (status: number) =>
    toProblem(new SparkgateError('SPARKGATE_X', status, 'm'), request).title
  t.equal(titleOf(400), 'Bad Request')
  t.equal(titleOf(404), 'Not Found')
  t.equal(titleOf(413), 'Content Too Large')
  t.equal(titleOf(415), 'Unsupported Media Type')
  t.equal(titleOf(429), 'Too Many Requests')
  t.equal(titleOf(500), 'Internal Server Error')
  t.equal(titleOf(503), 'Service Unavailable')
  t.equal(titleOf(418), 'Client Error')
  t.equal(titleOf(502), 'Server Error')
})

t.test('a 5xx SparkgateError other than 503 masks its detail, keeps code and extra', async (t) => {
  for (const status of [500, 502, 504]) {
    const problem = toProblem(
      new SparkgateError('SPARKGATE_OOPS', status, 'password=hunter2 in a stack', { a: 1 }),
      request,
    )
    t.equal(problem.status, status)
    t.equal(problem.detail, 'internal error', `${status}: detail masked`)
    t.equal(problem.code, 'SPARKGATE_OOPS')
    t.equal((problem as Record<string, unknown>)['a'], 1)
  }
})

t.test('a 503 keeps its detail: it says what is down', async (t) => {
  const down = { redis: { up: false, url: 'redis://r:6379', error: 'ECONNREFUSED' } }
  t.strictSame(toProblem(errors.dependenciesDown(['redis'], down), request), {
    type: 'https://sparkgate.dev/problems/sparkgate-dependency-down',
    title: 'Service Unavailable',
    status: 503,
    detail: 'not ready: redis down',
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_DEPENDENCY_DOWN',
    dependencies: down,
  })
})

t.test('a Fastify validation error: 400 SPARKGATE_VALIDATION, each field named', async (t) => {
  const problem = toProblem(
    validationError('body', [
      { instancePath: '/batch/file', keyword: 'pattern', message: 'must match pattern "^x"' },
      {
        instancePath: '/batch',
        keyword: 'required',
        message: "must have required property 'file'",
        params: { missingProperty: 'file' },
      },
      {
        instancePath: '',
        keyword: 'required',
        message: 'must have required property',
        params: { missingProperty: 'batch' },
      },
      {
        instancePath: '/resources',
        keyword: 'additionalProperties',
        message: 'must NOT have additional properties',
        params: { additionalProperty: 'gpus' },
      },
      {
        instancePath: '',
        keyword: 'additionalProperties',
        message: 'must NOT have additional properties',
        params: { additionalProperty: 'extra' },
      },
      {
        instancePath: '/batch/conf',
        keyword: 'propertyNames',
        message: 'property name must be valid',
        params: { propertyName: 'foo.bar' },
      },
      { instancePath: '', keyword: 'type', message: 'must be object' },
    ]),
    request,
  )
  const entries = [
    {
      field: 'body.batch.file',
      rule: 'pattern',
      message: 'body.batch.file must match pattern "^x"',
    },
    {
      field: 'body.batch.file',
      rule: 'required',
      message: "body.batch.file must have required property 'file'",
    },
    { field: 'body.batch', rule: 'required', message: 'body.batch must have required property' },
    {
      field: 'body.resources.gpus',
      rule: 'additionalProperties',
      message: 'body.resources.gpus must NOT have additional properties',
    },
    {
      field: 'body.extra',
      rule: 'additionalProperties',
      message: 'body.extra must NOT have additional properties',
    },
    {
      field: 'body.batch.conf.foo.bar',
      rule: 'propertyNames',
      message: 'body.batch.conf.foo.bar property name must be valid',
    },
    { field: 'body', rule: 'type', message: 'body must be object' },
  ]
  t.strictSame(problem, {
    type: 'https://sparkgate.dev/problems/sparkgate-validation',
    title: 'Bad Request',
    status: 400,
    detail: entries.map((e) => e.message).join('; '),
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_VALIDATION',
    errors: entries,
  })
})

t.test('validation: the context, list-valued params and missing words', async (t) => {
  const fields = (context: string | undefined, validation: unknown[]) =>
    toProblem(validationError(context, validation), request).errors ?? []
  t.strictSame(
    fields('querystring', [
      { instancePath: '/limit', keyword: 'maximum', message: 'must be <= 200' },
    ]),
    [{ field: 'querystring.limit', rule: 'maximum', message: 'querystring.limit must be <= 200' }],
  )
  t.strictSame(
    fields(undefined, [{ instancePath: '/name', keyword: 'minLength', message: 'too short' }]),
    [{ field: 'body.name', rule: 'minLength', message: 'body.name too short' }],
    'no context: body',
  )
  t.strictSame(
    fields('params', [{ instancePath: '/id' }]),
    [{ field: 'params.id', rule: 'invalid', message: 'params.id is invalid' }],
    'neither keyword nor message',
  )
  t.strictSame(
    fields('body', [
      { instancePath: '', keyword: 'required', params: { requiredProperties: ['a', 'b'] } },
      {
        instancePath: '/x',
        keyword: 'additionalProperties',
        params: { additionalProperties: ['y', 'z'] },
      },
    ]).map((e) => e.field),
    ['body.a', 'body.x.y'],
    'list-valued params name their first property',
  )
  t.strictSame(
    fields('body', [{ instancePath: '/a', keyword: 'required', params: {} }]).map((e) => e.field),
    ['body.a'],
    'a required error without its property keeps the path',
  )
  const empty = toProblem(validationError('body', []), request)
  t.strictSame(empty.errors, [])
  t.equal(empty.detail, 'fastify says: bad request', "no entries: Fastify's own message")
})

t.test("Fastify's client errors keep their status and get a SPARKGATE_ code", async (t) => {
  const error = Object.assign(new Error('Unsupported Media Type: text/csv'), {
    statusCode: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  })
  t.strictSame(toProblem(error, request), {
    // the type is made from Fastify's code, not from the SPARKGATE_ code (see the report)
    type: 'https://sparkgate.dev/problems/fst-err-ctp-invalid-media-type',
    title: 'Unsupported Media Type',
    status: 415,
    detail: 'Unsupported Media Type: text/csv',
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_CTP_INVALID_MEDIA_TYPE',
  })
  const bodyTooLarge = Object.assign(new Error('Request body is too large'), {
    statusCode: 413,
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
  })
  t.equal(toProblem(bodyTooLarge, request).code, 'SPARKGATE_CTP_BODY_TOO_LARGE')
  t.equal(toProblem(bodyTooLarge, request).title, 'Content Too Large')

  const noCode = Object.assign(new Error('bad'), { statusCode: 400 })
  t.strictSame(toProblem(noCode, request), {
    type: 'https://sparkgate.dev/problems/client-error',
    title: 'Bad Request',
    status: 400,
    detail: 'bad',
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_BAD_REQUEST',
  })
})

t.test('Redis not serving is a 503 SPARKGATE_REDIS_UNAVAILABLE, never a 500', async (t) => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' })
  const down = [
    Object.assign(new Error('Reached the max retries per request limit (which is 1)'), {
      name: 'MaxRetriesPerRequestError',
    }),
    new Error('Connection is closed.'),
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    new Error('Command timed out'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6380'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    reply('LOADING Redis is loading the dataset in memory'),
    reply("READONLY You can't write against a read only replica."),
    reply('BUSY Redis is busy running a script.'),
    reply(
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    ),
  ]
  for (const error of down) {
    const p = toProblem(error, request)
    t.equal(p.status, 503, error.message)
    t.equal(p.code, 'SPARKGATE_REDIS_UNAVAILABLE')
  }
  for (const error of [
    reply('WRONGTYPE Operation against a key holding the wrong kind of value'),
    reply('ERR unknown command'),
  ])
    t.equal(toProblem(error, request).status, 500, `${error.message}: a bug, not an outage`)
})

t.test('anything else is a masked 500 SPARKGATE_INTERNAL', async (t) => {
  const internal = {
    type: 'https://sparkgate.dev/problems/sparkgate-internal',
    title: 'Internal Server Error',
    status: 500,
    detail: 'internal error; see the gateway log for this request id',
    instance: '/v1/jobs?limit=5',
    code: 'SPARKGATE_INTERNAL',
  }
  t.strictSame(toProblem(new TypeError('x is undefined'), request), internal)
  t.strictSame(toProblem('a thrown string', request), internal)
  t.strictSame(
    toProblem(Object.assign(new Error('upstream'), { statusCode: 502, code: 'X' }), request),
    internal,
    'a non-Sparkgate 5xx is masked, whatever its status',
  )
  t.strictSame(
    toProblem(Object.assign(new Error('redirect?'), { statusCode: 302 }), request),
    internal,
    'a status below 400 is no client error',
  )
})

t.test('errors.validation: one field, one rule, the message after the field', async (t) => {
  const e = errors.validation('body.backend', 'enum', 'must be one of a, b')
  t.type(e, SparkgateError)
  t.equal(e.status, 400)
  t.equal(e.code, 'SPARKGATE_VALIDATION')
  t.equal(e.message, 'body.backend must be one of a, b')
  t.strictSame(e.extra, {
    errors: [{ field: 'body.backend', rule: 'enum', message: 'body.backend must be one of a, b' }],
  })
  const all = errors.validationAll([
    { field: 'a', rule: 'r1', message: 'is bad' },
    { field: 'b', rule: 'r2', message: 'is worse' },
  ])
  t.equal(all.message, 'a is bad; b is worse')
  t.strictSame(all.extra['errors'], [
    { field: 'a', rule: 'r1', message: 'a is bad' },
    { field: 'b', rule: 'r2', message: 'b is worse' },
  ])
  t.strictSame(errors.invalidCursor().extra['errors'], [
    {
      field: 'querystring.cursor',
      rule: 'cursor',
      message: 'querystring.cursor is not a cursor this API returned',
    },
  ])
})

// Dummy arguments of every factory: a new factory without a line here fails typecheck
// (and the test below at run time).
const ARGS: { [K in keyof typeof errors]: Parameters<(typeof errors)[K]> } = {
  validation: ['body.x', 'type', 'must be a string'],
  validationAll: [[{ field: 'body.x', rule: 'type', message: 'must be a string' }]],
  invalidCursor: [],
  jobNotFound: ['j'],
  engineNotFound: ['eng-1'],
  engineLimit: ['t', 'livy'],
  engineClaimLost: ['j', 2],
  datasetNotFound: ['d'],
  modelNotFound: ['m'],
  modelVersionNotFound: ['m', 3],
  aliasNotFound: ['m', 'champion'],
  aliasReserved: ['latest'],
  aliasesNeedMlflow: [],
  versionDeleteNeedsMlflow: [],
  mlflowUnavailable: ['ECONNREFUSED'],
  unknownBackend: ['nope', ['livy', 'local']],
  idempotencyConflict: ['k'],
  jobTerminal: [{ id: 'j', state: 'succeeded' }],
  applicationSucceeded: [{ id: 'j', backend: 'livy' }, 'success'],
  backendUnavailable: ['livy', 'ECONNREFUSED'],
  notTraining: ['j'],
  notScoring: ['j'],
  jobNotSucceeded: ['j', 'running'],
  resultMissing: ['j'],
  plotNotFound: ['j', 'roc', ['pr']],
  uploadTooLarge: [10],
  emptyUpload: [],
  uploadAborted: [],
  uploadIdle: [1000],
  redisUnavailable: ['ECONNREFUSED'],
  hdfsUnavailable: ['ECONNREFUSED'],
  storageUnavailable: ['AuthorizationFailure'],
  datasetDeleting: ['d'],
  datasetInUse: ['d', 'j'],
  previewUnsupported: ['parquet'],
  unknownDatasetReference: ['body.batch.file', 'd'],
  webhookNotFound: ['wh_1'],
  deliveryNotFound: ['e'],
  deliveryPending: ['e'],
  unauthenticated: ['missing'],
  forbidden: ['viewer', 'write'],
  tenantNotFound: ['t'],
  tenantExists: ['t'],
  keyNotFound: ['t', 'k'],
  quotaExceeded: ['maxQueuedJobs', 409, 'too many'],
  tooManyStreams: [20],
  tooManyRequests: [60, 5],
  dependenciesDown: [['redis'], { redis: { up: false, url: 'redis://r' } }],
}

t.test('every catalogue entry is a SparkgateError with a SPARKGATE_* code', async (t) => {
  t.strictSame(Object.keys(ARGS).sort(), Object.keys(errors).sort(), 'every factory is called')
  for (const [name, args] of Object.entries(ARGS)) {
    const factory = errors[name as keyof typeof errors] as (...a: unknown[]) => unknown
    const e = factory(...args)
    t.type(e, SparkgateError, name)
    if (!(e instanceof SparkgateError)) continue
    t.match(e.code, /^SPARKGATE_[A-Z_]+$/, `${name}: ${e.code}`)
    t.ok(e.status >= 400 && e.status <= 599, `${name}: status ${e.status}`)
    t.ok(e.message.length > 0, `${name} says something`)
    const fields = e.extra['errors'] as { field: string; message: string }[] | undefined
    for (const f of fields ?? [])
      t.ok(f.message.startsWith(`${f.field} `), `${name}: the message names ${f.field}`)
  }
  // the statuses clients rely on
  t.equal(errors.jobNotFound('j').status, 404)
  t.equal(errors.unknownBackend('x', ['livy']).status, 400)
  t.equal(errors.unknownBackend('x', ['livy']).code, 'SPARKGATE_UNKNOWN_BACKEND')
  t.equal(errors.idempotencyConflict('k').status, 409)
  t.equal(errors.uploadTooLarge(1).status, 413)
  t.equal(errors.previewUnsupported('parquet').status, 415)
  t.equal(errors.backendUnavailable('b', 'm').status, 503)
  t.equal(errors.hdfsUnavailable('m').status, 503)
  t.equal(errors.unknownDatasetReference('body.batch.file', 'd').code, 'SPARKGATE_VALIDATION')
})
