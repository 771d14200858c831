/**
 * A WebHDFS REST client on axios.
 *
 * Written here because the registry has no maintained one: `webhdfs` rides on the
 * deprecated `request`, and `hdfs-webhdfs-client` does not exist. Covers what Sparkgate
 * stages and reads: file status, listing (plain and batched), mkdirs, two-step CREATE and
 * APPEND (the NameNode answers 307 to a DataNode; the body is streamed to that Location,
 * never buffered), streamed OPEN with offset/length, rename, recursive delete, content
 * summary and checksum. RemoteException JSON becomes a typed error. Simple auth via
 * `user.name`, an optional delegation token, HTTPS when the URL says so (a private CA from
 * a file), Basic auth through a gateway in front (HDInsight, Knox: the DataNode redirects
 * come back through it), or Kerberos: SPNEGO to the NameNode with the gateway's principal,
 * `doas` for the user it acts for, and the delegation token the NameNode puts in each
 * DataNode redirect. A 401 is `unavailable` (transient: the credentials may be fixed while
 * the work waits). Only idempotent operations are retried.
 */
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios'
import type { Readable } from 'node:stream'
import type { ResolvedAuth } from '../cluster-auth/credentials.js'
import { authenticate } from '../cluster-auth/http-auth.js'
import { SpnegoError } from '../cluster-auth/spnego.js'
import {
  REMOTE_KINDS,
  WebHdfsError,
  type ContentSummary,
  type FileChecksum,
  type FileStatus,
} from './webhdfs-types.js'

export { WebHdfsError, type ContentSummary, type FileChecksum, type FileStatus }

export interface WebHdfsOptions {
  /** e.g. http://127.0.0.1:9870/webhdfs/v1 */
  url: string
  /** user.name for simple authentication; under Kerberos, the user to act for (doas) */
  user: string
  /** credentials (none: simple auth); under Kerberos `user` is sent as `doas` */
  auth?: ResolvedAuth
  /** PEM file of the private CA of an https url */
  caFile?: string
  /** under Kerberos: act for `user` (doas) rather than as the gateway's principal */
  doAs?: boolean
  /** Hadoop delegation token (sent as `delegation=`), instead of user.name */
  delegationToken?: string
  /** per-request timeout (ms) for metadata calls; data transfers have no overall timeout */
  timeoutMs?: number
  /** how many times an idempotent call is retried on a transient fault */
  retries?: number
}

