/**
 * What the API does with jobs: accept (record, then enqueue), cancel, read logs.
 * Thin REST handlers call this; the submit worker and the tracker do the rest.
 */
import type { ConfiguredBackend } from '../backends/create-backends.js'
import { BackendError, type LogPage } from '../backends/spark-backend.js'
import { SparkgateError } from '../errors.js'
import type { SubmitQueues } from '../workers/queues.js'
import { checkTraining, trainingDatasetId } from '../training/training.js'
import type { BatchSpec, Job, JobSpec } from './job-schema.js'
import { isTerminal } from './job-state.js'
import { StaleTransitionError } from './job-state.js'
import type { DatasetService } from '../datasets/dataset-service.js'
import type { JobStore } from './job-store.js'

export const jobErrors = {
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
  idempotencyConflict: (key: string, jobId: string) =>
    new SparkgateError(
      'SPARKGATE_IDEMPOTENCY_CONFLICT',
      409,
      `Idempotency-Key '${key}' was used for job ${jobId} with a different body`,
      { jobId },
    ),
  terminal: (job: Job) =>
    new SparkgateError('SPARKGATE_JOB_TERMINAL', 409, `job ${job.id} is already ${job.state}`, {
      state: job.state,
    }),
  backendUnavailable: (backend: string, message: string) =>
    new SparkgateError(
      'SPARKGATE_BACKEND_UNAVAILABLE',
      503,
      `backend ${backend} is unavailable: ${message}`,
    ),
}

/** Every place of a batch spec that takes a URI (or an argument), with its field name. */
function referenceFields(b: BatchSpec): [string, string][] {
  const list = (name: string, values?: string[]) =>
    (values ?? []).map((v, i): [string, string] => [`body.batch.${name}.${i}`, v])
  return [
    ['body.batch.file', b.file],
    ...list('pyFiles', b.pyFiles),
    ...list('files', b.files),
    ...list('jars', b.jars),
    ...list('args', b.args),
  ]
}

export class JobService {
  /** create() calls under way: a shutdown lets them finish (record and enqueue) first */
  private readonly pending = new Set<Promise<unknown>>()

  constructor(
    private readonly store: JobStore,
    private readonly queues: SubmitQueues,
    private readonly backends: Map<string, ConfiguredBackend>,
    private readonly defaultBackend: string,
    private readonly datasets?: DatasetService,
  ) {}

  create(spec: JobSpec, idempotencyKey?: string): Promise<{ job: Job; created: boolean }> {
    const work = this.createNow(spec, idempotencyKey)
    this.pending.add(work)
    const forget = () => this.pending.delete(work)
    work.then(forget, forget)
    return work
  }

