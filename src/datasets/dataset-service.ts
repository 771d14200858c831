/**
 * Datasets: upload (stream → temp → hash → rename → record), get, list, preview, delete,
 * and the resolution of `dataset://<id>` references in job specs. A dataset lives in the
 * store of the backend it was uploaded for (HDFS, or a Synapse pool's storage account);
 * a job on a backend that reads another store runs from a copy there, made once.
 */
import type { Readable } from 'node:stream'
import { errors } from '../errors.js'
import { StoreError, type FileStore, type StagingOwner } from '../storage/file-store.js'
import type { Stores } from '../storage/stores.js'
import {
  UploadAbortedError,
  UploadIdleError,
  UploadTooLargeError,
} from '../storage/upload-stream.js'
import type { Dataset } from './dataset-schema.js'
import type { DatasetStore, InUseRule, OutputRegistration } from './dataset-store.js'
import { formatOf, sniffCsv, splitCsvLine } from './sniff.js'
import { DATASET_REF } from './dataset-input.js'

/**
 * A store down (HDFS in standby, a storage account unreachable, or refusing the gateway's
 * credential) is a 503; any other fault stays what it is.
 */
function storeFault(error: StoreError) {
  if (error.name === 'WebHdfsError')
    return error.transient ? errors.hdfsUnavailable(error.message) : error
  return error.transient || error.kind === 'access_denied'
    ? errors.storageUnavailable(error.message)
    : error
}

/** A job's output file (its URI and size, as listed), the name and model to record. */
export interface OutputFile {
  uri: string
  length: number
  name: string
  model: string
}

/** A tenant as datasets see it: its id, its HDFS user and its storage quota. */
export interface DatasetOwner extends StagingOwner {
  quotaBytes: number
}

export interface Preview {
  id: string
  format: string
  lines: string[]
  columns?: string[]
  rows?: string[][]
}

export class DatasetService {
  constructor(
    private readonly store: DatasetStore,
    /** where datasets live: each backend's store */
    readonly stores: Stores,
    readonly maxBytes: number,
    /** the job core's rule: which of a dataset's jobs has not ended */
    private readonly inUse: InUseRule,
    /** an upload that sends no byte for this long is cut */
    private readonly idleMs = 30_000,
  ) {}

  /** 413 naming the quota when `more` bytes would pass the owner's storage quota. */
  async checkQuota(owner: DatasetOwner, more: number) {
    const used = await this.store.bytesUsed(owner.tenant)
    if (used + more > owner.quotaBytes) throw quotaProblem(owner, used)
  }

  /**
   * Streams an upload into place in `target` (the store of the backend it is for);
   * `created` is false when the bytes were known already.
   */
  async upload(
    owner: DatasetOwner,
    source: Readable,
    name: string,
    target: FileStore = this.stores.main,
  ): Promise<{ dataset: Dataset; created: boolean }> {
    const staging = target
    try {
      // an upload never needs more than what is left of the quota (or the size limit)
      const left = Math.max(0, owner.quotaBytes - (await this.store.bytesUsed(owner.tenant)))
      const limit = Math.min(this.maxBytes, left)
      let staged
      try {
        staged = await staging.upload(source, limit, owner, this.idleMs)
      } catch (error) {
        if (error instanceof UploadTooLargeError && limit < this.maxBytes)
          throw quotaProblem(owner, owner.quotaBytes - left)
        throw error
      }
      if (staged.size === 0) {
        await staging.discard(staged.tmpPath)
        throw errors.emptyUpload()
      }
      const known = await this.store.get(owner.tenant, staged.sha256)
      if (known) {
        await staging.discard(staged.tmpPath)
        return { dataset: known, created: false }
      }
      const path = await staging.placeAt(
        staged,
        `${staging.datasetDir(owner.tenant, staged.sha256)}/${name}`,
        owner,
      )
      const format = formatOf(name)
      const columns =
        format === 'csv' ? sniffCsv(staged.head, staged.size === staged.head.length) : undefined
      const dataset: Dataset = {
        id: staged.sha256,
        name,
        size: staged.size,
        sha256: staged.sha256,
        uri: staging.uri(path),
        path,
        format,
        ...(columns ? { columns } : {}),
        createdAt: new Date().toISOString(),
      }
      const result = await this.store.createIfAbsent(owner.tenant, dataset, owner.quotaBytes)
      if ('deleting' in result) throw errors.datasetDeleting(dataset.id)
      if ('overQuota' in result) {
        // concurrent uploads of this tenant took the room meanwhile
        await staging.discard(staging.datasetDir(owner.tenant, dataset.id))
        throw quotaProblem(owner, result.overQuota)
      }
      // a concurrent upload of the same bytes under another name won: drop our copy
      if (!result.created && result.dataset.uri !== dataset.uri) await staging.discard(path)
      return result
    } catch (error) {
      if (error instanceof UploadTooLargeError) throw errors.uploadTooLarge(this.maxBytes)
      if (error instanceof UploadIdleError) throw errors.uploadIdle(error.idleMs)
      if (error instanceof UploadAbortedError) throw errors.uploadAborted()
      if (error instanceof StoreError) throw storeFault(error)
      throw error
    }
  }