export interface WriteOptions {
  /** aborts the DataNode transfer (e.g. the uploading client went away) */
  signal?: AbortSignal
  overwrite?: boolean
  permission?: string
  replication?: number
  blockSize?: number
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export class WebHdfsClient {
  private readonly http: AxiosInstance
  /** the WebHDFS base URL, e.g. http://127.0.0.1:9870/webhdfs/v1 */
  readonly base: string
  private readonly retries: number
  private readonly others = new Map<string, WebHdfsClient>()

  constructor(
    private readonly options: WebHdfsOptions,
    /** the HTTP client (credentials, CA, connection pool) of the client it acts for, shared */
    shared?: AxiosInstance,
  ) {
    this.base = options.url.replace(/\/+$/, '')
    this.retries = options.retries ?? 2
    if (shared) {
      this.http = shared
      return
    }
    this.http = axios.create({
      timeout: options.timeoutMs ?? 30_000,
      maxRedirects: 0,
      // errors are mapped below, from the status and the RemoteException body
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
    })
    authenticate(this.http, {
      url: this.base,
      auth: options.auth ?? { type: 'none' },
      ...(options.caFile ? { caFile: options.caFile, caSetting: 'SPARKGATE_HDFS_CA_FILE' } : {}),
    })
  }

  /** How it authenticates: none, basic or kerberos. */
  get authType(): ResolvedAuth['type'] {
    return this.options.auth?.type ?? 'none'
  }

  /**
   * The same NameNode, as another user: `user.name` under simple auth, `doas` under
   * Kerberos (the gateway's principal must be a proxy user of the cluster); one client per
   * user, kept, all on this one's HTTP client (only the query differs).
   */
  as(user: string): WebHdfsClient {
    if (user === this.options.user && !this.options.doAs) return this
    let client = this.others.get(user)
    if (!client) {
      client = new WebHdfsClient({ ...this.options, user, doAs: true }, this.http)
      this.others.set(user, client)
    }
    return client
  }

  /** The WebHDFS URL of an operation on an absolute HDFS path. */
  url(
    path: string,
    op: string,
    params: Record<string, string | number | boolean | undefined> = {},
  ) {
    if (!path.startsWith('/'))
      throw new WebHdfsError('invalid', `HDFS path must be absolute: ${path}`)
    const query = new URLSearchParams({ op })
    if (this.options.delegationToken) query.set('delegation', this.options.delegationToken)
    else if (this.authType !== 'kerberos') query.set('user.name', this.options.user)
    else if (this.options.doAs) query.set('doas', this.options.user)
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v))
    const encoded = path
      .split('/')
      .map((segment) => encodeURIComponent(segment))
      .join('/')
    return `${this.base}${encoded}?${query.toString()}`
  }

  async getFileStatus(path: string): Promise<FileStatus> {
    const r = await this.call('GET', path, 'GETFILESTATUS', {}, true)
    return (r.data as { FileStatus: FileStatus }).FileStatus
  }

  /** Status, or undefined when the path does not exist. */
  async stat(path: string): Promise<FileStatus | undefined> {
    try {
      return await this.getFileStatus(path)
    } catch (error) {
      if (error instanceof WebHdfsError && error.kind === 'not_found') return undefined
      throw error
    }
  }

  async listStatus(path: string): Promise<FileStatus[]> {
    const r = await this.call('GET', path, 'LISTSTATUS', {}, true)
    return (r.data as { FileStatuses: { FileStatus: FileStatus[] } }).FileStatuses.FileStatus
  }

  /** Lists a large folder page by page (LISTSTATUS_BATCH), never holding it whole. */
  async *listStatusBatches(path: string): AsyncGenerator<FileStatus[]> {
    let startAfter: string | undefined
    for (;;) {
      const r = await this.call('GET', path, 'LISTSTATUS_BATCH', { startAfter }, true)
      const listing = (
        r.data as {
          DirectoryListing: {
            partialListing: { FileStatuses: { FileStatus: FileStatus[] } }
            remainingEntries: number
          }
        }
      ).DirectoryListing
      const page = listing.partialListing.FileStatuses.FileStatus
      if (page.length > 0) yield page
      const last = page.at(-1)
      if (listing.remainingEntries === 0 || !last) return
      startAfter = last.pathSuffix
    }
  }

  async mkdirs(path: string, permission?: string): Promise<boolean> {
    const r = await this.call('PUT', path, 'MKDIRS', { permission }, true)
    return (r.data as { boolean: boolean }).boolean
  }

  /**
   * Two-step CREATE: ask the NameNode (no body), then stream the bytes to the DataNode
   * it redirects to. Not retried: a body stream can be read only once.
   */
  async create(
    path: string,
    body: Readable | Buffer | string,
    options: WriteOptions = {},
  ): Promise<void> {
    const location = await this.redirect('PUT', path, 'CREATE', {
      overwrite: options.overwrite ?? false,
      permission: options.permission,
      replication: options.replication,
      blocksize: options.blockSize,
    })
    await this.send('PUT', location, body, 201, options.signal)
  }

  /** Two-step APPEND (POST), like create. */
  async append(
    path: string,
    body: Readable | Buffer | string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const location = await this.redirect('POST', path, 'APPEND', {})
    await this.send('POST', location, body, 200, options.signal)
  }

  /** Streams a file (or a byte range of it) from the DataNode. */
  async open(path: string, range: { offset?: number; length?: number } = {}): Promise<Readable> {
    const location = await this.redirect('GET', path, 'OPEN', {
      offset: range.offset,
      length: range.length,
    })
    const r = await this.transfer(() =>
      this.http.get<Readable>(location, { responseType: 'stream', timeout: 0 }),
    )
    if (r.status !== 200) throw await this.errorOfStream(r, `OPEN ${path}`)
    return r.data
  }

  /** Reads a whole (small) file into memory. */
  async readFile(path: string, range: { offset?: number; length?: number } = {}): Promise<Buffer> {
    const stream = await this.open(path, range)
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  /** Sets a path's mode (octal, e.g. '700'): its owner or the superuser only. */
  async setPermission(path: string, permission: string): Promise<void> {
    await this.call('PUT', path, 'SETPERMISSION', { permission }, true)
  }

  async rename(from: string, to: string): Promise<boolean> {
    const r = await this.call('PUT', from, 'RENAME', { destination: to }, false)
    return (r.data as { boolean: boolean }).boolean
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    const r = await this.call('DELETE', path, 'DELETE', { recursive }, true)
    return (r.data as { boolean: boolean }).boolean
  }

  async getContentSummary(path: string): Promise<ContentSummary> {
    const r = await this.call('GET', path, 'GETCONTENTSUMMARY', {}, true)
    return (r.data as { ContentSummary: ContentSummary }).ContentSummary
  }

  async getFileChecksum(path: string): Promise<FileChecksum> {
    // The NameNode redirects checksum requests to a DataNode too.
    const location = await this.redirect('GET', path, 'GETFILECHECKSUM', {})
    const r = await this.transfer(() => this.http.get(location))
    if (r.status !== 200) throw this.errorOf(r, `GETFILECHECKSUM ${path}`)
    return (r.data as { FileChecksum: FileChecksum }).FileChecksum
  }

  // ------------------------------------------------------------------ internals

  private async call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    op: string,
    params: Record<string, string | number | boolean | undefined>,
    idempotent: boolean,
  ): Promise<AxiosResponse> {
    const attempts = idempotent ? this.retries + 1 : 1
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.transfer(() =>
          this.http.request({ method, url: this.url(path, op, params) }),
        )
        // 3xx: the first step of CREATE/APPEND/OPEN, handled by redirect()
        if (r.status >= 200 && r.status < 400) return r
        throw this.errorOf(r, `${op} ${path}`)
      } catch (error) {
        if (!(error instanceof WebHdfsError) || !error.transient || attempt >= attempts) throw error
        await sleep(100 * 2 ** (attempt - 1))
      }
    }
  }

  /** First step of CREATE/APPEND/OPEN: the NameNode's 307 Location (retried: no body yet). */
  private async redirect(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    op: string,
    params: Record<string, string | number | boolean | undefined>,
  ): Promise<string> {
    const r = await this.call(method, path, op, params, true)
    const location = r.headers['location'] as string | undefined
    if ((r.status === 307 || r.status === 302) && location) return location
    // Some gateways (HttpFS) serve the operation directly without a redirect.
    throw new WebHdfsError(
      'remote',
      `${op} ${path}: expected a redirect to a DataNode, got ${r.status}`,
      r.status,
    )
  }

  private async send(
    method: 'PUT' | 'POST',
    location: string,
    body: Readable | Buffer | string,
    expect: number,
    signal?: AbortSignal,
  ) {
    const r = await this.transfer(() =>
      this.http.request({
        method,
        url: location,
        data: body,
        timeout: 0,
        ...(signal ? { signal } : {}),
        headers: { 'content-type': 'application/octet-stream' },
      }),
    )
    if (r.status !== expect) throw this.errorOf(r, `${method} ${new URL(location).pathname}`)
  }

  /** Runs a request; connection-level failures become `unavailable`. */
  private async transfer<T>(request: () => Promise<AxiosResponse<T>>): Promise<AxiosResponse<T>> {
    try {
      return await request()
    } catch (error) {
      if (isAxiosError(error) && error.code === 'ERR_CANCELED') {
        throw new WebHdfsError('aborted', 'WebHDFS transfer aborted')
      }
      if (error instanceof SpnegoError) throw new WebHdfsError('unavailable', error.message)
      if (isAxiosError(error)) {
        throw new WebHdfsError('unavailable', `WebHDFS unreachable: ${error.code ?? error.message}`)
      }
      throw error
    }
  }

  private errorOf(r: AxiosResponse, what: string): WebHdfsError {
    if (r.status === 401 || r.status === 407)
      return new WebHdfsError(
        'unavailable',
        `${what}: WebHDFS refused the gateway's credentials (HTTP ${r.status}; ${this.authType} auth)`,
        r.status,
      )
    const remote = (
      r.data as {
        RemoteException?: { exception?: string; javaClassName?: string; message?: string }
      }
    )?.RemoteException
    if (remote) {
      const kind =
        REMOTE_KINDS[remote.exception ?? ''] ??
        (r.status === 404 ? 'not_found' : r.status === 403 ? 'access_denied' : 'remote')
      return new WebHdfsError(
        kind,
        `${what}: ${remote.message ?? remote.exception}`,
        r.status,
        remote.javaClassName,
      )
    }
    const kind = r.status === 404 ? 'not_found' : r.status >= 500 ? 'unavailable' : 'remote'
    return new WebHdfsError(kind, `${what}: HTTP ${r.status}`, r.status)
  }

  private async errorOfStream(r: AxiosResponse<Readable>, what: string): Promise<WebHdfsError> {
    const chunks: Buffer[] = []
    for await (const chunk of r.data) chunks.push(chunk as Buffer)
    let data: unknown
    try {
      data = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      data = undefined
    }
    return this.errorOf({ ...r, data } as AxiosResponse, what)
  }
}
