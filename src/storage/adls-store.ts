/**
 * The ADLS Gen2 adapter of the storage port: a container of an Azure storage account, as a
 * Synapse pool reads it (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH), written and
 * read through the account's Blob endpoint with @azure/storage-blob. Only calls that a
 * hierarchical-namespace account also accepts through its Blob endpoint are used (Put
 * Block, Put Block List, Put Blob, Get Blob, Get Blob Properties, List Blobs, Copy Blob,
 * Delete Blob, Get Container Properties), so the same code runs against a real ADLS Gen2
 * account and against Azurite, which has no dfs endpoint.
 *
 * An upload is staged as blocks of a temp blob (`<area>/tmp/<uuid>`, blocks of
 * `blockBytes`, a few in flight: memory stays flat) and committed only once every byte has
 * arrived: a cut upload leaves no blob (its uncommitted blocks are dropped, and would expire
 * by themselves). Placing it copies the temp blob to its content-addressed name in the
 * account (Copy Blob; the temp blob is then deleted): a blob store has no rename.
 */
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { getCACertificates, setDefaultCACertificates } from 'node:tls'
import { Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DefaultAzureCredential } from '@azure/identity'
import {
  AnonymousCredential,
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type BlockBlobClient,
} from '@azure/storage-blob'
import type { ResolvedStorageAuth } from '../cluster-auth/storage-auth.js'
import {
  StoreError,
  type FileStore,
  type StagedUpload,
  type StagingOwner,
  type StoreEntry,
} from './file-store.js'
import { Meter, meteredUpload } from './upload-stream.js'

export interface AdlsStoreOptions {
  account: string
  container: string
  /** the folder of everything Sparkgate stages in the container (default sparkgate) */
  folder?: string
  /** the Blob endpoint (default https://ACCOUNT.blob.core.windows.net; Azurite: https://127.0.0.1:10000/ACCOUNT) */
  blobEndpoint?: string
  auth: ResolvedStorageAuth
  /**
   * PEM of a CA to trust beside the public ones (a private endpoint, Azurite): the Blob SDK
   * takes no CA of its own, so it joins the process's default CAs
   */
  caFile?: string
  /** bytes per staged block (default 8 MiB) and blocks in flight (default 4) */
  blockBytes?: number
  concurrency?: number
}

/** A storage failure as a StoreError with a stable kind (never the credential). */
export function storeErrorOf(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error
  const e = error as { statusCode?: number; code?: string; name?: string; message?: string }
  const code = e.code ? ` (${e.code})` : ''
  if (e.name === 'AbortError') return new StoreError('aborted', `${what}: aborted`)
  const status = e.statusCode
  const message = `${what}: ${(e.message ?? String(error)).split('\n')[0]}${code}`
  if (status === 404) return new StoreError('not_found', message, 404)
  if (status === 401 || status === 403)
    return new StoreError(
      'access_denied',
      `${what}: the storage account refused the gateway's credential${code}`,
      status,
    )
  if (status === 409 || status === 412) return new StoreError('already_exists', message, status)
  if (status === undefined || status >= 500 || status === 408 || status === 429)
    return new StoreError('unavailable', message, status)
  return new StoreError('remote', message, status)
}

/** Stages what is written to it as blocks of one blob, `concurrency` of them in flight. */
class BlockWriter extends Writable {
  readonly ids: string[] = []
  private parts: Buffer[] = []
  private size = 0
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly blob: BlockBlobClient,
    private readonly blockBytes: number,
    private readonly concurrency: number,
  ) {
    super()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void) {
    this.parts.push(chunk)
    this.size += chunk.length
    if (this.size < this.blockBytes) return done()
    this.block().then(() => done(), done)
  }

  override _final(done: (error?: Error) => void) {
    ;(async () => {
      if (this.size > 0) await this.block()
      await Promise.all(this.inflight)
    })().then(() => done(), done)
  }

  private async block() {
    const body = Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    const id = Buffer.from(`block-${String(this.ids.length).padStart(8, '0')}`).toString('base64')
    this.ids.push(id)
    // not aborted with the upload: a block cut mid-request may still land after the
    // clean-up; a block in flight finishes (or fails), and the clean-up comes after it
    const staged: Promise<void> = this.blob
      .stageBlock(id, body, body.length)
      .then(() => undefined)
      .finally(() => this.inflight.delete(staged))
    staged.catch(() => undefined) // awaited below or in _final
    this.inflight.add(staged)
    if (this.inflight.size >= this.concurrency) await Promise.race(this.inflight)
  }

  /** Resolves once no block is in flight (whatever became of them). */
  settled() {
    return Promise.allSettled([...this.inflight])
  }
}

