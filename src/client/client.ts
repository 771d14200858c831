/**
 * The typed Sparkgate client: the CLI's, and the tests'. Its types are generated from the
 * OpenAPI document (`npm run openapi` writes api.ts beside this file), so a route that
 * changes its shape breaks the client at compile time, not at a user's prompt.
 *
 * Plain calls go through openapi-fetch. Three need the raw stream and use fetch directly:
 * a dataset upload (the file streams from disk, its bytes counted for a progress bar), a
 * job's server-sent events, and a whole response body when the caller wants text.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import createClient from 'openapi-fetch'
import type { components, paths } from './api.js'

export type Schemas = components['schemas']
export type Job = Schemas['Job']
export type JobSpec = Schemas['JobSpec']
export type Dataset = Schemas['Dataset']
export type Problem = Schemas['Problem']
export type ModelVersion = Schemas['ModelVersion']
export type Tenant = Schemas['Tenant']

/** Where the gateway is when `SPARKGATE_URL` is not set (the local stack's gateway). */
export const DEFAULT_URL = 'http://127.0.0.1:8080'

export const TERMINAL_STATES: readonly string[] = ['succeeded', 'failed', 'cancelled']

/** The gateway answered with an error: its problem+json (RFC 9457). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title)
    this.name = 'ApiError'
  }
}

/** The gateway could not be reached at all (refused, DNS, timeout before any answer). */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = describeCause(cause)
    super(`cannot reach the gateway at ${url}: ${reason}`)
    this.name = 'UnreachableError'
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause
  if (inner?.code) return inner.code
  if (inner?.message) return inner.message
  return cause instanceof Error ? cause.message : String(cause)
}

export interface ClientOptions {
  /** default: DEFAULT_URL */
  url?: string
  /** an API key (`sgk_…`), sent as `Authorization: Bearer` */
  key?: string
  /** per request, default 30 s; streams (uploads, events) have none */
  timeoutMs?: number
}

export interface UploadProgress {
  /** bytes sent so far */
  sent: number
  /** the file's size */
  total: number
}

/** One server-sent event. */
export interface ServerEvent {
  id?: string
  event: string
  data: string
}

