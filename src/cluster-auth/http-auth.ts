/**
 * Puts a cluster's credentials on an axios instance: HTTP Basic or a SPNEGO token on each
 * request to the endpoint's own origin (a WebHDFS redirect to a DataNode carries the
 * NameNode's delegation token instead; behind a gateway it is the gateway's origin again),
 * and the cluster's private CA for TLS. A 401 to a Negotiate request negotiates once more.
 */
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { rootCertificates } from 'node:tls'
import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios'
import type { ResolvedAuth } from './credentials.js'
import { checkReadableFile } from './credentials.js'
import { negotiate } from './spnego.js'

export interface HttpAuthOptions {
  /** the endpoint (its origin gets the credentials) */
  url: string
  auth: ResolvedAuth
  /** PEM file of the CA that signs the endpoint's certificate (trusted besides Node's public CAs) */
  caFile?: string
  /** where the CA file was set, for the boot error when it is unreadable */
  caSetting?: string
}

const RETRIED = Symbol('sparkgate.negotiatedAgain')

function originOf(url: string) {
  return new URL(url).origin
}

/** An https agent trusting `caFile` as well as the public CAs; undefined without a file. */
export function httpsAgent(caFile: string | undefined, setting = 'caFile'): Agent | undefined {
  if (!caFile) return undefined
  checkReadableFile(caFile, setting)
  // `ca` replaces Node's list: the public CAs are given back beside the file's
  return new Agent({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')], keepAlive: true })
}

/** Installs `options` on `http`. */
export function authenticate(http: AxiosInstance, options: HttpAuthOptions): void {
  const agent = httpsAgent(options.caFile, options.caSetting)
  if (agent) http.defaults.httpsAgent = agent
  const { auth } = options
  if (auth.type === 'none') return
  const origin = originOf(options.url)
  const ours = (config: InternalAxiosRequestConfig) => {
    const url = config.url ?? ''
    const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `${config.baseURL ?? options.url}`
    return originOf(full) === origin
  }

  http.interceptors.request.use(async (config) => {
    if (!ours(config)) return config
    if (auth.type === 'basic') {
      const pair = Buffer.from(`${auth.user}:${auth.password.reveal()}`).toString('base64')
      config.headers.set('Authorization', `Basic ${pair}`)
    } else {
      config.headers.set('Authorization', await negotiate(new URL(origin).hostname, auth.principal))
    }
    return config
  })

  if (auth.type === 'kerberos') {
    http.interceptors.response.use(async (response) => {
      const config = response.config as InternalAxiosRequestConfig & { [RETRIED]?: boolean }
      const challenged = /negotiate/i.test(String(response.headers['www-authenticate'] ?? ''))
      const body = config.data as unknown
      const replayable = body === undefined || typeof body === 'string' || Buffer.isBuffer(body)
      if (response.status !== 401 || !challenged || config[RETRIED] || !replayable) return response
      config[RETRIED] = true
      return http.request(config)
    })
  }
}
