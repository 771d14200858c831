/**
 * SparkBackend over an Azure Synapse Spark pool, through the real `@azure/synapse-spark`
 * SDK (SparkClient → sparkBatch) and `@azure/identity`. Synapse batches are Livy batches
 * behind Azure auth: the job id goes into the batch's `name` and its `tags`, the tracker
 * lists batches once per tick (paged, `detailed`), and logs come from the batch's
 * `logLines`.
 */
import { readFileSync } from 'node:fs'
import type { TokenCredential } from '@azure/core-auth'
import { DefaultAzureCredential } from '@azure/identity'
import { SparkClient, type SparkBatchJob } from '@azure/synapse-spark'
import type { BackendRef } from '../../domain/job-schema.js'
import {
  BackendError,
  type BatchStatus,
  type BatchSubmission,
  type LogPage,
  type SparkBackend,
} from '../../domain/ports/spark-backend.js'
import { listAllBatches, livyLogLine, livyPhase, statusesFromList } from '../livy-protocol.js'
import { tailOf } from '../log-tail.js'

export interface SynapseBackendOptions {
  name: string
  /** workspace development endpoint, e.g. https://myws.dev.azuresynapse.net */
  endpoint: string
  pool: string
  livyApiVersion?: string
  /** DefaultAzureCredential unless given */
  credential?: TokenCredential
  /** PEM of a CA to trust (private endpoints, TLS-inspecting proxies, the test double) */
  caFile?: string
  pageSize?: number
  /**
   * The workspace's storage where Sparkgate stages the pool's files (datasets, train.py,
   * models): with one, the backend reads staged files, and its health includes the store's
   */
  store?: { health(): Promise<void> }
}

/** A bearer token handed over as is (e.g. from `az account get-access-token`). */
export function staticTokenCredential(token: string): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
  }
}

function mapError(error: unknown): never {
  const status = (error as { statusCode?: number }).statusCode
  const message = (error as Error).message ?? String(error)
  if (status === undefined || status >= 500 || status === 429 || status === 408)
    throw new BackendError('transient', `Synapse unreachable or failing: ${message}`)
  if (status === 404) throw new BackendError('not_found', message)
  if (status === 401 || status === 403)
    throw new BackendError('transient', `Synapse refused the credential (${status}): ${message}`)
  throw new BackendError('rejected', message)
}

function toStatus(job: SparkBatchJob): BatchStatus {
  const state = job.state ?? 'not_started'
  let phase = livyPhase(state)
  // `result` settles what a bare state may leave open
  if (job.result === 'Succeeded') phase = 'succeeded'
  else if (job.result === 'Failed') phase = 'failed'
  else if (job.result === 'Cancelled') phase = 'killed'
  const info = job.appInfo ?? {}
  return {
    phase,
    rawState: state,
    ...(job.appId ? { appId: job.appId } : {}),
    ...(info['driverLogUrl'] ? { driverLogUrl: info['driverLogUrl'] } : {}),
    ...(info['sparkUiUrl'] ? { sparkUiUrl: info['sparkUiUrl'] } : {}),
  }
}

/** Whether a batch is this job's: by its name, or by the sparkgateJob tag set at submit. */
function named(job: SparkBatchJob, name: string | undefined): boolean {
  return job.name === name || job.tags?.['sparkgateJob'] === name
}

function isOurs(job: SparkBatchJob, ref: BackendRef): boolean {
  return named(job, ref.batchName)
}

export class SynapseBackend implements SparkBackend {
  readonly kind = 'synapse'
  /** a pool reads its workspace storage (abfss://), not the gateway's HDFS */
  readonly capabilities: { readsStagedFiles: boolean; workDirArchives: boolean }
  readonly name: string
  readonly endpoint: string
  /** Microsoft Entra ID (Azure AD) tokens through @azure/identity */
  readonly auth = 'azure-ad'
  readonly client: SparkClient
  private readonly pageSize: number

  private readonly store: { health(): Promise<void> } | undefined

