/**
 * What the API does with jobs: accept (check, record, then enqueue), read, list, cancel,
 * read logs. Thin REST handlers call this; the submit worker and the tracker do the rest.
 * It talks to backends and the queue only through the ports in ./ports/.
 */
import { randomUUID } from 'node:crypto'
import type { DatasetService } from '../datasets/dataset-service.js'
import { errors } from '../errors.js'
import { checkTraining, trainingDatasetId } from '../training/training.js'
import type { BatchSpec, Job, JobEvent, JobInternals, JobSpec } from './job-schema.js'
import { isTerminal, StaleTransitionError } from './job-state.js'
import type { JobStore, ListQuery } from './job-store.js'
import type { JobQueue } from './ports/job-queue.js'
import {
  BackendError,
  type Backends,
  type ConfiguredBackend,
  type LogPage,
} from './ports/spark-backend.js'

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

interface References {
  /** the uploaded datasets the job reads */
  ids: string[]
  /** each dataset:// reference → the hdfs:// URI it runs with (public) */
  inputs: Record<string, string>
  internals: JobInternals
}

export class JobService {
  /** create() calls under way: a shutdown lets them finish (record and enqueue) first */
  private readonly pending = new Set<Promise<unknown>>()

  constructor(
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly backends: Backends,
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
  private async references(spec: JobSpec): Promise<References> {
    if (Boolean(spec.batch) === Boolean(spec.training))
      throw errors.validation('body', 'oneOf', 'needs exactly one of batch or training')
    if (spec.batch) {
      const resolved = this.datasets
        ? await this.datasets.resolve(referenceFields(spec.batch))
        : { ids: [], inputs: {} }
      return { ...resolved, internals: {} }
    }
    const training = spec.training!
    const id = trainingDatasetId(training)
    if (id === undefined) {
      checkTraining(training)
      return { ids: [], inputs: {}, internals: {} }
    }
    const dataset = await this.datasets?.find(id)
    if (!dataset) throw errors.unknownDatasetReference('body.training.dataset', id)
    checkTraining(training, dataset)
    return {
      ids: [id],
      inputs: { [`dataset://${id}`]: dataset.uri },
      internals: { datasetFormat: dataset.format },
    }
  }

  private async createNow(spec: JobSpec, idempotencyKey?: string) {
    const backend = spec.backend ?? this.backends.defaultName
    const configured = this.backends.byName.get(backend)
    if (!configured) throw errors.unknownBackend(backend, [...this.backends.byName.keys()])
    const refs = await this.references(spec)
    if (refs.ids.length > 0 && !configured.backend.capabilities.readsStagedFiles) {
      // Sparkgate stages datasets on its HDFS; this backend reads its own storage only
      const field = spec.training ? 'body.training.dataset' : 'body.batch'
      throw errors.validation(
        field,
        'reachable',
        `names dataset ${refs.ids[0]}, staged on HDFS, which ${configured.backend.kind} backend ${backend} cannot read; give a URI it can read instead (e.g. abfss:// for Synapse)`,
      )
    }
    // The job id is chosen first so that the datasets it reads name it before it exists:
    // a dataset DELETE racing this create then sees the job (or a job that never came).
    const id = randomUUID()
    if (refs.ids.length > 0) await this.datasets?.addUsers(refs.ids, id)
    const result = await this.store.create(
      id,
      spec,
      { backend: this.backends.defaultName, inputs: refs.inputs, internals: refs.internals },
      idempotencyKey,
    )
    if (result.conflict) throw errors.idempotencyConflict(idempotencyKey ?? '', result.job.id)
    // Recorded first, enqueued second: a crash in between leaves a queued record that the
    // tracker's reconciliation enqueues again (the queue entry's id makes that a no-op).
    if (result.created) await this.queue.enqueue(backend, id, 1, result.job.priority)
    return { job: result.job, created: result.created }
  }

  list(query: ListQuery) {
    return this.store.list(query)
  }

  async events(id: string): Promise<JobEvent[]> {
    await this.mustGet(id)
    return this.history(id)
  }

  /** A job's events without the existence check (a stream polls it after one check). */
  history(id: string): Promise<JobEvent[]> {
    return this.store.events(id)
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
      if (isTerminal(job.state)) throw errors.jobTerminal(job)
      try {
        if (job.state === 'queued') {
          await this.store.transition(job, ['queued'], 'cancelled', {
            reason: 'cancelled by client',
          })
          await this.queue.remove(job.backend, id, job.attempts + 1)
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
          await this.store.transition(job, ['submitted', 'running'], 'cancelled', {
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
    const keptAtFailure = () => ({
      from,
      total: stored.length,
      lines: stored.slice(from, from + size),
      source: 'stored' as const,
    })
    if (!job.backendRef) return keptAtFailure()
    try {
      return {
        ...(await this.backendOf(job).backend.logs(job.backendRef, from, size)),
        source: 'backend',
      }
    } catch (error) {
      // the backend forgot the batch (retention, restart): serve what was kept at failure
      if (error instanceof BackendError && error.kind === 'not_found') return keptAtFailure()
      return this.rethrow(job, error)
    }
  }

  find(id: string): Promise<Job | undefined> {
    return this.store.get(id)
  }

  async mustGet(id: string): Promise<Job> {
    const job = await this.store.get(id)
    if (!job) throw errors.jobNotFound(id)
    return job
  }

  private backendOf(job: Job): ConfiguredBackend {
    const configured = this.backends.byName.get(job.backend)
    if (!configured) throw errors.backendUnavailable(job.backend, 'not configured in this gateway')
    return configured
  }

  private rethrow(job: Job, error: unknown): never {
    if (error instanceof BackendError && error.kind === 'transient')
      throw errors.backendUnavailable(job.backend, error.message)
    throw error
  }
}
