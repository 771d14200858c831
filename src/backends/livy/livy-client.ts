/**
 * Apache Livy batch REST client (axios). Thin: one method per endpoint, typed answers,
 * and errors split into the two kinds the submit worker steers by — `transient`
 * (connection refused, timeouts, 5xx, 429: retry with backoff) and `rejected` (any other
 * 4xx: the request itself is wrong; fail the job with Livy's message).
 *
 * Endpoints: POST /batches, GET /batches?from&size, GET /batches/{id},
 * GET /batches/{id}/state, GET /batches/{id}/log?from&size, DELETE /batches/{id}.
 * `X-Requested-By` is always sent, so Livy's CSRF protection may be on. Credentials (Basic
 * through a gateway, SPNEGO with the gateway's principal) and a private CA come with the
 * options; a 401 is transient (the credentials or the ticket may be fixed while jobs wait).
 */
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios'
import { authenticate } from '../../cluster-auth/http-auth.js'
import type { ResolvedAuth } from '../../cluster-auth/credentials.js'
import { SpnegoError } from '../../cluster-auth/spnego.js'
import type { LivyBatchState } from '../livy-protocol.js'

export interface LivyBatch {
  id: number
  name: string | null
  owner?: string | null
  proxyUser?: string | null
  state: LivyBatchState
  appId: string | null
  appInfo: Record<string, string | null>
  log: string[]
}

export interface LivyBatchRequest {
  file: string
  name?: string
  className?: string
  args?: string[]
  jars?: string[]
  pyFiles?: string[]
  files?: string[]
  archives?: string[]
  driverMemory?: string
  driverCores?: number
  executorMemory?: string
  executorCores?: number
  numExecutors?: number
  queue?: string
  proxyUser?: string
  conf?: Record<string, string>
}

export interface LivyLog {
  id: number
  from: number
  total: number
  log: string[]
}

export class LivyError extends Error {
  constructor(
    readonly kind: 'transient' | 'rejected' | 'not_found',
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'LivyError'
  }
}

export interface LivyClientOptions {
  url: string
  timeoutMs?: number
  /** credentials (none by default) */
  auth?: ResolvedAuth
  /** PEM file of the private CA of an https endpoint */
  caFile?: string
  /** where caFile was set, for the error when it cannot be read */
  caSetting?: string
}

export class LivyClient {
  private readonly http: AxiosInstance

  constructor(readonly options: LivyClientOptions) {
    this.http = axios.create({
      baseURL: options.url.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 15_000,
      headers: { 'X-Requested-By': 'sparkgate', 'content-type': 'application/json' },
      validateStatus: () => true,
    })
    authenticate(this.http, {
      url: options.url,
      auth: options.auth ?? { type: 'none' },
      ...(options.caFile
        ? { caFile: options.caFile, caSetting: options.caSetting ?? 'caFile' }
        : {}),
    })
  }

  submit(request: LivyBatchRequest): Promise<LivyBatch> {
    return this.request<LivyBatch>('POST', '/batches', request, 'submit batch')
  }

  list(from = 0, size = 100): Promise<{ from: number; total: number; sessions: LivyBatch[] }> {
    return this.request('GET', `/batches?from=${from}&size=${size}`, undefined, 'list batches')
  }

  get(id: number): Promise<LivyBatch> {
    return this.request('GET', `/batches/${id}`, undefined, `batch ${id}`)
  }

  state(id: number): Promise<{ id: number; state: LivyBatchState }> {
    return this.request('GET', `/batches/${id}/state`, undefined, `batch ${id} state`)
  }

  logs(id: number, from?: number, size?: number): Promise<LivyLog> {
    const query = new URLSearchParams()
    if (from !== undefined) query.set('from', String(from))
    if (size !== undefined) query.set('size', String(size))
    return this.request(
      'GET',
      `/batches/${id}/log?${query.toString()}`,
      undefined,
      `batch ${id} log`,
    )
  }

  async kill(id: number): Promise<void> {
    await this.request('DELETE', `/batches/${id}`, undefined, `kill batch ${id}`)
  }

  private async request<T>(method: string, url: string, data: unknown, what: string): Promise<T> {
    let r: AxiosResponse
    try {
      r = await this.http.request({ method, url, data })
    } catch (error) {
      if (error instanceof SpnegoError)
        throw new LivyError('transient', `${what}: ${error.message}`)
      const code = isAxiosError(error) ? (error.code ?? error.message) : String(error)
      throw new LivyError('transient', `Livy unreachable (${what}): ${code}`)
    }
    if (r.status >= 200 && r.status < 300) return r.data as T
    if (r.status === 401 || r.status === 407) {
      const auth = this.options.auth?.type ?? 'none'
      throw new LivyError(
        'transient',
        `${what}: Livy refused the gateway's credentials (HTTP ${r.status}; ${auth} auth${auth === 'none' ? ': the endpoint wants credentials' : ''})`,
        r.status,
      )
    }
    const body = r.data as { msg?: unknown } | string | undefined
    const message =
      typeof body === 'string'
        ? body
        : typeof body?.msg === 'string'
          ? body.msg
          : JSON.stringify(body)
    if (r.status === 404) throw new LivyError('not_found', `${what}: ${message}`, 404)
    if (r.status >= 500 || r.status === 429 || r.status === 408) {
      throw new LivyError('transient', `${what}: Livy answered ${r.status}: ${message}`, r.status)
    }
    throw new LivyError('rejected', `${what}: ${message}`, r.status)
  }
}
