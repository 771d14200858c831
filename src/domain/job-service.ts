/**
 * What the API does with jobs: accept (check, record, then enqueue), read, list, cancel,
 * read logs. Thin REST handlers call this; the submit worker and the tracker do the rest.
 * It talks to backends and the queue only through the ports in ./ports/.
 */
import { randomUUID } from 'node:crypto'
import { errors } from '../errors.js'
import { inScope, type Scope } from '../tenancy/access.js'
import {
  checkConf,
  checkQueue,
  checkUris,
  type Policy,
  type TenantArea,
} from '../tenancy/policy.js'
import type { Tenant } from '../tenancy/tenant-schema.js'
import type { FileStore } from '../storage/file-store.js'
import type { JobKinds, KindOf } from './job-kinds.js'
import type { BackendRef, Job, JobEvent, JobSpec } from './job-schema.js'
import { isTerminal, StaleTransitionError } from './job-state.js'
import type { JobStore, ListQuery } from './job-store.js'
import type { JobQueue } from './ports/job-queue.js'
import {
  BackendError,
  batchKey,
  type BackendCapabilities,
  type Backends,
  type ConfiguredBackend,
  type LogPage,
} from './ports/spark-backend.js'

/** What the job core needs to know of the platform's policy and a tenant's HDFS area. */
export interface JobPolicyOptions {
  /** local folders every tenant may name with file:// or local: */
  localFolders: string[]
  /** a tenant's own HDFS area (fs.defaultFS and its folder) and its areas in other stores */
  areaOf: (tenant: string) => TenantArea
  /** the store a backend's Spark reads (where its jobs' files are staged) */
  storeOf: (backend: string) => FileStore
}

/** What each backend capability means, for the 400 of a job that needs one its backend lacks. */
const CAPABILITY_TEXT: Record<keyof BackendCapabilities, string> = {
  readsStagedFiles:
    'reads the files Sparkgate stages (HDFS, or the storage account set as its `storage`)',
  workDirArchives:
    "unpacks archives into the driver's and executors' working directory (Spark on YARN)",
}

/**
 * A job's place in its backend's queue (BullMQ priority, lower first): its priority
 * first; within a priority, fair between tenants — a job's rank grows with how many jobs
 * its tenant already has waiting, so one tenant's thousand queued jobs do not starve
 * another tenant's one, and each tenant's own jobs stay in order.
 */
export function queueRank(priority: number, tenantActive: number) {
  return (priority - 1) * 200_000 + Math.min(tenantActive, 199_999) + 1
}

export class JobService {
  /** create() calls under way: a shutdown lets them finish (record and enqueue) first */
  private readonly pending = new Set<Promise<unknown>>()

  constructor(
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly backends: Backends,
    private readonly kinds: JobKinds,
    private readonly policy: JobPolicyOptions,
  ) {}