  /**
   * The URI a job on a backend reading `target` runs the dataset from: where it lies when
   * that is `target`, else its copy there (`datasets/<sha256>/<name>` in the tenant's area
   * of that store: content-addressed, so made once per store).
   */
  uriIn(dataset: Dataset, target: FileStore): string {
    if (target.pathOf(dataset.uri) !== undefined) return dataset.uri
    return target.uri(
      `${target.datasetDir(this.tenantOf(dataset, target), dataset.id)}/${dataset.name}`,
    )
  }

  /** The tenant a dataset's record belongs to, from its path (its area in its store). */
  private tenantOf(dataset: Dataset, target: FileStore) {
    const held = this.stores.holding(dataset.uri)
    const areas = `${held.root}/tenants/`
    const tenant = dataset.path.startsWith(areas)
      ? dataset.path.slice(areas.length).split('/')[0]
      : undefined
    if (!tenant)
      throw new Error(
        `dataset ${dataset.id} lies outside a tenant's area (${dataset.uri}); it cannot be copied to ${target.id}`,
      )
    return tenant
  }

  /**
   * Makes the dataset's copy in `target` unless it is there (a job's staging step, so that
   * a job on a backend reading another store finds it): streamed from its store, checked
   * against its SHA-256, placed by the same steps as an upload. Returns its URI there.
   */
  async copyTo(owner: StagingOwner, dataset: Dataset, target: FileStore): Promise<string> {
    const uri = this.uriIn(dataset, target)
    if (uri === dataset.uri) return uri
    const path = target.pathOf(uri)!
    if (!(await target.exists(path))) {
      const from = this.stores.holding(dataset.uri)
      const source = await from.open(dataset.path)
      const staged = await target.upload(source, Number.MAX_SAFE_INTEGER, owner)
      if (staged.sha256 !== dataset.sha256) {
        await target.discard(staged.tmpPath)
        throw new Error(
          `the copy of dataset ${dataset.id} to ${target.id} read ${staged.sha256}: its bytes changed in ${dataset.uri}`,
        )
      }
      await target.placeAt(staged, path, owner)
    }
    await this.store.addCopy(owner.tenant, dataset.id, target.id, uri)
    return uri
  }

  /**
   * Registers a job's output file as a dataset of its tenant where it lies (no copy), read
   * once for its SHA-256. Decided once per job: the dataset (the same bytes known to the
   * tenant already are that dataset), or why not — larger than the upload limit, or over
   * the tenant's quota. A fault throws; the caller tries again later.
   */
  async registerOutput(
    owner: DatasetOwner,
    jobId: string,
    file: OutputFile,
  ): Promise<OutputRegistration> {
    const decided = await this.store.outputOf(jobId)
    if (decided) return decided
    const registration = await this.adopt(owner, jobId, file)
    await this.store.setOutput(jobId, registration)
    return registration
  }

  /** What became of a job's output (undefined: not decided yet). */
  outputOf(jobId: string) {
    return this.store.outputOf(jobId)
  }

  /** Of these job ids, those whose output registration is not decided. */
  outputsUndecided(jobIds: string[]) {
    return this.store.outputsUndecided(jobIds)
  }

  private async adopt(
    owner: DatasetOwner,
    jobId: string,
    file: OutputFile,
  ): Promise<OutputRegistration> {
    if (file.length > this.maxBytes)
      return {
        refused: `the output (${file.length} bytes) is larger than the dataset size limit of ${this.maxBytes} bytes (SPARKGATE_DATASET_MAX_BYTES)`,
      }
    const where = this.stores.holding(file.uri)
    const path = where.pathOf(file.uri) ?? file.uri
    const { sha256, size, head } = await where.digest(path)
    const format = formatOf(file.name)
    const columns = format === 'csv' ? sniffCsv(head, size === head.length) : undefined
    const dataset: Dataset = {
      id: sha256,
      name: file.name,
      size,
      sha256,
      uri: file.uri,
      path,
      format,
      ...(columns ? { columns } : {}),
      source: { jobId, model: file.model },
      createdAt: new Date().toISOString(),
    }
    const result = await this.store.createIfAbsent(owner.tenant, dataset, owner.quotaBytes)
    if ('deleting' in result)
      throw new Error(`dataset ${sha256} (the same bytes) is being deleted; registered later`)
    if ('overQuota' in result) return { refused: quotaProblem(owner, result.overQuota).message }
    return { id: result.dataset.id }
  }

