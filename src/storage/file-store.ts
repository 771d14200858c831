/**
 * The storage port: where Sparkgate stages what a Spark application reads (uploaded
 * datasets, its own job files, a run's spec.json) and reads back what it wrote (metrics,
 * models, scored files). Each backend names the store its Spark reads — HDFS over WebHDFS
 * for Livy and spark-submit (hdfs-store.ts), a storage account's container for an Azure
 * Synapse pool (adls-store.ts) — and everything above this port sees paths and URIs only.
 *
 * A path is absolute within the store ("/sparkgate/tenants/acme/runs/<job>/spec.json"); a
 * URI is what Spark is handed (hdfs://…/path, abfss://container@account.dfs.core.windows.net/path).
 *
 *   <root>/artifacts/<sha256>/<name>                 job files, once per content
 *   <root>/tenants/<t>/datasets/<sha256>/<name>      a tenant's uploads (and copies)
 *   <root>/tenants/<t>/runs/<jobId>/…                a run's spec, metrics, model, output
 *   <root>/tenants/<t>/tmp/<uuid>                    uploads in flight
 */
import type { Readable } from 'node:stream'

/** Whose files they are: the tenant (its area) and the cluster user that writes them. */
export interface StagingOwner {
  tenant: string
  user: string
}

/** Why a store call failed; `kind` is stable across stores. */
export class StoreError extends Error {
  constructor(
    readonly kind:
      | 'not_found'
      | 'access_denied'
      | 'already_exists'
      | 'standby'
      | 'invalid'
      | 'unavailable'
      | 'aborted'
      | 'remote',
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'StoreError'
  }
  get transient() {
    return this.kind === 'unavailable' || this.kind === 'standby'
  }
}

/** An upload streamed to a temp file: its digest, its head and where it waits. */
export interface StagedUpload {
  sha256: string
  size: number
  /** the first SNIFF_BYTES bytes */
  head: Buffer
  /** the temp path holding the bytes (place or discard it) */
  tmpPath: string
}

/** An entry of a folder. */
export interface StoreEntry {
  name: string
  type: 'FILE' | 'DIRECTORY'
  length: number
}

export interface FileStore {
  /** hdfs or adls */
  readonly kind: 'hdfs' | 'adls'
  /** the folder of everything Sparkgate stages, e.g. /sparkgate */
  readonly root: string
  /** the root's URI, which names the store (hdfs://host:8020/sparkgate, abfss://c@a.dfs.core.windows.net/sparkgate) */
  readonly id: string
  /** where it is reached, for humans (no credentials) */
  readonly endpoint: string
  /** how the gateway authenticates to it, the type only */
  readonly auth: string
  /** The URI Spark reads a path by. */
  uri(path: string): string
  /** The path of a URI of this store; undefined for another store's. */
  pathOf(uri: string): string | undefined
  /** `<root>/tenants/<t>`: a tenant's datasets, runs and temp files. */
  tenantRoot(tenant: string): string
  /** Where an upload with this digest lives in the tenant's area. */
  datasetDir(tenant: string, sha256: string): string
  /** Makes the tenant's area (once per process), owned by its cluster user where the store has owners. */
  tenantArea(owner: StagingOwner): Promise<unknown>
  /**
   * Streams `source` to a temp file of the owner's area (the gateway's tmp without one),
   * hashing and metering it. Any failure leaves no file and throws UploadTooLargeError,
   * UploadAbortedError, UploadIdleError (no byte for `idleMs`) or a StoreError.
   */
  upload(
    source: Readable,
    limit: number,
    owner?: StagingOwner,
    idleMs?: number,
  ): Promise<StagedUpload>
  /** Moves a complete upload to `path` (kept when that file is there already: same bytes). */
  placeAt(upload: StagedUpload, path: string, owner: StagingOwner): Promise<string>
  /** SHA-256, size and head of a file, read once as a stream. */
  digest(path: string): Promise<Omit<StagedUpload, 'tmpPath'>>
  /** A file's bytes, or undefined when it is not there. */
  readFile(path: string): Promise<Buffer | undefined>
  /** Writes a small file whole (replacing it), as the owner when given. */
  writeFile(path: string, content: string | Buffer, owner?: StagingOwner): Promise<void>
  /** Whether a file is there. */
  exists(path: string): Promise<boolean>
  /** A folder's entries (empty when it is not there). */
  list(dir: string): Promise<StoreEntry[]>
  /** A file's bytes as a stream, at most `length` of them. */
  open(path: string, range?: { length?: number }): Promise<Readable>
  /** Deletes a file or a tree, ignoring errors (best effort clean-up). */
  discard(path: string): Promise<void>
  /** Deletes a file or a tree for good: a failure throws. */
  remove(path: string): Promise<void>
  /** Stages bytes once per content under `<root>/artifacts/<sha256>/<name>`; its URI. */
  artifactBytes(content: Buffer, name: string): Promise<string>
  /** Resolves when the store answers with the gateway's credentials; throws otherwise. */
  health(): Promise<void>
}