  /** Accepts a job of `tenant`: checked against its policy and quota, recorded, queued. */
  create(
    tenant: Tenant,
    spec: JobSpec,
    idempotencyKey?: string,
  ): Promise<{ job: Job; created: boolean }> {
    const work = this.createNow(tenant, spec, idempotencyKey)
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
   * What a job may name (the tenant's policy): every URI its kind names — its own HDFS
   * area, dataset:// and the prefixes its admin allowed; its Spark conf — the allowed
   * keys, never a protected one.
   */
  private checkPolicy(tenant: Tenant, { kind, spec }: KindOf, queue: string | undefined) {
    const policy: Policy = {
      ...tenant.policy,
      localFolders: this.policy.localFolders,
    }
    const { uris, conf } = kind.policyRefs(spec)
    const area = this.policy.areaOf(tenant.id)
    const refused = [
      ...checkQueue(queue, policy),
      ...checkUris(uris, area, policy),
      ...checkConf(conf ?? {}, policy),
    ]
    if (refused.length > 0) throw errors.validationAll(refused)
  }

  private async createNow(tenant: Tenant, spec: JobSpec, idempotencyKey?: string) {
    const backend = spec.backend ?? this.backends.defaultName
    const configured = this.backends.byName.get(backend)
    if (!configured) throw errors.unknownBackend(backend, [...this.backends.byName.keys()])
    // exactly one kind; its policy, then what only it can check and resolve
    const of = this.kinds.ofRequest(spec)
    this.checkPolicy(tenant, of, spec.queue)
    if (spec.engine === 'warm') checkWarm(tenant, of.kind)
    const refs = await of.kind.accept(tenant, of.spec, this.policy.storeOf(backend))
    const request = of.kind.requestOf
      ? { ...spec, [of.kind.name]: of.kind.requestOf(of.spec) }
      : spec
    if (refs.spec !== undefined) spec = { ...spec, [of.kind.name]: refs.spec }
    if (refs.ids.length > 0 && !configured.backend.capabilities.readsStagedFiles) {
      // Sparkgate stages datasets in the store a backend reads; this one names none
      throw errors.validation(
        refs.stagedField,
        'reachable',
        `names dataset ${refs.ids[0]}, which Sparkgate stages for the backend, but ${configured.backend.kind} backend ${backend} names no store Sparkgate can stage in (set \`storage\` on its entry); give a URI it can read instead (e.g. abfss:// for Synapse)`,
      )
    }
    for (const [capability, field] of Object.entries(refs.requires ?? {}))
      if (!configured.backend.capabilities[capability as keyof BackendCapabilities])
        throw errors.validation(
          field,
          'backend-capability',
          `needs a backend that ${CAPABILITY_TEXT[capability as keyof BackendCapabilities]}, which ${configured.backend.kind} backend ${backend} does not; pick another backend`,
        )
    const id = randomUUID()
    // One step records the job, names it among its datasets' users (a dataset deleted
    // since the check above makes it a 400 here, never a job reading a deleted dataset)
    // and puts it in the enqueue outbox.
    const result = await this.store.create(
      id,
      spec,
      {
        tenant: tenant.id,
        maxActive: tenant.quotas.maxQueuedJobs,
        backend: this.backends.defaultName,
        // the tenant's default queue when the spec names none (checked above)
        queue: spec.queue ?? tenant.policy.yarnQueues[0],
        inputs: refs.inputs,
        internals: { ...refs.internals, clusterUser: tenant.clusterUser },
        datasets: refs.ids,
        request,
      },
      idempotencyKey,
    )
    if ('overQuota' in result)
      throw errors.quotaExceeded(
        'maxQueuedJobs',
        409,
        `tenant ${tenant.id} has ${result.overQuota} jobs that have not ended, its quota is ${tenant.quotas.maxQueuedJobs}; wait for some to end`,
      )
    if ('missingDataset' in result)
      throw errors.unknownDatasetReference(
        refs.fields[result.missingDataset] ?? 'body',
        result.missingDataset,
      )
    if (result.conflict) throw errors.idempotencyConflict(idempotencyKey ?? '')
    // Recorded (in the outbox) first, enqueued second. A crash in between: the tracker
    // drains the outbox on its next tick; a retry with the same key does it at once.
    const job = result.job
    if (result.created) await this.enqueue(backend, id, queueRank(job.priority, result.active ?? 0))
    else if (job.state === 'queued' && (await this.store.inOutbox(job.id)))
      await this.enqueue(job.backend, job.id, queueRank(job.priority, 0), job.attempts + 1)
    return { job: result.job, created: result.created }
  }

  /** The queue entry of a job's attempt, then out of the outbox (both idempotent). */
  private async enqueue(backend: string, id: string, rank: number, attempt = 1) {
    await this.queue.enqueue(backend, id, attempt, rank)
    await this.store.enqueued(id)
  }

  /** The jobs a scope sees: its tenant's, or every tenant's (optionally one) for an admin. */
  list(scope: Scope, query: Omit<ListQuery, 'tenant'> & { tenant?: string }) {
    if (!scope.all) return this.store.list({ ...query, tenant: scope.tenant })
    return this.store.list(query)
  }

  async events(scope: Scope, id: string): Promise<JobEvent[]> {
    await this.mustGet(scope, id)
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
  async cancel(scope: Scope, id: string): Promise<Job> {
    for (let round = 0; round < 5; round++) {
      const job = await this.mustGet(scope, id)
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
          const now = await this.mustGet(scope, id)
          if (now.state === 'submitted' || now.state === 'running') continue
        } else {
          // An application that succeeded before any tracker saw it keeps its end: its
          // outputs (a model, a scored file) stand, and the tracker records it.
          const ref = job.backendRef
          const ended = ref && (await this.succeededUnseen(job, ref))
          if (ended) throw errors.applicationSucceeded(job, ended)
          // The intent first, then the kill, then the record: a kill that fails, or a
          // crash after it, leaves the flag, and the tracker kills (again) and ends the
          // job cancelled — never lost, never retried.
          await this.store.update(id, { cancelRequested: true })
          if (ref)
            await this.backendOf(job)
              .backend.cancel(ref)
              .catch((e: unknown) => this.rethrow(job, e))
          await this.store.transition(job, ['submitted', 'running'], 'cancelled', {
            attempt: job.attempts,
            reason: 'cancelled by client',
          })
        }
        return this.mustGet(scope, id)
      } catch (error) {
        if (error instanceof StaleTransitionError) continue
        throw error
      }
    }
    return this.mustGet(scope, id)
  }

  /**
   * The backend's state word when the job's application has succeeded (the tracker has
   * not recorded it yet); undefined otherwise, or when the backend cannot say (then the
   * cancel goes on: the tracker lets a succeeded end stand over a cancel flag anyway).
   */
  private async succeededUnseen(job: Job, ref: BackendRef): Promise<string | undefined> {
    try {
      const status = (await this.backendOf(job).backend.statusMany([ref])).get(batchKey(ref))
      return status?.phase === 'succeeded' ? status.rawState : undefined
    } catch {
      return undefined
    }
  }

  async logs(
    scope: Scope,
    id: string,
    from: number,
    size: number,
  ): Promise<LogPage & { source: 'backend' | 'stored' }> {
    const job = await this.mustGet(scope, id)
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

  /** The job if the scope sees it; another tenant's job is as absent as a missing one. */
  async find(scope: Scope, id: string): Promise<Job | undefined> {
    const job = await this.store.get(id)
    return job && inScope(scope, job.tenant) ? job : undefined
  }

  async mustGet(scope: Scope, id: string): Promise<Job> {
    const job = await this.find(scope, id)
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

/**
 * The place of a job queued again (a retry, or a lost queue entry found by the tracker):
 * its priority's first place — it waited its turn once already.
 */
export function rankOf(job: Pick<Job, 'priority'>): number {
  return queueRank(job.priority, 0)
}

/** A job that asks to run `warm`: its kind runs in engines, and its tenant may have one. */
function checkWarm(tenant: Tenant, kind: { name: string; runsInEngine?: boolean }) {
  if (!kind.runsInEngine)
    throw errors.validation(
      'body.engine',
      'runs-in-engine',
      `a ${kind.name} job never runs in a warm engine (a user's own code always runs cold): use auto or cold`,
    )
  if (tenant.policy.engines?.max === 0)
    throw errors.validation(
      'body.engine',
      'engine-policy',
      "is warm, but the tenant's policy allows no engine (engines.max = 0): use auto or cold",
    )
}