export class AdlsStore implements FileStore {
  readonly kind = 'adls'
  readonly root: string
  readonly endpoint: string
  readonly auth: string
  private readonly container: ContainerClient
  private readonly dfsBase: string
  private readonly blockBytes: number
  private readonly concurrency: number

  constructor(private readonly o: AdlsStoreOptions) {
    this.root = `/${(o.folder ?? 'sparkgate').replace(/^\/+|\/+$/g, '')}`
    const blobEndpoint = (o.blobEndpoint ?? `https://${o.account}.blob.core.windows.net`).replace(
      /\/+$/,
      '',
    )
    this.endpoint = `${blobEndpoint}/${o.container}`
    this.auth = o.auth.type
    this.dfsBase = `abfss://${o.container}@${o.account}.dfs.core.windows.net`
    this.blockBytes = o.blockBytes ?? 8 * 1024 * 1024
    this.concurrency = o.concurrency ?? 4
    const credential =
      o.auth.type === 'key'
        ? new StorageSharedKeyCredential(o.account, o.auth.key.reveal())
        : o.auth.type === 'default'
          ? new DefaultAzureCredential()
          : new AnonymousCredential()
    const sas = o.auth.type === 'sas' ? `?${o.auth.token.reveal()}` : ''
    if (o.caFile) trustCa(readFileSync(o.caFile, 'utf8'))
    this.container = new ContainerClient(`${this.endpoint}${sas}`, newPipeline(credential))
  }

  get id() {
    return this.uri(this.root)
  }

  uri(path: string) {
    return `${this.dfsBase}${path}`
  }

  pathOf(uri: string): string | undefined {
    const base = `${this.dfsBase}/`
    return uri.startsWith(base) ? uri.slice(base.length - 1) : undefined
  }

  tenantRoot(tenant: string) {
    return `${this.root}/tenants/${tenant}`
  }

  datasetDir(tenant: string, sha256: string) {
    return `${this.tenantRoot(tenant)}/datasets/${sha256}`
  }

  /**
   * Nothing to make: a blob store has no folders to own. Tenants are kept apart by the
   * gateway's policy (a job names only its own area); on a real account, per-folder ACLs
   * (a dfs call) can add what the cluster enforces.
   */
  async tenantArea(_owner: StagingOwner): Promise<unknown> {
    return undefined
  }

  private blob(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(path.replace(/^\/+/, ''))
  }

  async upload(
    source: Readable,
    limit: number,
    owner?: StagingOwner,
    idleMs = 0,
  ): Promise<StagedUpload> {
    const dir = owner ? `${this.tenantRoot(owner.tenant)}/tmp` : `${this.root}/tmp`
    const tmpPath = `${dir}/${randomUUID()}`
    const blob = this.blob(tmpPath)
    let writer: BlockWriter | undefined
    const digest = await meteredUpload(
      source,
      limit,
      idleMs,
      async (body, signal) => {
        writer = new BlockWriter(blob, this.blockBytes, this.concurrency)
        try {
          await pipeline(body, writer)
          await blob.commitBlockList(writer.ids, { abortSignal: signal })
        } catch (error) {
          throw storeErrorOf(error, `uploading to ${this.uri(tmpPath)}`)
        }
      },
      async () => {
        await writer?.settled()
        await this.dropUncommitted(tmpPath)
      },
    )
    return { ...digest, tmpPath }
  }

