/**
 * The catalogue of coded errors: every error a client can see is built here, with a stable
 * `code` (SPARKGATE_*) and its HTTP status; validation errors name the field and the rule.
 * The one mapper to RFC 9457 application/problem+json is src/plugins/problem-handler.ts:
 * it is HTTP's business, and the layers below (stores, services) need only the catalogue.
 */
import type { Problem } from './schemas/common.js'

/** An error a client may see: a stable code, its HTTP status, and extra problem members. */
export class SparkgateError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'SparkgateError'
  }
}

/** One broken rule of a request: where, which rule, and a sentence saying it (Problem's `errors`). */
export type FieldError = NonNullable<Problem['errors']>[number]

/** A 400 naming each field and rule; `message` follows the field name ("is required"). */
function validationAll(entries: FieldError[]) {
  const errors: FieldError[] = entries.map((e) => ({ ...e, message: `${e.field} ${e.message}` }))
  return new SparkgateError('SPARKGATE_VALIDATION', 400, errors.map((e) => e.message).join('; '), {
    errors,
  })
}

/** A 400 for one field: `validation('body.backend', 'enum', 'must be one of a, b')`. */
function validation(field: string, rule: string, message: string) {
  return validationAll([{ field, rule, message }])
}

/** What /readyz says of one dependency (Problem's `dependencies`). */
type DependencyState = NonNullable<Problem['dependencies']>[string]

