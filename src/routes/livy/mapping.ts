/**
 * Between Livy's batch API and Sparkgate's jobs: a Livy batch request becomes a job of the
 * batch kind (its resources, queue, name; the backend and priority a header or a
 * `spark.sparkgate.*` conf key names), a job becomes Livy's Batch object, and an error
 * becomes Livy's `{msg}` naming the field (as the request named it) and the rule.
 */
import type { Job, JobSpec } from '../../domain/job-schema.js'
import type { JobState } from '../../domain/job-state.js'
import { errors, SparkgateError } from '../../errors.js'
import type { Problem } from '../../schemas/common.js'
import type { LivyBatch, LivyBatchRequest } from './schemas.js'

/** Sparkgate's `spark.sparkgate.*` conf keys: read here, never passed to Spark. */
export const BACKEND_CONF = 'spark.sparkgate.backend'
export const PRIORITY_CONF = 'spark.sparkgate.priority'

const STATES: Record<JobState, string> = {
  queued: 'not_started',
  staging: 'starting',
  submitting: 'starting',
  submitted: 'starting',
  running: 'running',
  succeeded: 'success',
  failed: 'dead',
  cancelled: 'killed',
}

/** Livy's state word of a job's state. */
export function livyState(state: JobState): string {
  return STATES[state]
}

export interface LivyChoices {
  /** X-Sparkgate-Backend */
  backend?: string | undefined
  /** X-Sparkgate-Priority */
  priority?: string | undefined
}

/**
 * The job spec of a Livy batch request. The conf's `spark.sparkgate.backend` and
 * `spark.sparkgate.priority` (a header wins over them) leave the conf; every other conf
 * value goes to Spark as a string, checked by the tenant's policy as any job's.
 */
export function jobSpecOf(body: LivyBatchRequest, choices: LivyChoices): JobSpec {
  const conf: Record<string, string> = {}
  for (const [key, value] of Object.entries(body.conf ?? {})) conf[key] = String(value)
  const backend = choices.backend ?? conf[BACKEND_CONF]
  const priorityText = choices.priority ?? conf[PRIORITY_CONF]
  delete conf[BACKEND_CONF]
  delete conf[PRIORITY_CONF]
  let priority: number | undefined
  if (priorityText !== undefined) {
    priority = Number(priorityText)
    if (!Number.isInteger(priority) || priority < 1 || priority > 10)
      throw errors.validation(
        choices.priority !== undefined ? 'header.x-sparkgate-priority' : `conf.${PRIORITY_CONF}`,
        'priority',
        'must be an integer from 1 (highest) to 10',
      )
  }
  const resources = {
    ...(body.driverMemory !== undefined ? { driverMemory: body.driverMemory } : {}),
    ...(body.driverCores !== undefined ? { driverCores: body.driverCores } : {}),
    ...(body.executorMemory !== undefined ? { executorMemory: body.executorMemory } : {}),
    ...(body.executorCores !== undefined ? { executorCores: body.executorCores } : {}),
    ...(body.numExecutors !== undefined ? { numExecutors: body.numExecutors } : {}),
  }
  return {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(backend !== undefined ? { backend } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(body.queue !== undefined ? { queue: body.queue } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    batch: {
      file: body.file,
      ...(body.className !== undefined ? { className: body.className } : {}),
      ...(body.args ? { args: body.args } : {}),
      ...(body.jars ? { jars: body.jars } : {}),
      ...(body.pyFiles ? { pyFiles: body.pyFiles } : {}),
      ...(body.files ? { files: body.files } : {}),
      ...(body.archives ? { archives: body.archives } : {}),
      ...(Object.keys(conf).length > 0 ? { conf } : {}),
    },
  }
}

/** A 403 for a `proxyUser` that is not the tenant's cluster user. */
export function checkProxyUser(proxyUser: string | undefined, clusterUser: string) {
  if (proxyUser !== undefined && proxyUser !== clusterUser)
    throw new SparkgateError(
      'SPARKGATE_FORBIDDEN',
      403,
      `proxyUser ${proxyUser} is not allowed: this tenant's batches run as its cluster user ${clusterUser}`,
    )
}

/** Livy's Batch object of a job and its id. */
export function livyBatch(id: number, job: Job, clusterUser: string, log: string[]): LivyBatch {
  const ref = job.backendRef
  return {
    id,
    name: job.spec.name ?? null,
    owner: job.tenant,
    proxyUser: clusterUser,
    state: livyState(job.state),
    appId: ref?.appId ?? null,
    appInfo: { driverLogUrl: ref?.driverLogUrl ?? null, sparkUiUrl: ref?.sparkUiUrl ?? null },
    log,
    sparkgateJob: job.id,
  }
}

/** A field as a Livy request names it: body.batch.conf.x → conf.x, body.resources.driverMemory → driverMemory. */
function livyField(text: string): string {
  return text.replace(/\bbody\.(batch\.|resources\.)?/g, '')
}

/** Livy's error body of a problem: the field and the rule of each broken one, else its detail. */
export function livyMessage(problem: Problem): string {
  if (problem.errors?.length)
    return problem.errors.map((e) => `${livyField(e.message)} (rule: ${e.rule})`).join('; ')
  return livyField(problem.detail ?? problem.title ?? 'error')
}
