/**
 * The port every Spark backend implements (Livy now; Synapse and local spark-submit
 * behind the same contract). Adapters are thin: they speak the backend's API and map its
 * answers; what to do with them (retry, fail, adopt) is the workers' business.
 */
import type { BackendRef } from '../domain/job-schema.js'

export type BackendKind = 'livy' | 'synapse' | 'local'

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
  conf?: Record<string, string>
  driverMemory?: string
  driverCores?: number
  executorMemory?: string
  executorCores?: number
  numExecutors?: number
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
}

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

export interface SparkBackend {
  readonly name: string
  readonly kind: BackendKind
  /** where it is reached, for humans (no credentials) */
  readonly endpoint: string
  /** Submit one batch. Throws BackendError: transient (retry), rejected (fail), duplicate (adopt). */
  submit(batch: BatchSubmission): Promise<BackendRef>
  /** Status of many batches with as few calls as the backend allows (Livy: one list call). */
  statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>>
  /** A batch submitted under `name`, if the backend still knows it (adoption after a crash). */
  findByName(name: string): Promise<BackendRef | undefined>
  cancel(ref: BackendRef): Promise<void>
  logs(ref: BackendRef, from: number, size: number): Promise<LogPage>
  /** Resolves when the backend answers; throws otherwise. */
  health(): Promise<void>
}