export const errors = {
  validation,
  validationAll,
  invalidCursor: () =>
    validation('querystring.cursor', 'cursor', 'is not a cursor this API returned'),

  jobNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_JOB_NOT_FOUND', 404, `job '${id}' does not exist`),
  engineNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_ENGINE_NOT_FOUND', 404, `engine '${id}' does not exist`),
  engineLimit: (tenant: string, backend: string) =>
    new SparkgateError(
      'SPARKGATE_ENGINE_LIMIT',
      409,
      `no engine can start for tenant '${tenant}' on '${backend}': the tenant is at its policy's engines.max, or the backend at its cap of live applications`,
    ),
  engineClaimLost: (jobId: string, attempt: number) =>
    new SparkgateError(
      'SPARKGATE_ENGINE_CLAIM_LOST',
      409,
      `attempt ${attempt} of job '${jobId}' is not this engine's (it was given up on)`,
    ),
  datasetNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_DATASET_NOT_FOUND', 404, `dataset '${id}' does not exist`),
  modelNotFound: (name: string) =>
    new SparkgateError('SPARKGATE_MODEL_NOT_FOUND', 404, `model '${name}' does not exist`),
  modelVersionNotFound: (name: string, version: number) =>
    new SparkgateError(
      'SPARKGATE_MODEL_VERSION_NOT_FOUND',
      404,
      `model '${name}' has no version ${version}`,
    ),
  aliasNotFound: (name: string, alias: string) =>
    new SparkgateError('SPARKGATE_ALIAS_NOT_FOUND', 404, `model '${name}' has no alias '${alias}'`),
  aliasReserved: (alias: string) =>
    validation(
      'params.alias',
      'reserved',
      `'${alias}' is reserved by MLflow ('latest' and v<digits> name versions, in any case)`,
    ),
  aliasesNeedMlflow: () =>
    new SparkgateError(
      'SPARKGATE_MLFLOW_OFF',
      409,
      'model aliases live in the MLflow registry, and this gateway runs without it (SPARKGATE_MLFLOW_URL=none)',
    ),
  versionDeleteNeedsMlflow: () =>
    new SparkgateError(
      'SPARKGATE_MLFLOW_OFF',
      409,
      'a model version is deleted from the MLflow registry, and this gateway runs without it (SPARKGATE_MLFLOW_URL=none); the Redis registry keeps every version of its jobs',
    ),
  mlflowUnavailable: (message: string) =>
    new SparkgateError('SPARKGATE_MLFLOW_UNAVAILABLE', 503, `MLflow is unavailable: ${message}`),

  // jobs
  unknownBackend: (name: string, known: string[]) =>
    new SparkgateError(
      'SPARKGATE_UNKNOWN_BACKEND',
      400,
      `body.backend: no backend named '${name}' (configured: ${known.join(', ')})`,
      {
        errors: [
          {
            field: 'body.backend',
            rule: 'enum',
            message: `body.backend must be one of ${known.join(', ')}`,
          },
        ],
      },
    ),
  idempotencyConflict: (key: string) =>
    new SparkgateError(
      'SPARKGATE_IDEMPOTENCY_CONFLICT',
      409,
      `Idempotency-Key '${key}' was used before with a different body; use a new key for a new job`,
    ),
  jobTerminal: (job: { id: string; state: string }) =>
    new SparkgateError('SPARKGATE_JOB_TERMINAL', 409, `job ${job.id} is already ${job.state}`, {
      state: job.state,
    }),
  /** A cancel that came after the application succeeded, before the job recorded it. */
  applicationSucceeded: (job: { id: string; backend: string }, rawState: string) =>
    new SparkgateError(
      'SPARKGATE_JOB_TERMINAL',
      409,
      `job ${job.id}'s application already succeeded (${job.backend} state ${rawState}); the job becomes succeeded at the tracker's next look`,
      { state: 'succeeded' },
    ),
  backendUnavailable: (backend: string, message: string) =>
    new SparkgateError(
      'SPARKGATE_BACKEND_UNAVAILABLE',
      503,
      `backend ${backend} is unavailable: ${message}`,
    ),
  notTraining: (id: string) =>
    new SparkgateError(
      'SPARKGATE_NOT_TRAINING',
      409,
      `job ${id} is not a training or scoring job: it has no result`,
    ),
  notScoring: (id: string) =>
    new SparkgateError('SPARKGATE_NOT_SCORING', 409, `job ${id} is not a scoring job`),
  jobNotSucceeded: (id: string, state: string) =>
    new SparkgateError(
      'SPARKGATE_JOB_NOT_SUCCEEDED',
      409,
      `job ${id} is ${state}; its result exists once it has succeeded`,
      { state },
    ),
  resultMissing: (id: string, file = 'metrics.json') =>
    new SparkgateError('SPARKGATE_RESULT_MISSING', 409, `job ${id} left no ${file}`),
  plotNotFound: (id: string, name: string, names: string[]) =>
    new SparkgateError(
      'SPARKGATE_PLOT_NOT_FOUND',
      404,
      `job ${id} has no plot ${JSON.stringify(name)}; its plots: ${names.join(', ') || 'none'}`,
      { plots: names },
    ),

  // datasets
  uploadTooLarge: (limit: number) =>
    new SparkgateError(
      'SPARKGATE_UPLOAD_TOO_LARGE',
      413,
      `the upload is larger than the limit of ${limit} bytes (SPARKGATE_DATASET_MAX_BYTES)`,
      { limit },
    ),
  emptyUpload: () =>
    new SparkgateError(
      'SPARKGATE_EMPTY_UPLOAD',
      400,
      'the upload has no bytes: a dataset cannot be empty',
      { errors: [{ field: 'body', rule: 'minLength', message: 'body must not be empty' }] },
    ),
  uploadAborted: () =>
    new SparkgateError(
      'SPARKGATE_UPLOAD_ABORTED',
      400,
      'the client closed the connection before the upload was complete; nothing was kept',
    ),
  uploadIdle: (ms: number) =>
    new SparkgateError(
      'SPARKGATE_UPLOAD_IDLE',
      408,
      `the upload sent no byte for ${ms} ms (SPARKGATE_UPLOAD_IDLE_TIMEOUT_MS); nothing was kept`,
    ),
  redisUnavailable: (message: string) =>
    new SparkgateError('SPARKGATE_REDIS_UNAVAILABLE', 503, `Redis is unavailable: ${message}`),
  hdfsUnavailable: (message: string) =>
    new SparkgateError('SPARKGATE_HDFS_UNAVAILABLE', 503, `HDFS is unavailable: ${message}`),
  storageUnavailable: (message: string) =>
    new SparkgateError(
      'SPARKGATE_STORAGE_UNAVAILABLE',
      503,
      `the storage account is unavailable or refuses the gateway: ${message}`,
    ),
  datasetDeleting: (id: string) =>
    new SparkgateError(
      'SPARKGATE_DATASET_DELETING',
      409,
      `dataset ${id} (these bytes) is being deleted; upload it again once the delete is done`,
    ),
  datasetInUse: (id: string, jobId: string) =>
    new SparkgateError(
      'SPARKGATE_DATASET_IN_USE',
      409,
      `dataset ${id} is used by job ${jobId}, which has not ended`,
      { jobId },
    ),
  previewUnsupported: (format: string) =>
    new SparkgateError(
      'SPARKGATE_PREVIEW_UNSUPPORTED',
      415,
      `a ${format} dataset has no text rows to preview`,
    ),
  unknownDatasetReference: (field: string, id: string) =>
    validation(field, 'dataset', `names dataset ${id}, which does not exist`),

  // webhooks
  webhookNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_WEBHOOK_NOT_FOUND', 404, `webhook '${id}' does not exist`),
  deliveryNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_DELIVERY_NOT_FOUND', 404, `delivery '${id}' does not exist`),
  deliveryPending: (id: string) =>
    new SparkgateError(
      'SPARKGATE_DELIVERY_PENDING',
      409,
      `delivery '${id}' is still pending: only a dead or delivered one can be replayed`,
    ),

  // identity, tenants, quotas
  unauthenticated: (reason: 'missing' | 'malformed' | 'unknown' | 'expired') =>
    new SparkgateError(
      'SPARKGATE_UNAUTHENTICATED',
      401,
      {
        missing: 'this call needs an API key: Authorization: Bearer <key>',
        malformed: 'the Authorization header must be: Bearer <key>',
        unknown: 'the API key is not valid (unknown or revoked)',
        expired: 'the API key has expired',
      }[reason],
    ),
  forbidden: (role: string, access: string) =>
    new SparkgateError(
      'SPARKGATE_FORBIDDEN',
      403,
      `a ${role} key cannot do this (it needs ${access === 'admin' ? 'the platform admin role' : access === 'write' ? 'the member or admin role' : 'read access'})`,
      { role },
    ),
  tenantNotFound: (id: string) =>
    new SparkgateError('SPARKGATE_TENANT_NOT_FOUND', 404, `tenant '${id}' does not exist`),
  tenantExists: (id: string) =>
    new SparkgateError('SPARKGATE_TENANT_EXISTS', 409, `tenant '${id}' exists already`, {
      errors: [{ field: 'body.name', rule: 'unique', message: `body.name ${id} is taken` }],
    }),
  keyNotFound: (tenant: string, id: string) =>
    new SparkgateError('SPARKGATE_KEY_NOT_FOUND', 404, `tenant '${tenant}' has no key '${id}'`),
  quotaExceeded: (quota: string, status: 409 | 413, message: string) =>
    new SparkgateError('SPARKGATE_QUOTA_EXCEEDED', status, `quota ${quota}: ${message}`, {
      quota,
    }),
  tooManyStreams: (max: number) =>
    new SparkgateError(
      'SPARKGATE_TOO_MANY_STREAMS',
      429,
      `this tenant has ${max} event streams open on this gateway (SPARKGATE_MAX_EVENT_STREAMS); close one first`,
    ),
  tooManyRequests: (limit: number, retryAfterSeconds: number) =>
    new SparkgateError(
      'SPARKGATE_RATE_LIMITED',
      429,
      `more than ${limit} requests a minute for this tenant (quota requestsPerMinute); retry in ${retryAfterSeconds} s`,
      { quota: 'requestsPerMinute' },
    ),

  // health
  dependenciesDown: (names: string[], dependencies: Record<string, DependencyState>) =>
    new SparkgateError('SPARKGATE_DEPENDENCY_DOWN', 503, `not ready: ${names.join(', ')} down`, {
      dependencies,
    }),
}