/** The typed client. Every method throws ApiError or UnreachableError, or returns data. */
export class SparkgateClient {
  readonly url: string
  private readonly key: string | undefined
  private readonly timeoutMs: number
  /** openapi-fetch, typed by the document: for calls this class has no method for */
  readonly raw: ReturnType<typeof createClient<paths>>

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? DEFAULT_URL).replace(/\/+$/, '')
    this.key = options.key
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.raw = createClient<paths>({
      baseUrl: this.url,
      headers: this.headers(),
      fetch: (request) => this.fetch(request),
    })
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.key ? { authorization: `Bearer ${this.key}`, ...extra } : extra
  }

  private async fetch(request: Request, timeout = true): Promise<Response> {
    try {
      return await fetch(
        timeout ? new Request(request, { signal: AbortSignal.timeout(this.timeoutMs) }) : request,
      )
    } catch (err) {
      throw new UnreachableError(this.url, err)
    }
  }

  /** data, or throws the problem the gateway answered with */
  private async unwrap<T>(
    call: Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    const { data, error, response } = await call
    if (response.ok) return data as T
    throw new ApiError(response.status, asProblem(response, error))
  }

  // ------------------------------------------------------------------ identity, health
  me() {
    return this.unwrap(this.raw.GET('/v1/me'))
  }
  readiness() {
    return this.raw.GET('/readyz').then(({ data, error, response }) => ({
      status: response.status,
      body: data ?? error,
    }))
  }
  backends() {
    return this.unwrap(this.raw.GET('/v1/backends'))
  }

  // ------------------------------------------------------------------ engines
  engines(state?: string) {
    return this.unwrap(this.raw.GET('/v1/engines', { params: { query: state ? { state } : {} } }))
  }

  engine(id: string) {
    return this.unwrap(this.raw.GET('/v1/engines/{id}', { params: { path: { id } } }))
  }

  startEngine(backend?: string) {
    return this.unwrap(this.raw.POST('/v1/engines', { body: backend ? { backend } : {} }))
  }

  stopEngine(id: string) {
    return this.unwrap(this.raw.DELETE('/v1/engines/{id}', { params: { path: { id } } }))
  }

  // ------------------------------------------------------------------ datasets
  /**
   * Streams a file to POST /v1/datasets (raw body, `?name=`): 201 with the new dataset, or
   * 200 with the one that already has these bytes (`created: false`).
   */
  async uploadDataset(
    file: string,
    options: {
      name?: string
      contentType?: string
      /** the backend whose jobs will read it (its store); default: the default backend's */
      backend?: string
      onProgress?: (p: UploadProgress) => void
    } = {},
  ): Promise<{ dataset: Dataset; created: boolean }> {
    const { size } = await stat(file)
    let sent = 0
    options.onProgress?.({ sent, total: size })
    const counted = Readable.toWeb(createReadStream(file)).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          sent += chunk.byteLength
          options.onProgress?.({ sent, total: size })
          controller.enqueue(chunk)
        },
      }),
    )
    const name = options.name ?? basename(file)
    const backend = options.backend ? `&backend=${encodeURIComponent(options.backend)}` : ''
    const url = `${this.url}/v1/datasets?name=${encodeURIComponent(name)}${backend}`
    const request = new Request(url, {
      method: 'POST',
      headers: this.headers({
        'content-type': options.contentType ?? contentTypeOf(name),
        'content-length': String(size),
      }),
      body: counted as ReadableStream,
      duplex: 'half',
    })
    const response = await this.fetch(request, false)
    const body: unknown = await response.json().catch(() => undefined)
    if (!response.ok) throw new ApiError(response.status, asProblem(response, body))
    return { dataset: body as Dataset, created: response.status === 201 }
  }
  listDatasets(query: { limit?: number; cursor?: string } = {}) {
    return this.unwrap(this.raw.GET('/v1/datasets', { params: { query } }))
  }
  getDataset(id: string) {
    return this.unwrap(this.raw.GET('/v1/datasets/{id}', { params: { path: { id } } }))
  }
  previewDataset(id: string, rows?: number) {
    return this.unwrap(
      this.raw.GET('/v1/datasets/{id}/preview', {
        params: { path: { id }, query: rows === undefined ? {} : { rows } },
      }),
    )
  }
  deleteDataset(id: string) {
    return this.unwrap(this.raw.DELETE('/v1/datasets/{id}', { params: { path: { id } } }))
  }

  // ------------------------------------------------------------------ jobs
  /** POST /v1/jobs: the accepted job (202, or 200 when an idempotency key repeats). */
  submit(spec: JobSpec, idempotencyKey?: string) {
    return this.unwrap(
      this.raw.POST('/v1/jobs', {
        body: spec,
        params: { header: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} },
      }),
    ) as Promise<Job>
  }
  listJobs(query: paths['/v1/jobs']['get']['parameters']['query'] = {}) {
    return this.unwrap(this.raw.GET('/v1/jobs', { params: { query } }))
  }
  getJob(id: string) {
    return this.unwrap(this.raw.GET('/v1/jobs/{id}', { params: { path: { id } } }))
  }
  cancelJob(id: string) {
    return this.unwrap(this.raw.DELETE('/v1/jobs/{id}', { params: { path: { id } } }))
  }
  logs(id: string, query: { from?: number; size?: number } = {}) {
    return this.unwrap(this.raw.GET('/v1/jobs/{id}/logs', { params: { path: { id }, query } }))
  }
  result(id: string) {
    return this.unwrap(this.raw.GET('/v1/jobs/{id}/result', { params: { path: { id } } }))
  }
  /** The evaluation plots a training or scoring job drew: names, titles, where each is. */
  plots(id: string) {
    return this.unwrap(this.raw.GET('/v1/jobs/{id}/result/plots', { params: { path: { id } } }))
  }
  /** One of them: the PNG's bytes. */
  plot(id: string, name: string): Promise<Uint8Array> {
    return this.unwrap(
      this.raw.GET('/v1/jobs/{id}/result/plots/{name}', {
        params: { path: { id, name } },
        parseAs: 'arrayBuffer',
      }),
    ).then((data) => new Uint8Array(data))
  }

  /**
   * The job's transitions as server-sent events, live, until the gateway sends `end` (the
   * job is terminal) or closes the stream; `lastEventId` resumes after that event.
   */
  async *jobEvents(id: string, lastEventId?: string): AsyncGenerator<ServerEvent> {
    const headers = this.headers({ accept: 'text/event-stream' })
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
    const request = new Request(`${this.url}/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers,
    })
    const response = await this.fetch(request, false)
    if (!response.ok || !response.body) {
      const body: unknown = await response.json().catch(() => undefined)
      throw new ApiError(response.status, asProblem(response, body))
    }
    yield* parseEventStream(response.body)
  }

  // ------------------------------------------------------------------ models
  listModels() {
    return this.unwrap(this.raw.GET('/v1/models'))
  }
  getModel(name: string) {
    return this.unwrap(this.raw.GET('/v1/models/{name}', { params: { path: { name } } }))
  }
  setModelAlias(name: string, alias: string, version: number) {
    return this.unwrap(
      this.raw.PUT('/v1/models/{name}/aliases/{alias}', {
        params: { path: { name, alias } },
        body: { version },
      }),
    )
  }
  deleteModelVersion(name: string, version: number) {
    return this.unwrap(
      this.raw.DELETE('/v1/models/{name}/versions/{version}', {
        params: { path: { name, version } },
      }),
    )
  }
  deleteModelAlias(name: string, alias: string) {
    return this.unwrap(
      this.raw.DELETE('/v1/models/{name}/aliases/{alias}', { params: { path: { name, alias } } }),
    )
  }

  // ------------------------------------------------------------------ tenants (admin)
  listTenants(query: { limit?: number; cursor?: string } = {}) {
    return this.unwrap(this.raw.GET('/v1/tenants', { params: { query } }))
  }
  getTenant(tenant: string) {
    return this.unwrap(this.raw.GET('/v1/tenants/{tenant}', { params: { path: { tenant } } }))
  }
  createTenant(body: paths['/v1/tenants']['post']['requestBody']['content']['application/json']) {
    return this.unwrap(this.raw.POST('/v1/tenants', { body }))
  }
  listKeys(tenant: string) {
    return this.unwrap(this.raw.GET('/v1/tenants/{tenant}/keys', { params: { path: { tenant } } }))
  }
  createKey(
    tenant: string,
    body: paths['/v1/tenants/{tenant}/keys']['post']['requestBody']['content']['application/json'],
  ) {
    return this.unwrap(
      this.raw.POST('/v1/tenants/{tenant}/keys', { params: { path: { tenant } }, body }),
    )
  }
  revokeKey(tenant: string, keyId: string) {
    return this.unwrap(
      this.raw.DELETE('/v1/tenants/{tenant}/keys/{keyId}', {
        params: { path: { tenant, keyId } },
      }),
    )
  }
}

/** The problem in an error answer; one made up from the status when the body is not one. */
function asProblem(response: Response, body: unknown): Problem {
  const p = body as Partial<Problem> | undefined
  if (p && typeof p === 'object' && typeof p.code === 'string' && typeof p.title === 'string')
    return p as Problem
  return {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    code: `HTTP_${response.status}`,
    detail: typeof body === 'string' ? body : undefined,
  }
}

function contentTypeOf(name: string): string {
  const ext = name.toLowerCase().split('.').pop()
  switch (ext) {
    case 'csv':
      return 'text/csv'
    case 'json':
    case 'jsonl':
      return 'application/json'
    default:
      return 'application/octet-stream'
  }
}

/** text/event-stream → events (the WHATWG rules the gateway's streams use: id, event, data). */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  let event: Partial<ServerEvent> & { data?: string } = {}
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let newline: number
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
      if (line === '') {
        if (event.data !== undefined)
          yield { id: event.id, event: event.event ?? 'message', data: event.data }
        event = {}
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'data')
        event.data = event.data === undefined ? value : `${event.data}\n${value}`
      else if (field === 'event') event.event = value
      else if (field === 'id') event.id = value
    }
  }
}
