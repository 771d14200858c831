/**
 * The HDFS adapter of the storage port, over WebHDFS. A tenant's upload streams to
 * `<root>/tenants/<t>/tmp/<uuid>`, written as the tenant's cluster user; only when every
 * byte has arrived is it renamed to its place (`datasets/<sha256>/<name>`). Whatever goes
 * wrong — the client goes away, the size limit is passed, HDFS fails — the temp file is
 * deleted, so a cut upload leaves nothing behind and nothing listed.
 *
 * A tenant's area is 0700 and owned by its cluster user: inside it, files are read and
 * written as that user (`user.name`, or `doas` under Kerberos); elsewhere as the gateway.
 */
import { createHash, randomUUID } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FileStore, StagedUpload, StagingOwner, StoreEntry } from './file-store.js'
import { Meter, meteredUpload } from './upload-stream.js'
import { WebHdfsError, type WebHdfsClient } from './webhdfs-client.js'

export class HdfsStore implements FileStore {
  readonly kind = 'hdfs'
  private readonly ready = new Map<string, Promise<unknown>>()

  constructor(
    readonly hdfs: WebHdfsClient,
    /** HDFS folder of everything Sparkgate stages, e.g. /sparkgate */
    readonly root: string,
    /** fs.defaultFS, e.g. hdfs://127.0.0.1:8020 */
    private readonly defaultFs: string,
    /** a tenant's cluster user (the owner of its area); the tenant's id when unknown */
    private readonly clusterUserOf?: (tenant: string) => Promise<string | undefined>,
  ) {}

  get id() {
    return this.uri(this.root)
  }

  get endpoint() {
    return this.hdfs.base
  }

  get auth() {
    return this.hdfs.authType
  }

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

  pathOf(uri: string): string | undefined {
    const base = this.uri('/')
    return uri.startsWith(base) ? uri.slice(base.length - 1) : undefined
  }

  tenantRoot(tenant: string) {
    return `${this.root}/tenants/${tenant}`
  }

  datasetDir(tenant: string, sha256: string) {
    return `${this.tenantRoot(tenant)}/datasets/${sha256}`
  }

  /** Runs `make` once per key while it succeeds (a failure is tried again next time). */
  private once(key: string, make: () => Promise<unknown>): Promise<unknown> {
    let ready = this.ready.get(key)
    if (!ready) {
      ready = make().catch((error: unknown) => {
        this.ready.delete(key)
        throw error
      })
      this.ready.set(key, ready)
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

  private tmpDir(owner?: StagingOwner) {
    return owner ? `${this.tenantRoot(owner.tenant)}/tmp` : `${this.root}/tmp`
  }

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
    const digest = await meteredUpload(
      source,
      limit,
      idleMs,
      (body, signal) => hdfs.create(tmpPath, body, { overwrite: false, signal }),
      () => this.discard(tmpPath),
    )
    return { ...digest, tmpPath }
  }

  /**
   * Moves a complete upload to `path`. When that file is there already (the same bytes
   * and name uploaded before, or concurrently) the temp file is dropped and the existing
   * one kept: the content is the same.
   */
  async placeAt(upload: StagedUpload, path: string, owner: StagingOwner): Promise<string> {
    const dir = path.replace(/\/[^/]*$/, '')
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

  async digest(path: string): Promise<Omit<StagedUpload, 'tmpPath'>> {
    const meter = new Meter(Number.MAX_SAFE_INTEGER)
    const source = await (await this.hdfsFor(path)).open(path)
    await pipeline(source, meter, new Writable({ write: (_chunk, _enc, done) => done() }))
    return meter.digest()
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await (await this.hdfsFor(path)).readFile(path)
    } catch (error) {
      if (error instanceof WebHdfsError && error.kind === 'not_found') return undefined
      throw error
    }
  }

  async writeFile(path: string, content: string | Buffer, owner?: StagingOwner) {
    const hdfs = owner ? this.hdfs.as(owner.user) : await this.hdfsFor(path)
    await hdfs.mkdirs(path.replace(/\/[^/]*$/, ''))
    await hdfs.create(path, content, { overwrite: true })
  }

  async exists(path: string) {
    return (await (await this.hdfsFor(path)).stat(path)) !== undefined
  }

  async list(dir: string): Promise<StoreEntry[]> {
    try {
      const entries = await (await this.hdfsFor(dir)).listStatus(dir)
      return entries.map((f) => ({
        name: f.pathSuffix,
        type: f.type === 'DIRECTORY' ? 'DIRECTORY' : 'FILE',
        length: f.length,
      }))
    } catch (error) {
      if (error instanceof WebHdfsError && error.kind === 'not_found') return []
      throw error
    }
  }

  async open(path: string, range: { length?: number } = {}) {
    return (await this.hdfsFor(path)).open(path, range)
  }

  async discard(path: string) {
    await this.hdfsFor(path)
      .then((hdfs) => hdfs.delete(path, true))
      .catch(() => undefined)
  }

  async remove(path: string) {
    await (await this.hdfsFor(path)).delete(path, true)
  }

  async artifactBytes(content: Buffer, name: string): Promise<string> {
    const sha256 = createHash('sha256').update(content).digest('hex')
    const path = `${this.root}/artifacts/${sha256}/${name}`
    if (await this.hdfs.stat(path)) return this.uri(path)
    const staged = await this.upload(Readable.from([content]), Number.MAX_SAFE_INTEGER)
    await this.hdfs.mkdirs(`${this.root}/artifacts/${sha256}`)
    if (!(await this.hdfs.rename(staged.tmpPath, path))) await this.discard(staged.tmpPath)
    return this.uri(path)
  }

  async health() {
    await this.hdfs.getFileStatus('/')
  }
}