  find(tenant: string, id: string): Promise<Dataset | undefined> {
    return this.store.get(tenant, id)
  }

  async mustGet(tenant: string, id: string): Promise<Dataset> {
    const dataset = await this.store.get(tenant, id)
    if (!dataset) throw errors.datasetNotFound(id)
    return dataset
  }

  list(tenant: string, limit: number, cursor?: string) {
    return this.store.list(tenant, limit, cursor)
  }

  bytesUsed(tenant: string) {
    return this.store.bytesUsed(tenant)
  }

  /** The first `rows` lines, read as a stream that is closed as soon as they are in. */
  async preview(tenant: string, id: string, rows: number): Promise<Preview> {
    const dataset = await this.mustGet(tenant, id)
    if (dataset.format === 'parquet' || dataset.format === 'other')
      throw errors.previewUnsupported(dataset.format)
    const wanted = dataset.format === 'csv' ? rows + 1 : rows
    const lines: string[] = []
    let rest = ''
    let stream: Readable | undefined
    try {
      // at most 1 MiB is read, whatever the line lengths
      const where = this.stores.holding(dataset.uri)
      stream = await where.open(dataset.path, { length: 1024 * 1024 })
      for await (const chunk of stream) {
        const parts = (rest + (chunk as Buffer).toString('utf8')).split(/\r?\n/)
        rest = parts.pop() ?? ''
        lines.push(...parts)
        if (lines.length >= wanted) break
      }
      if (lines.length < wanted && rest !== '') lines.push(rest)
    } catch (error) {
      if (error instanceof StoreError) throw storeFault(error)
      throw error
    } finally {
      stream?.destroy()
    }
    const kept = lines.slice(0, wanted).map((l, i) => (i === 0 ? l.replace(/^\uFEFF/, '') : l))
    if (dataset.format !== 'csv') return { id, format: dataset.format, lines: kept }
    const [header, ...body] = kept
    return {
      id,
      format: dataset.format,
      lines: kept,
      columns: header === undefined ? [] : splitCsvLine(header),
      rows: body.map((l) => splitCsvLine(l)),
    }
  }

  /**
   * Deletes a dataset; 409 while a job that has not ended uses it. The record is marked
   * first (no job can name it from then on), then the bytes go, then the record: a crash
   * in between leaves it invisible, and a repeated DELETE finishes the job.
   */
  async delete(tenant: string, id: string): Promise<void> {
    const dataset = await this.store.get(tenant, id, { deleting: true })
    if (!dataset) throw errors.datasetNotFound(id)
    const result = await this.store.delete(tenant, dataset, this.inUse)
    if (!result.deleted) {
      if (result.liveJob) throw errors.datasetInUse(id, result.liveJob)
      throw errors.datasetNotFound(id)
    }
    // an upload's folder, or a job output's one file (registered where it lies), and the
    // copies of it in other stores
    const where = this.stores.holding(dataset.uri)
    const dir = where.datasetDir(tenant, dataset.id)
    try {
      for (const [storeId, uri] of Object.entries(await this.store.copies(tenant, dataset.id))) {
        const copyStore = this.stores.all().find((s) => s.id === storeId)
        const path = copyStore?.pathOf(uri)
        if (copyStore && path) await copyStore.remove(copyStore.datasetDir(tenant, dataset.id))
      }
      await where.remove(dataset.path.startsWith(`${dir}/`) ? dir : dataset.path)
    } catch (error) {
      if (error instanceof StoreError) throw storeFault(error)
      throw error
    }
    await this.store.forget(tenant, dataset.id)
  }

  /**
   * Resolves `dataset://<id>` wherever a job takes a URI (batch file, pyFiles, files,
   * jars, args): returns the ids and the map of reference → the URI the job runs it from
   * in `target` (its backend's store), or a 400 naming the field of an unknown id.
   */
  async resolve(
    tenant: string,
    fields: [string, string][],
    target: FileStore = this.stores.main,
  ): Promise<{ ids: string[]; inputs: Record<string, string>; fields: Record<string, string> }> {
    const inputs: Record<string, string> = {}
    const named: Record<string, string> = {}
    for (const [field, value] of fields) {
      const id = DATASET_REF.exec(value)?.[1]
      if (!id || inputs[value]) continue
      const dataset = await this.store.get(tenant, id)
      if (!dataset) throw errors.unknownDatasetReference(field, id)
      inputs[value] = this.uriIn(dataset, target)
      named[id] = field
    }
    return { ids: Object.keys(named), inputs, fields: named }
  }
}

function quotaProblem(owner: DatasetOwner, used: number) {
  return errors.quotaExceeded(
    'datasetBytes',
    413,
    `tenant ${owner.tenant} has ${used} of ${owner.quotaBytes} bytes of datasets; delete some, or ask an admin for more`,
  )
}