  /**
   * Removes a temp blob, committed or not: committing an empty block list discards every
   * uncommitted block, then the (empty) blob goes. Best effort: blocks left by a store that
   * could not be reached expire by themselves (Azure: after 7 days).
   */
  private async dropUncommitted(path: string) {
    const blob = this.blob(path)
    for (let attempt = 0; attempt < 3; attempt++) {
      await blob.commitBlockList([]).catch(() => undefined)
      await blob.deleteIfExists().catch(() => undefined)
      // gone when the service knows no block of it, committed or not
      const left = await blob.getBlockList('all').then(
        (list) => (list.committedBlocks?.length ?? 0) + (list.uncommittedBlocks?.length ?? 0),
        (error: unknown) => ((error as { statusCode?: number }).statusCode === 404 ? 0 : 1),
      )
      if (left === 0) return
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  async placeAt(upload: StagedUpload, path: string, _owner: StagingOwner): Promise<string> {
    const target = this.blob(path)
    try {
      if (!(await target.exists())) {
        const poller = await target.beginCopyFromURL(this.blob(upload.tmpPath).url, {
          conditions: { ifNoneMatch: '*' },
        })
        await poller.pollUntilDone()
      }
    } catch (error) {
      const fault = storeErrorOf(error, `placing ${this.uri(path)}`)
      // a concurrent upload of the same bytes placed it first: same content, kept
      if (fault.kind !== 'already_exists') {
        await this.discard(upload.tmpPath)
        throw fault
      }
    }
    await this.discard(upload.tmpPath)
    return path
  }

  async digest(path: string): Promise<Omit<StagedUpload, 'tmpPath'>> {
    const meter = new Meter(Number.MAX_SAFE_INTEGER)
    const source = await this.open(path)
    await pipeline(source, meter, new Writable({ write: (_chunk, _enc, done) => done() }))
    return meter.digest()
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await this.blob(path).downloadToBuffer()
    } catch (error) {
      const fault = storeErrorOf(error, `reading ${this.uri(path)}`)
      if (fault.kind === 'not_found') return undefined
      throw fault
    }
  }

  async writeFile(path: string, content: string | Buffer, _owner?: StagingOwner) {
    const body = typeof content === 'string' ? Buffer.from(content) : content
    try {
      await this.blob(path).upload(body, body.length)
    } catch (error) {
      throw storeErrorOf(error, `writing ${this.uri(path)}`)
    }
  }

  async exists(path: string) {
    try {
      return await this.blob(path).exists()
    } catch (error) {
      throw storeErrorOf(error, `reading ${this.uri(path)}`)
    }
  }

  /**
   * A folder's entries: its blobs and the prefixes below it. A folder marker blob (what
   * Hadoop's drivers and a hierarchical namespace keep for a directory, metadata
   * hdi_isfolder=true) counts as a folder, once.
   */
  async list(dir: string): Promise<StoreEntry[]> {
    const prefix = `${dir.replace(/^\/+|\/+$/g, '')}/`
    const found = new Map<string, StoreEntry>()
    try {
      for await (const item of this.container.listBlobsByHierarchy('/', {
        prefix,
        includeMetadata: true,
      })) {
        const name = item.name.slice(prefix.length).replace(/\/$/, '')
        if (!name) continue
        if (item.kind === 'prefix' || item.metadata?.['hdi_isfolder'] === 'true')
          found.set(name, { name, type: 'DIRECTORY', length: 0 })
        else found.set(name, { name, type: 'FILE', length: item.properties.contentLength ?? 0 })
      }
    } catch (error) {
      throw storeErrorOf(error, `listing ${this.uri(dir)}`)
    }
    return [...found.values()]
  }

  async open(path: string, range: { length?: number } = {}): Promise<Readable> {
    try {
      const answer = await this.blob(path).download(0, range.length)
      return answer.readableStreamBody as Readable
    } catch (error) {
      throw storeErrorOf(error, `reading ${this.uri(path)}`)
    }
  }

  async discard(path: string) {
    await this.remove(path).catch(() => undefined)
  }

  /** Deletes the blob at `path` and every blob below it, deepest first. */
  async remove(path: string) {
    const name = path.replace(/^\/+|\/+$/g, '')
    try {
      const names: string[] = []
      for await (const item of this.container.listBlobsFlat({ prefix: `${name}/` }))
        names.push(item.name)
      names.sort((a, b) => b.length - a.length)
      for (const each of names) await this.container.deleteBlob(each).catch(ignoreMissing)
      await this.container.deleteBlob(name).catch(ignoreMissing)
    } catch (error) {
      throw storeErrorOf(error, `deleting ${this.uri(path)}`)
    }
  }

  async artifactBytes(content: Buffer, name: string): Promise<string> {
    const sha256 = createHash('sha256').update(content).digest('hex')
    const path = `${this.root}/artifacts/${sha256}/${name}`
    const blob = this.blob(path)
    try {
      // one Put Blob: the file is there whole or not at all
      if (!(await blob.exists()))
        await blob.upload(content, content.length, { conditions: { ifNoneMatch: '*' } })
    } catch (error) {
      const fault = storeErrorOf(error, `writing ${this.uri(path)}`)
      if (fault.kind !== 'already_exists') throw fault
    }
    return this.uri(path)
  }

  async health() {
    try {
      await this.container.getProperties()
    } catch (error) {
      throw storeErrorOf(error, `storage ${this.endpoint}`)
    }
  }
}

function ignoreMissing(error: unknown) {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error
}

/** Adds a CA to the process's default ones (what new TLS connections trust), once. */
function trustCa(ca: string) {
  const trusted = getCACertificates('default')
  if (!trusted.includes(ca)) setDefaultCACertificates([...trusted, ca])
}
