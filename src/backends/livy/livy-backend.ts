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
import type { ResolvedAuth } from '../../cluster-auth/credentials.js'
import { listAllBatches, livyLogLine, livyPhase, statusesFromList } from '../livy-protocol.js'
import { YarnLogReader, YarnLogsError } from '../yarn-logs.js'
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

/** A batch is the ref's when it carries the ref's name (refs from before names: by id). */
function isOurs(batch: LivyBatch, ref: BackendRef): boolean {
  return ref.batchName === undefined || batch.name === ref.batchName
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
  /**
   * The cluster's YARN ResourceManager (http://rm:8088), when the gateway can reach it and
   * its NodeManagers: a job's log then carries its driver's stdout and stderr from YARN.
   */
  yarnUrl?: string
  /** credentials: Basic (a gateway in front) or Kerberos (SPNEGO); none by default */
  auth?: ResolvedAuth
  /** PEM file of the private CA of an https url (read, and checked, here) */
  caFile?: string
  /** where caFile was set, for the error when it cannot be read */
  caSetting?: string
}

export class LivyBackend implements SparkBackend {
  readonly kind = 'livy'
  readonly capabilities = { readsStagedFiles: true, workDirArchives: true }
  readonly name: string
  readonly endpoint: string
  /** how it authenticates (the type only: none, basic, kerberos) */
  readonly auth: ResolvedAuth['type']
  readonly client: LivyClient
  private readonly yarn: YarnLogReader | undefined
  private readonly pageSize: number

  constructor(options: LivyBackendOptions) {
    this.name = options.name
    this.endpoint = options.url
    this.auth = options.auth?.type ?? 'none'
    this.client = new LivyClient({
      url: options.url,
      timeoutMs: options.timeoutMs,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.caSetting ? { caSetting: options.caSetting } : {}),
    })
    this.pageSize = options.pageSize ?? 500
    this.yarn = options.yarnUrl
      ? new YarnLogReader({ rmUrl: options.yarnUrl, timeoutMs: options.timeoutMs })
      : undefined
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
    try {
      return await listAllBatches(this.pageSize, (from, size) => this.client.list(from, size))
    } catch (error) {
      mapError(error)
    }
  }

  statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>> {
    return statusesFromList(refs, () => this.listAll(), isOurs, toStatus)
  }

  async findByName(name: string): Promise<BackendRef | undefined> {
    const batch = (await this.listAll()).find((b) => b.name === name)
    return batch ? toRef(batch, name) : undefined
  }

  /**
   * The batch a ref names, if it is still ours. Livy restarted without recovery numbers
   * its batches from 0 again: the id alone may name another job's batch, the name does not.
   */
  private async ours(ref: BackendRef): Promise<LivyBatch | undefined> {
    try {
      const batch = await this.client.get(Number(ref.batchId))
      return isOurs(batch, ref) ? batch : undefined
    } catch (error) {
      if (error instanceof LivyError && error.kind === 'not_found') return undefined
      mapError(error)
    }
  }

  async cancel(ref: BackendRef): Promise<void> {
    // gone from Livy, or the id now names another job's batch: nothing of ours to kill
    if (!(await this.ours(ref))) return
    try {
      await this.client.kill(Number(ref.batchId))
    } catch (error) {
      if (error instanceof LivyError && error.kind === 'not_found') return
      mapError(error)
    }
  }

  /**
   * Livy's log of the batch (in cluster mode: the submission's), then, on YARN, the
   * driver's output: its container's stdout (all a PySpark file prints) while it runs, and
   * its stderr (Spark's own log) once the app has ended. Each driver line names its stream
   * and container. While Livy keeps the batch, lines are only ever added at the end, so
   * `from` follows a running job; once Livy forgot it, the log is the driver's lines alone.
   */
  async logs(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    const batch = await this.ours(ref)
    if (!batch) {
      const driver = await this.forgotten(ref)
      return { from, total: driver.length, lines: driver.slice(from, from + size) }
    }
    const [livy, driver] = await Promise.all([
      this.page(ref, from, size),
      this.driverLines(ref, batch),
    ])
    const lines = [...livy.lines]
    const start = Math.max(0, from - livy.total)
    if (lines.length < size) lines.push(...driver.slice(start, start + size - lines.length))
    return { from, total: livy.total + driver.length, lines }
  }

  async tail(ref: BackendRef, size: number): Promise<string[]> {
    if (size === 0) return []
    // the name is checked once, and each source read once
    const batch = await this.ours(ref)
    if (!batch) return (await this.forgotten(ref)).filter(livyLogLine).slice(-size)
    const [head, driver] = await Promise.all([this.page(ref, 0, 0), this.driverLines(ref, batch)])
    const livy = await this.page(ref, Math.max(0, head.total - size), size)
    return [...livy.lines, ...driver].filter(livyLogLine).slice(-size)
  }

  /**
   * A batch Livy no longer has (a cancel deletes it; retention; a restart without
   * recovery): what YARN kept of its driver; not_found when YARN has nothing either.
   */
  private async forgotten(ref: BackendRef): Promise<string[]> {
    const driver = await this.driverOutput(ref, undefined)
    if (!driver.unreachable && driver.lines.length > 0) return driver.lines
    throw new BackendError(
      'not_found',
      `Livy no longer has batch ${ref.batchId} of ${ref.batchName}`,
    )
  }

  /** The driver's lines, or one `[yarn] …` line saying why YARN could not be read. */
  private async driverLines(ref: BackendRef, batch: LivyBatch): Promise<string[]> {
    const driver = await this.driverOutput(ref, batch)
    return driver.unreachable ? [`[yarn] ${driver.unreachable}`] : driver.lines
  }

  /** The driver's output from YARN, each line prefixed `[container stream]`; none off YARN. */
  private async driverOutput(
    ref: BackendRef,
    batch: LivyBatch | undefined,
  ): Promise<{ lines: string[]; unreachable?: string }> {
    const appId = batch?.appId ?? ref.appId
    if (!this.yarn || !appId?.startsWith('application_')) return { lines: [] }
    try {
      const driver = await this.yarn.driverOf(
        appId,
        batch?.appInfo?.['driverLogUrl'] ?? ref.driverLogUrl,
      )
      if (!driver) return { lines: [] }
      const label = (stream: string) => `[${driver.containerId} ${stream}] `
      const stdout = await this.yarn.read(driver, 'stdout')
      const lines = (stdout?.lines ?? []).map((l) => label('stdout') + l)
      // Spark's own log, once whole: added while the app runs it would renumber stdout's lines
      if (stdout?.aggregated) {
        const stderr = await this.yarn.read(driver, 'stderr')
        lines.push(...(stderr?.lines ?? []).map((l) => label('stderr') + l))
      }
      return { lines }
    } catch (error) {
      if (error instanceof YarnLogsError) return { lines: [], unreachable: error.message }
      throw error
    }
  }

  private async page(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    try {
      const page = await this.client.logs(Number(ref.batchId), from, size)
      return { from: page.from, total: page.total, lines: page.log }
    } catch (error) {
      mapError(error)
    }
  }

  async health(): Promise<void> {
    try {
      await this.client.list(0, 1)
    } catch (error) {
      mapError(error)
    }
  }
}
