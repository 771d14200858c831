/**
 * The Spark backend port: what the job core needs from a cluster, whatever it is (Livy,
 * an Azure Synapse pool, a local spark-submit, …). Adapters in src/backends/ implement
 * it and stay thin: they speak the backend's API and map its answers; what to do with
 * them (retry, fail, adopt) is the workers' business.
 */
import type { FileStore } from '../../storage/file-store.js'
import type { BackendRef } from '../job-schema.js'

/** What a backend is asked to run: a job's batch spec resolved to URIs, plus its name. */
export interface BatchSubmission {
  /** unique per attempt; the duplicate-submission guard (the job id on the first attempt) */
  name: string
  file: string
  className?: string
  args?: string[]
  pyFiles?: string[]
  jars?: string[]
  files?: string[]
  /** archives unpacked in the working directory of the driver and executors (`uri#alias`) */
  archives?: string[]
  conf?: Record<string, string>
  /** the YARN queue (Livy `queue`, spark-submit `--queue`); backends without queues ignore it */
  queue?: string
  /** the cluster user the application runs as (Livy proxyUser), when the backend has users */
  proxyUser?: string
  driverMemory?: string
  driverCores?: number
  executorMemory?: string
  executorCores?: number
  numExecutors?: number
}

/** The key of a batch in statusMany's answer: its id and its name (ids can be reused). */
export function batchKey(ref: Pick<BackendRef, 'batchId' | 'batchName'>): string {
  return `${ref.batchId}\n${ref.batchName ?? ''}`
}

/** Our reading of a backend state. */
export type Phase = 'pending' | 'running' | 'succeeded' | 'failed' | 'killed'

export interface BatchStatus {
  phase: Phase
  /** the backend's own state word, shown to users as `backendState` */
  rawState: string
  appId?: string
  driverLogUrl?: string
  sparkUiUrl?: string
  /** the warm engine that runs (or ran) the job (src/engines/) */
  engine?: string
  /** why a job's warm engine can no longer run it: it goes back to the queue (ENGINE_LOST) */
  engineLost?: string
}

/** A page of an application's log, as the backend numbers its lines. */
export interface LogPage {
  from: number
  total: number
  lines: string[]
}

/** Why a backend call failed; steers retry vs fail. */
export class BackendError extends Error {
  constructor(
    readonly kind: 'transient' | 'rejected' | 'duplicate' | 'not_found',
    message: string,
  ) {
    super(message)
    this.name = 'BackendError'
  }
}

/** What a kind of backend can do; the job core checks submissions against it. */
export interface BackendCapabilities {
  /** reads the files Sparkgate stages (uploaded datasets, train.py): HDFS, or the store it names */
  readsStagedFiles: boolean
  /**
   * unpacks a batch's archives into the working directory of the driver and executors, so
   * that `./<alias>/bin/python` names a packed Python environment (Spark on YARN; a local
   * master unpacks them elsewhere)
   */
  workDirArchives: boolean
}

export interface SparkBackend {
  readonly name: string
  /** the registry's name of its kind: livy, local, synapse, … */
  readonly kind: string
  readonly capabilities: BackendCapabilities
  /** where it is reached, for humans (no credentials) */
  readonly endpoint: string
  /** how the gateway authenticates to it, the type only (none when absent) */
  readonly auth?: string
  /** Submit one batch. Throws BackendError: transient (retry), rejected (fail), duplicate (adopt). */
  submit(batch: BatchSubmission): Promise<BackendRef>
  /**
   * Status of many batches with as few calls as the backend allows (Livy: one list call),
   * by batchKey(ref). A batch counts only when it carries the ref's name too: a backend
   * that restarted without its state hands the same ids to other jobs' batches.
   */
  statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>>
  /** A batch submitted under `name`, if the backend still knows it (adoption after a crash). */
  findByName(name: string): Promise<BackendRef | undefined>
  cancel(ref: BackendRef): Promise<void>
  logs(ref: BackendRef, from: number, size: number): Promise<LogPage>
  /**
   * The last `size` lines of the log worth keeping in a failed job's error: each adapter
   * drops its own format's noise (Livy's section markers, blank lines).
   */
  tail(ref: BackendRef, size: number): Promise<string[]>
  /** Resolves when the backend answers; throws otherwise. */
  health(): Promise<void>
}

/** A backend as configured: the adapter, its cap of live batches, and its store. */
export interface ConfiguredBackend {
  backend: SparkBackend
  /** live batches allowed at once */
  maxLive: number
  /** the store its Spark reads, when not the gateway's HDFS (a Synapse pool's storage account) */
  store?: FileStore
}

/** The configured backends by name, and the one jobs go to when they name none. */
export interface Backends {
  readonly byName: ReadonlyMap<string, ConfiguredBackend>
  readonly defaultName: string
}