  constructor(o: SynapseBackendOptions) {
    this.name = o.name
    this.store = o.store
    this.capabilities = { readsStagedFiles: o.store !== undefined, workDirArchives: true }
    this.endpoint = `${o.endpoint} (pool ${o.pool})`
    this.pageSize = o.pageSize ?? 100
    this.client = new SparkClient(
      o.credential ?? new DefaultAzureCredential(),
      o.endpoint,
      o.pool,
      {
        ...(o.livyApiVersion ? { livyApiVersion: o.livyApiVersion } : {}),
        ...(o.caFile ? { tlsOptions: { ca: readFileSync(o.caFile, 'utf8') } } : {}),
        retryOptions: { maxRetries: 0 }, // the submit worker owns retries
      },
    )
  }

  async submit(b: BatchSubmission): Promise<BackendRef> {
    try {
      const job = await this.client.sparkBatch.createSparkBatchJob(
        {
          name: b.name,
          file: b.file,
          tags: { sparkgateJob: b.name },
          ...(b.className ? { className: b.className } : {}),
          ...(b.args ? { arguments: b.args } : {}),
          ...(b.pyFiles ? { pythonFiles: b.pyFiles } : {}),
          ...(b.jars ? { jars: b.jars } : {}),
          ...(b.files ? { files: b.files } : {}),
          ...(b.archives ? { archives: b.archives } : {}),
          // b.queue: a Synapse pool has no YARN queue a batch may choose; ignored
          ...(b.conf ? { configuration: b.conf } : {}),
          ...(b.driverMemory ? { driverMemory: b.driverMemory } : {}),
          ...(b.driverCores ? { driverCores: b.driverCores } : {}),
          ...(b.executorMemory ? { executorMemory: b.executorMemory } : {}),
          ...(b.executorCores ? { executorCores: b.executorCores } : {}),
          ...(b.numExecutors ? { executorCount: b.numExecutors } : {}),
        },
        { detailed: true },
      )
      return {
        batchId: String(job.id),
        batchName: b.name,
        ...(job.appId ? { appId: job.appId } : {}),
      }
    } catch (error) {
      mapError(error)
    }
  }

  /** Every batch of the pool, page by page (one logical list call per tick). */
  async listAll(): Promise<SparkBatchJob[]> {
    try {
      return await listAllBatches(this.pageSize, async (from, size) => {
        const page = await this.client.sparkBatch.getSparkBatchJobs({
          fromParam: from,
          size,
          detailed: true,
        })
        return { sessions: page.sessions ?? [], total: page.total }
      })
    } catch (error) {
      mapError(error)
    }
  }

  statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>> {
    return statusesFromList(refs, () => this.listAll(), isOurs, toStatus)
  }

  async findByName(name: string): Promise<BackendRef | undefined> {
    const job = (await this.listAll()).find((j) => named(j, name))
    return job ? { batchId: String(job.id), batchName: name } : undefined
  }

  async cancel(ref: BackendRef): Promise<void> {
    try {
      await this.client.sparkBatch.cancelSparkBatchJob(Number(ref.batchId))
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return
      mapError(error)
    }
  }

  async logs(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    try {
      const job = await this.client.sparkBatch.getSparkBatchJob(Number(ref.batchId), {
        detailed: true,
      })
      const lines = job.logLines ?? []
      return { from, total: lines.length, lines: lines.slice(from, from + size) }
    } catch (error) {
      mapError(error)
    }
  }

  tail(ref: BackendRef, size: number): Promise<string[]> {
    return tailOf((r, from, n) => this.logs(r, from, n), ref, size, livyLogLine)
  }

  /** The pool answers, and the storage it reads takes the gateway's credential. */
  async health(): Promise<void> {
    try {
      await this.client.sparkBatch.getSparkBatchJobs({ fromParam: 0, size: 1 })
    } catch (error) {
      mapError(error)
    }
    try {
      await this.store?.health()
    } catch (error) {
      throw new BackendError('transient', (error as Error).message)
    }
  }
}