  /** Waits (up to `deadlineMs`) for the create() calls under way; true when none is left. */
  async drain(deadlineMs: number): Promise<boolean> {
    const deadline = Date.now() + deadlineMs
    while (this.pending.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.pending]),
        new Promise((resolve) => setTimeout(resolve, Math.max(1, deadline - Date.now()))),
      ])
    }
    return this.pending.size === 0
  }

  /**
   * Checks what the schema cannot and resolves dataset references: exactly one of batch or
   * training; dataset:// URIs of a batch; the dataset, params and columns of a training.
   */
  private async references(
    spec: JobSpec,
  ): Promise<{ ids: string[]; inputs: Record<string, string> }> {
    if (Boolean(spec.batch) === Boolean(spec.training)) {
      throw new SparkgateError(
        'SPARKGATE_VALIDATION',
        400,
        'body needs exactly one of batch or training',
        {
          errors: [
            {
              field: 'body',
              rule: 'oneOf',
              message: 'body needs exactly one of batch or training',
            },
          ],
        },
      )
    }
    if (spec.batch) {
      return this.datasets
        ? this.datasets.resolve(referenceFields(spec.batch))
        : { ids: [], inputs: {} }
    }
    const training = spec.training!
    const id = trainingDatasetId(training)
    if (id === undefined) {
      checkTraining(training)
      return { ids: [], inputs: {} }
    }
    const dataset = await this.datasets?.find(id)
    if (!dataset) {
      throw new SparkgateError(
        'SPARKGATE_VALIDATION',
        400,
        `body.training.dataset names dataset ${id}, which does not exist`,
        {
          errors: [
            {
              field: 'body.training.dataset',
              rule: 'dataset',
              message: `body.training.dataset: no dataset ${id}`,
            },
          ],
        },
      )
    }
    checkTraining(training, dataset)
    return { ids: [id], inputs: { [`dataset://${id}`]: dataset.uri, '@format': dataset.format } }
  }

  private async createNow(spec: JobSpec, idempotencyKey?: string) {
    const backend = spec.backend ?? this.defaultBackend
    if (!this.backends.has(backend))
      throw jobErrors.unknownBackend(backend, [...this.backends.keys()])
    const refs = await this.references(spec)
    if (refs.ids.length > 0 && this.backends.get(backend)!.backend.kind === 'synapse') {
      // Sparkgate stages datasets on HDFS; a Synapse pool reads its workspace storage
      const field = spec.training ? 'body.training.dataset' : 'body.batch'
      throw new SparkgateError(
        'SPARKGATE_VALIDATION',
        400,
        `${field}: dataset ${refs.ids[0]} is staged on HDFS, which Synapse backend ${backend} cannot read; give an abfss:// URI the pool can read instead`,
        {
          errors: [
            {
              field,
              rule: 'reachable',
              message: `${field}: datasets staged on HDFS cannot be read by a Synapse pool`,
            },
          ],
        },
      )
    }
    const result = await this.store.create(
      spec,
      { backend: this.defaultBackend, inputs: refs.inputs },
      idempotencyKey,
    )
    if (result.conflict) throw jobErrors.idempotencyConflict(idempotencyKey ?? '', result.job.id)
    // Recorded first, enqueued second: a crash in between leaves a queued record that the
    // worker's reconciliation enqueues again (the BullMQ job id makes that a no-op otherwise).
    if (result.created) await this.datasets?.addUsers(refs.ids, result.job.id)
    if (result.created) await this.queues.enqueue(backend, result.job.id, 1, result.job.priority)
    return { job: result.job, created: result.created }
  }

  /**
   * Cancel: a queued job leaves the queue; a live batch is killed; a job being submitted
   * is flagged and the worker finishes the cancel. Repeating it is harmless; a job that
   * already succeeded or failed is a 409.
   */
  async cancel(id: string): Promise<Job> {
    for (let round = 0; round < 5; round++) {
      const job = await this.mustGet(id)
      if (job.state === 'cancelled') return job
      if (isTerminal(job.state)) throw jobErrors.terminal(job)
      try {
        if (job.state === 'queued') {
          await this.store.transition(id, ['queued'], 'cancelled', {
            reason: 'cancelled by client',
          })
          await this.queues.remove(job.backend, id, job.attempts + 1)
        } else if (job.state === 'staging' || job.state === 'submitting') {
          await this.store.update(id, { cancelRequested: true })
          // the worker may have recorded the batch meanwhile: then cancel it here
          const now = await this.mustGet(id)
          if (now.state === 'submitted' || now.state === 'running') continue
        } else {
          const ref = job.backendRef
          if (ref)
            await this.backendOf(job)
              .backend.cancel(ref)
              .catch((e: unknown) => this.rethrow(job, e))
          await this.store.transition(id, ['submitted', 'running'], 'cancelled', {
            reason: 'cancelled by client',
            set: { cancelRequested: true },
          })
        }
        return this.mustGet(id)
      } catch (error) {
        if (error instanceof StaleTransitionError) continue
        throw error
      }
    }
    return this.mustGet(id)
  }

  async logs(
    id: string,
    from: number,
    size: number,
  ): Promise<LogPage & { source: 'backend' | 'stored' }> {
    const job = await this.mustGet(id)
    const stored = job.error?.logLines ?? []
    if (!job.backendRef)
      return {
        from: 0,
        total: stored.length,
        lines: stored.slice(from, from + size),
        source: 'stored',
      }
    try {
      return {
        ...(await this.backendOf(job).backend.logs(job.backendRef, from, size)),
        source: 'backend',
      }
    } catch (error) {
      // the backend forgot the batch (retention, restart): serve what was kept at failure
      if (error instanceof BackendError && error.kind === 'not_found') {
        return {
          from,
          total: stored.length,
          lines: stored.slice(from, from + size),
          source: 'stored',
        }
      }
      return this.rethrow(job, error)
    }
  }

  async mustGet(id: string): Promise<Job> {
    const job = await this.store.get(id)
    if (!job) throw new SparkgateError('SPARKGATE_JOB_NOT_FOUND', 404, `job '${id}' does not exist`)
    return job
  }

  private backendOf(job: Job): ConfiguredBackend {
    const configured = this.backends.get(job.backend)
    if (!configured)
      throw jobErrors.backendUnavailable(job.backend, 'not configured in this gateway')
    return configured
  }

  private rethrow(job: Job, error: unknown): never {
    if (error instanceof BackendError && error.kind === 'transient') {
      throw jobErrors.backendUnavailable(job.backend, error.message)
    }
    throw error
  }
}
