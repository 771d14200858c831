/**
 * The job core's accept path with no service: a JobService over stand-ins for the store
 * (it keeps what it was asked to record) and the queue, the gateway's kinds bound to
 * nothing, and one backend of the given capabilities. For unit tests of what a job is
 * checked against and what is recorded of it.
 */
import type { FileStore } from '../../src/storage/file-store.js'
import type { JobRecord, JobSpec } from '../../src/domain/job-schema.js'
import { JobService } from '../../src/domain/job-service.js'
import type { JobStore } from '../../src/domain/job-store.js'
import type { JobQueue } from '../../src/domain/ports/job-queue.js'
import type {
  BackendCapabilities,
  Backends,
  SparkBackend,
} from '../../src/domain/ports/spark-backend.js'
import type { Tenant, TenantPolicy } from '../../src/tenancy/tenant-schema.js'
import { unitKinds } from './kinds.js'

export const JOB_ID = '0b6f7c1e-5d2a-4c8e-9f3b-2a1d4e5f6a7b'

/** A job record built by hand (a batch being submitted, attempt 1). */
export function record(spec: JobSpec, over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: JOB_ID,
    tenant: 'acme',
    name: 'nightly',
    state: 'submitting',
    backend: 'livy',
    backendState: null,
    attempts: 1,
    maxAttempts: 3,
    priority: 5,
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:00:01.000Z',
    spec,
    ...over,
  }
}

/** Tenant acme with the given queues; its policy lets jobs name anything on hdfs://nn:8020/. */
export function tenant(yarnQueues: string[] = ['default'], over: Partial<TenantPolicy> = {}) {
  const at = '2024-05-01T10:00:00.000Z'
  return {
    id: 'acme',
    name: 'acme',
    clusterUser: 'acme',
    policy: { uriPrefixes: ['hdfs://nn:8020/'], confAllow: [], yarnQueues, ...over },
    quotas: { maxQueuedJobs: 100, maxLiveJobs: 10, datasetBytes: 1e9, requestsPerMinute: 1000 },
    createdAt: at,
    updatedAt: at,
  } satisfies Tenant
}

/** What the stand-in store was asked to record of each accepted job. */
export interface Recorded {
  spec: JobSpec
  queue?: string
  inputs?: Record<string, string>
}

/** A JobService whose one backend (`livy`) has the given capabilities. */
export function serviceWith(capabilities: Partial<BackendCapabilities> = {}) {
  const created: Recorded[] = []
  const store = {
    async create(id: string, spec: JobSpec, d: Omit<Recorded, 'spec'>) {
      created.push({ spec, ...(d.queue ? { queue: d.queue } : {}), inputs: d.inputs ?? {} })
      return {
        job: record(spec, { id, state: 'queued', queue: d.queue }),
        created: true,
        active: 0,
      }
    },
    async enqueued() {},
    async inOutbox() {
      return false
    },
  } as unknown as JobStore
  const queue = { enqueue: async () => undefined } as unknown as JobQueue
  const backend = {
    name: 'livy',
    kind: 'livy',
    capabilities: { readsStagedFiles: true, workDirArchives: true, ...capabilities },
  } as SparkBackend
  const backends: Backends = {
    byName: new Map([['livy', { backend, maxLive: 4 }]]),
    defaultName: 'livy',
  }
  const service = new JobService(store, queue, backends, unitKinds, {
    localFolders: [],
    areaOf: (t) => ({ defaultFs: 'hdfs://nn:8020', root: `/sparkgate/tenants/${t}` }),
    // the kinds' stand-ins never touch it
    storeOf: () => ({}) as FileStore,
  })
  return { service, created }
}
