/**
 * SparkBackend over Apache Livy's batch API. The tracker's status call is one paged
 * `GET /batches` for all live jobs, never one call per job; a name is unique among the
 * batches Livy knows, which makes the batch name our duplicate-submission guard.
 */
import type { BackendRef } from '../../domain/job-schema.js'
import {
  BackendError,
  type BatchStatus,
  type BatchSubmission,
  type LogPage,
  type SparkBackend,
} from '../../domain/ports/spark-backend.js'
import { livyLogLine, livyPhase } from '../livy-protocol.js'
import { tailOf } from '../log-tail.js'
import { LivyClient, LivyError, type LivyBatch } from './livy-client.js'

function toStatus(batch: LivyBatch): BatchStatus {
  return {
    phase: livyPhase(batch.state),
    rawState: batch.state,
    ...(batch.appId ? { appId: batch.appId } : {}),
    ...(batch.appInfo?.['driverLogUrl'] ? { driverLogUrl: batch.appInfo['driverLogUrl'] } : {}),
    ...(batch.appInfo?.['sparkUiUrl'] ? { sparkUiUrl: batch.appInfo['sparkUiUrl'] } : {}),
  }
}

function toRef(batch: LivyBatch, name: string): BackendRef {
  const status = toStatus(batch)
  return {
    batchId: String(batch.id),
    batchName: name,
    ...(status.appId ? { appId: status.appId } : {}),
    ...(status.driverLogUrl ? { driverLogUrl: status.driverLogUrl } : {}),
    ...(status.sparkUiUrl ? { sparkUiUrl: status.sparkUiUrl } : {}),
  }
}

function mapError(error: unknown): never {
  if (error instanceof LivyError) {
    if (error.kind === 'transient') throw new BackendError('transient', error.message)
    if (error.kind === 'not_found') throw new BackendError('not_found', error.message)
    if (/Duplicate session name/i.test(error.message))
      throw new BackendError('duplicate', error.message)
    throw new BackendError('rejected', error.message)
  }
  throw error
}

export interface LivyBackendOptions {
  name: string
  url: string
  /** page size of the list call */
  pageSize?: number
  timeoutMs?: number
}

export class LivyBackend implements SparkBackend {
  readonly kind = 'livy'
  readonly capabilities = { readsStagedFiles: true }
  readonly name: string
  readonly endpoint: string
  readonly client: LivyClient
  private readonly pageSize: number

  constructor(options: LivyBackendOptions) {
    this.name = options.name
    this.endpoint = options.url
    this.client = new LivyClient({ url: options.url, timeoutMs: options.timeoutMs })
    this.pageSize = options.pageSize ?? 500
  }

  async submit(batch: BatchSubmission): Promise<BackendRef> {
    try {
      const created = await this.client.submit(batch)
      return toRef(created, batch.name)
    } catch (error) {
      // (not for a duplicate name: that batch is ours and real)
      if (
        error instanceof LivyError &&
        error.kind === 'rejected' &&
        !/Duplicate session name/i.test(error.message)
      )
        await this.dropPhantom(batch.name)
      mapError(error)
    }
  }

  /**
   * Livy 0.7 registers a batch before it checks the request, and a refused request leaves
   * that batch behind under our name, `starting` forever with no application. Left there,
   * a later lookup by name (adoption after a timed-out submit) would take it for ours.
   * Best effort: a failure here changes nothing for the job.
   */
  private async dropPhantom(name: string) {
    try {
      const phantom = (await this.listAll()).find(
        (b) => b.name === name && b.state === 'starting' && !b.appId,
      )
      if (phantom) await this.client.kill(phantom.id)
    } catch {
      // Livy's retention removes it eventually
    }
  }

  /** Every batch Livy knows, page by page (one logical list call per tick). */
  async listAll(): Promise<LivyBatch[]> {
    const all: LivyBatch[] = []
    try {
      for (let from = 0; ; from += this.pageSize) {
        const page = await this.client.list(from, this.pageSize)
        all.push(...page.sessions)
        if (page.sessions.length < this.pageSize || all.length >= page.total) break
      }
    } catch (error) {
      mapError(error)
    }
    return all
  }

  async statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>> {
    const result = new Map<string, BatchStatus>()
    if (refs.length === 0) return result
    const wanted = new Map(refs.map((r) => [r.batchId, r]))
    for (const batch of await this.listAll()) {
      const id = String(batch.id)
      const ref = wanted.get(id)
      // a batch id is reused after a Livy restart; the name tells ours apart
      if (ref && (batch.name === null || batch.name === ref.batchName))
        result.set(id, toStatus(batch))
    }
    return result
  }

  async findByName(name: string): Promise<BackendRef | undefined> {
    const batch = (await this.listAll()).find((b) => b.name === name)
    return batch ? toRef(batch, name) : undefined
  }

  async cancel(ref: BackendRef): Promise<void> {
    try {
      await this.client.kill(Number(ref.batchId))
    } catch (error) {
      // already gone from Livy: nothing left to kill
      if (error instanceof LivyError && error.kind === 'not_found') return
      mapError(error)
    }
  }

  async logs(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    try {
      const page = await this.client.logs(Number(ref.batchId), from, size)
      return { from: page.from, total: page.total, lines: page.log }
    } catch (error) {
      mapError(error)
    }
  }

  tail(ref: BackendRef, size: number): Promise<string[]> {
    return tailOf((r, from, n) => this.logs(r, from, n), ref, size, livyLogLine)
  }

  async health(): Promise<void> {
    try {
      await this.client.list(0, 1)
    } catch (error) {
      mapError(error)
    }
  }
}
