/**
 * Staging on HDFS. A tenant's upload streams to `<root>/tenants/<t>/tmp/<uuid>`, written
 * as the tenant's cluster user, while its SHA-256 and size are computed and its first
 * bytes kept for sniffing; only when every byte has arrived is it renamed to
 * `<root>/tenants/<t>/datasets/<sha256>/<name>`. Whatever goes wrong — the client goes
 * away, the size limit is passed, HDFS fails — the temp file is deleted, so a cut upload
 * leaves nothing behind and nothing listed. Memory stays flat: bytes pass through one
 * stream, never gathered.
 *
 * Job scripts (artifacts) go to `<root>/artifacts/<sha256>/<name>` the same way, once per
 * content: a stat first, an upload only when the path is missing.
 */
import { createHash, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { WebHdfsError, type WebHdfsClient } from '../storage/webhdfs-client.js'
import { SNIFF_BYTES } from './sniff.js'

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than the limit of ${limit} bytes`)
    this.name = 'UploadTooLargeError'
  }
}

export class UploadIdleError extends Error {
  constructor(readonly idleMs: number) {
    super(`the upload sent no byte for ${idleMs} ms`)
    this.name = 'UploadIdleError'
  }
}

/** Whose upload it is: the tenant (its HDFS area) and the HDFS user that writes it. */
export interface StagingOwner {
  tenant: string
  user: string
}

export class UploadAbortedError extends Error {
  constructor(cause?: unknown) {
    super('the client closed the connection before the upload was complete', { cause })
    this.name = 'UploadAbortedError'
  }
}

export interface StagedUpload {
  sha256: string
  size: number
  /** the first SNIFF_BYTES bytes */
  head: Buffer
  /** the temp path holding the bytes (rename or discard it) */
  tmpPath: string
}

/** Counts, hashes and keeps the head of the bytes that pass; fails past `limit`. */
class Meter extends Transform {
  readonly hash = createHash('sha256')
  size = 0
  private readonly headChunks: Buffer[] = []
  private headSize = 0

  constructor(private readonly limit: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.size += chunk.length
    if (this.size > this.limit) return done(new UploadTooLargeError(this.limit))
    this.hash.update(chunk)
    if (this.headSize < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headSize)
      this.headChunks.push(Buffer.from(part))
      this.headSize += part.length
    }
    done(null, chunk)
  }

  head() {
    return Buffer.concat(this.headChunks)
  }
}

export class Staging {
  private readonly tmpReady = new Map<string, Promise<unknown>>()

  constructor(
    private readonly hdfs: WebHdfsClient,
    /** HDFS folder of everything Sparkgate stages, e.g. /sparkgate */
    readonly root: string,
    /** fs.defaultFS, e.g. hdfs://127.0.0.1:8020 */
    private readonly defaultFs: string,
    /** a tenant's cluster user (the owner of its area); the tenant's id when unknown */
    private readonly clusterUserOf?: (tenant: string) => Promise<string | undefined>,
  ) {}

  /**
   * The client to reach `path` with: inside a tenant's area, as the tenant's cluster user
   * (with HDFS permissions on, the area is 0700 and the gateway's own user may not enter
   * it); elsewhere as the gateway.
   */
  async hdfsFor(path: string): Promise<WebHdfsClient> {
    const areas = `${this.root}/tenants/`
    if (!path.startsWith(areas)) return this.hdfs
    const tenant = path.slice(areas.length).split('/')[0]!
    return this.hdfs.as((await this.clusterUserOf?.(tenant)) ?? tenant)
  }

  uri(path: string) {
    return `${this.defaultFs.replace(/\/+$/, '')}${path}`
  }

  /** A tenant's HDFS area: its datasets, runs and temp files. */
  tenantRoot(tenant: string) {
    return `${this.root}/tenants/${tenant}`
  }

  /** Runs `make` once per key while it succeeds (a failure is tried again next time). */
  private once(key: string, make: () => Promise<unknown>): Promise<unknown> {
    let ready = this.tmpReady.get(key)
    if (!ready) {
      ready = make().catch((error: unknown) => {
        this.tmpReady.delete(key)
        throw error
      })
      this.tmpReady.set(key, ready)
    }
    return ready
  }

  /**
   * `<root>` and `<root>/tenants`, made by the gateway itself when missing (a MKDIRS makes
   * the folders it adds with the mode it is given, so a tenant's 0700 must not be the first
   * to make them): `<root>` with the default mode, `<root>/tenants` 1777, where each
   * tenant's user makes its own area (a cluster's admin may have laid them out already).
   */
  private areasFolder(): Promise<unknown> {
    return this.once(`${this.root}/tenants#folder`, async () => {
      await this.hdfs.mkdirs(this.root)
      await this.hdfs.mkdirs(`${this.root}/tenants`, '1777')
    })
  }

  /**
   * Makes the tenant's area, owned by its cluster user (created as that user: `user.name`,
   * or `doas` under Kerberos) with mode 0700, so that on a cluster with HDFS permissions on
   * no other tenant's job can read it. Called when the tenant is made, and before anything
   * is written there (once per gateway process). An area made before with another mode gets
   * 0700; under Kerberos, one owned by another user is refused (access_denied).
   */
  tenantArea(owner: StagingOwner): Promise<unknown> {
    const dir = this.tenantRoot(owner.tenant)
    return this.once(`${dir}#area`, async () => {
      await this.areasFolder()
      const hdfs = this.hdfs.as(owner.user)
      await hdfs.mkdirs(dir, '700')
      const status = await hdfs.getFileStatus(dir)
      // where identities are proven (Kerberos), a squatted area is refused, not used
      if (hdfs.authType === 'kerberos' && status.owner !== owner.user)
        throw new WebHdfsError(
          'access_denied',
          `${dir} is owned by ${status.owner}, not by the tenant's cluster user ${owner.user}`,
          403,
        )
      if (status.permission !== '700') await hdfs.setPermission(dir, '700')
    })
  }

  datasetDir(tenant: string, sha256: string) {
    return `${this.tenantRoot(tenant)}/datasets/${sha256}`
  }

  private tmpDir(owner?: StagingOwner) {
    return owner ? `${this.tenantRoot(owner.tenant)}/tmp` : `${this.root}/tmp`
  }

  /**
   * Streams `source` to a temp file on HDFS (in the owner's area, as its user). On any
   * failure the temp file is removed and the error rethrown: UploadTooLargeError,
   * UploadAbortedError, UploadIdleError (no byte for `idleMs`), or a WebHdfsError.
   */
  async upload(
    source: Readable,
    limit: number,
    owner?: StagingOwner,
    idleMs = 0,
  ): Promise<StagedUpload> {
    const dir = this.tmpDir(owner)
    const hdfs = owner ? this.hdfs.as(owner.user) : this.hdfs
    if (owner) await this.tenantArea(owner)
    await this.once(dir, () => hdfs.mkdirs(dir))
    const tmpPath = `${dir}/${randomUUID()}`
    const meter = new Meter(limit)
    const controller = new AbortController()
    // The source is never destroyed here: on a failure it is only unpiped, so that the
    // caller can still answer (a 413 on the same connection) before closing it.
    let failure: unknown
    const fail = (error: unknown) => {
      if (failure !== undefined) return
      failure = error
      source.unpipe(meter)
      controller.abort()
      meter.destroy()
    }
    const onSourceError = (error: unknown) => fail(new UploadAbortedError(error))
    const onSourceClose = () => {
      if (!source.readableEnded) fail(new UploadAbortedError())
    }
    source.on('error', onSourceError)
    source.on('close', onSourceClose)
    meter.on('error', fail)
    // a client that stops sending is cut after idleMs without a byte
    let idle: NodeJS.Timeout | undefined
    const arm = () => {
      if (idleMs <= 0) return
      clearTimeout(idle)
      idle = setTimeout(() => fail(new UploadIdleError(idleMs)), idleMs)
    }
    const onData = () => arm()
    source.on('data', onData)
    arm()
    source.pipe(meter)
    try {
      await hdfs.create(tmpPath, meter, { overwrite: false, signal: controller.signal })
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new UploadAbortedError(failure)
    } catch (error) {
      fail(error)
      await this.discard(tmpPath)
      const cause = failure ?? error
      if (
        cause instanceof UploadTooLargeError ||
        cause instanceof UploadAbortedError ||
        cause instanceof UploadIdleError
      )
        throw cause
      if (cause instanceof WebHdfsError && cause.kind !== 'aborted') throw cause
      throw new UploadAbortedError(cause)
    } finally {
      clearTimeout(idle)
      source.off('data', onData)
      source.off('error', onSourceError)
      source.off('close', onSourceClose)
    }
    return { sha256: meter.hash.digest('hex'), size: meter.size, head: meter.head(), tmpPath }
  }

  /**
   * Moves a complete upload to `<root>/tenants/<t>/datasets/<sha256>/<name>`. When that
   * file is there already (the same bytes and name uploaded before, or concurrently) the
   * temp file is dropped and the existing one kept: the content is the same.
   */
  async place(upload: StagedUpload, name: string, owner: StagingOwner): Promise<string> {
    const dir = this.datasetDir(owner.tenant, upload.sha256)
    const path = `${dir}/${name}`
    const hdfs = this.hdfs.as(owner.user)
    try {
      // A refused rename means the file is there (kept: same bytes, same name), unless a
      // concurrent upload that lost the race for the record removed its copy in between:
      // then the move is tried again.
      for (let attempt = 1; ; attempt++) {
        await hdfs.mkdirs(dir)
        if (await hdfs.rename(upload.tmpPath, path)) break
        if (await hdfs.stat(path)) {
          await this.discard(upload.tmpPath)
          break
        }
        if (attempt === 5) throw new Error(`could not move the upload to ${path}`)
      }
    } catch (error) {
      await this.discard(upload.tmpPath)
      throw error
    }
    return path
  }

  /**
   * The SHA-256, size and head of a file already on HDFS (a job's output), read once as a
   * stream; memory stays flat.
   */
  async digest(path: string): Promise<Omit<StagedUpload, 'tmpPath'>> {
    const meter = new Meter(Number.MAX_SAFE_INTEGER)
    const source = await (await this.hdfsFor(path)).open(path)
    await pipeline(source, meter, new Writable({ write: (_chunk, _enc, done) => done() }))
    return { sha256: meter.hash.digest('hex'), size: meter.size, head: meter.head() }
  }

  /** Deletes a path, ignoring errors (best effort clean-up). */
  async discard(path: string) {
    await this.hdfsFor(path)
      .then((hdfs) => hdfs.delete(path, true))
      .catch(() => undefined)
  }

  /** Deletes a tree for good: a failure throws (the caller's record says what is left). */
  async remove(path: string) {
    await (await this.hdfsFor(path)).delete(path, true)
  }

  /**
   * Stages a local file (a job script from jobs/) once per content and returns its
   * hdfs:// URI: `<root>/artifacts/<sha256>/<name>`.
   */
  async artifact(localPath: string, name = basename(localPath)): Promise<string> {
    return this.artifactBytes(await readFile(localPath), name)
  }

  /** Stages bytes built in memory (the job package's zip) as {@link artifact} does. */
  async artifactBytes(content: Buffer, name: string): Promise<string> {
    const sha256 = createHash('sha256').update(content).digest('hex')
    const path = `${this.root}/artifacts/${sha256}/${name}`
    if (await this.hdfs.stat(path)) return this.uri(path)
    const staged = await this.upload(Readable.from([content]), Number.MAX_SAFE_INTEGER)
    await this.hdfs.mkdirs(`${this.root}/artifacts/${sha256}`)
    if (!(await this.hdfs.rename(staged.tmpPath, path))) await this.discard(staged.tmpPath)
    return this.uri(path)
  }
}
