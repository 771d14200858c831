/**
 * One webhook delivery attempt: a POST of a body the caller built and signed, and a
 * short outcome for the delivery log and the retry decision. No retries here; the
 * caller schedules them.
 *
 * A webhook URL is a tenant's, so the receiver is untrusted. The request goes only where
 * destination.ts allows (the URL checked before each attempt; every connection through
 * agents whose lookup refuses private addresses; never through an environment proxy,
 * which would resolve the name itself); a redirect is an answer, not followed; one
 * deadline covers connect, request, response head and the body read, so a receiver
 * that drips bytes cannot hold a worker; the body is read to at most KEPT_BYTES of text
 * and DRAINED_BYTES in all, then the connection is dropped.
 *
 * Errors are short and free of header values (they carry signatures) and of the
 * receiver's words: `HTTP 503`, `timeout after 15000 ms`, `connection refused`,
 * `private address 127.0.0.1 refused`. The first KEPT_BYTES of the response body are
 * returned apart, as `response`, for whoever chooses to show them.
 */
import axios from 'axios'
import http from 'node:http'
import https from 'node:https'
import type { Readable } from 'node:stream'
import { PrivateAddressError, checkWebhookUrl, guardedLookup } from './destination.js'

/** Response bytes kept as text for the outcome. */
export const KEPT_BYTES = 1024
/**
 * Response bytes read at most. Reading a small body to its end lets the keep-alive
 * socket serve the next delivery; past this the socket is destroyed instead.
 */
export const DRAINED_BYTES = 64 * 1024

export interface DelivererOptions {
  /** the deadline of one attempt, connect to last byte read (ms) */
  timeoutMs: number
  /** deliver to private addresses and names too (local stack, tests); never in production */
  allowPrivate: boolean
  /** the User-Agent header, unless the caller's headers name one */
  userAgent?: string
}

/** What one attempt came to. */
export interface DeliveryOutcome {
  /** the receiver answered 2xx */
  ok: boolean
  /** the HTTP status, when the receiver answered at all */
  status?: number
  /** why it is not ok, in a few words */
  error?: string
  /** from the start of the attempt to its outcome */
  durationMs: number
  /** the receiver answered 410 Gone: it wants no more deliveries to this URL */
  gone?: boolean
  /** the first KEPT_BYTES of the response body, as UTF-8 text with controls replaced */
  response?: string
}

export interface Deliverer {
  /** POSTs `body` with `headers` exactly as given; never rejects. */
  deliver(url: string, headers: Record<string, string>, body: string): Promise<DeliveryOutcome>
  /** Closes the kept-alive sockets. */
  close(): void
}

export const DEFAULT_USER_AGENT = 'Sparkgate-Webhooks/1'

/**
 * A deliverer with its own keep-alive agents (so webhook sockets never share a pool with
 * the gateway's calls to Livy or WebHDFS, and the guarded lookup applies to all of them).
 */
export function createDeliverer(options: DelivererOptions): Deliverer {
  const { timeoutMs, allowPrivate, userAgent = DEFAULT_USER_AGENT } = options
  const agentOptions = { keepAlive: true, lookup: guardedLookup(allowPrivate) }
  const httpAgent = new http.Agent(agentOptions)
  const httpsAgent = new https.Agent(agentOptions)

  async function deliver(
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<DeliveryOutcome> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)

    // again at each attempt: the rules may have tightened since the URL was registered,
    // and an IP literal meets no lookup at all
    const checked = checkWebhookUrl(url, { allowPrivate })
    if (!checked.ok) return { ok: false, error: refusal(url, checked), durationMs: elapsed() }

    // axios would quietly strip what is invalid (a signature altered, never an error)
    const invalid = Object.entries(headers).find(([name, value]) => !validHeader(name, value))
    if (invalid)
      return { ok: false, error: `invalid header ${headerName(invalid[0])}`, durationMs: elapsed() }

    const deadline = AbortSignal.timeout(timeoutMs)
    try {
      const response = await axios.request<Readable>({
        method: 'POST',
        url: checked.url.href,
        data: Buffer.from(body, 'utf8'),
        headers: withDefaults(headers, {
          'User-Agent': userAgent,
          Accept: '*/*',
          // decompress is off, so ask for no encoding: the kept text stays readable
          'Accept-Encoding': 'identity',
        }),
        httpAgent,
        httpsAgent,
        proxy: false,
        maxRedirects: 0,
        validateStatus: () => true,
        // axios' timeout covers connect and an idle socket; the signal is the deadline
        timeout: timeoutMs,
        signal: deadline,
        responseType: 'stream',
        decompress: false,
      })
      // the status line decides; the body is read only for the log, within the deadline
      const text = await readCapped(response.data, deadline)
      const status = response.status
      const ok = status >= 200 && status < 300
      const outcome: DeliveryOutcome = { ok, status, durationMs: elapsed() }
      if (!ok)
        outcome.error =
          status >= 300 && status < 400
            ? `HTTP ${status} (redirects are not followed)`
            : `HTTP ${status}`
      if (status === 410) outcome.gone = true
      if (text !== '') outcome.response = text
      return outcome
    } catch (error) {
      return {
        ok: false,
        error: failure(error, deadline.aborted, timeoutMs, checked.url.hostname),
        durationMs: elapsed(),
      }
    }
  }

  return {
    deliver,
    close() {
      httpAgent.destroy()
      httpsAgent.destroy()
    },
  }
}

/** The caller's headers, plus each default whose name (any case) the caller did not set. */
function withDefaults(headers: Record<string, string>, defaults: Record<string, string>) {
  const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()))
  const merged: Record<string, string> = { ...headers }
  for (const [name, value] of Object.entries(defaults))
    if (!given.has(name.toLowerCase())) merged[name] = value
  return merged
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Visible Latin-1 and inner spaces or tabs (RFC 9110 field-value), no CR, LF or NUL. */
const FIELD_VALUE = /^(?:[!-~\u0080-\u00ff](?:[\t -~\u0080-\u00ff]*[!-~\u0080-\u00ff])?)?$/

function validHeader(name: string, value: unknown): boolean {
  return TOKEN.test(name) && typeof value === 'string' && FIELD_VALUE.test(value)
}

/** A header name for an error: the caller's, or a placeholder when it is no token. */
function headerName(name: string): string {
  return TOKEN.test(name) && name.length <= 64 ? name : '(a malformed name)'
}

/** `private address 127.0.0.1 refused`, `private host localhost refused`, `url must …`. */
function refusal(url: string, checked: { rule: string; message: string }): string {
  if (checked.rule === 'private-address' || checked.rule === 'private-host') {
    // these rules are met only by URLs that parsed
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
    return `${checked.rule === 'private-address' ? 'private address' : 'private host'} ${host} refused`
  }
  return `url ${checked.message}`
}

/**
 * Reads a response body: the first KEPT_BYTES kept, up to DRAINED_BYTES discarded, then
 * the stream destroyed. Ends early, without error, when the deadline passes.
 */
async function readCapped(stream: Readable, deadline: AbortSignal): Promise<string> {
  const kept: Buffer[] = []
  let keptBytes = 0
  let seen = 0
  const cut = () => stream.destroy()
  if (deadline.aborted) cut()
  deadline.addEventListener('abort', cut, { once: true })
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (keptBytes < KEPT_BYTES) {
        const part = chunk.subarray(0, KEPT_BYTES - keptBytes)
        kept.push(part)
        keptBytes += part.length
      }
      seen += chunk.length
      if (seen > DRAINED_BYTES) break // leaving the loop destroys the stream and its socket
    }
  } catch {
    // cut by the deadline or by the receiver: the status is known, the text is a courtesy
  } finally {
    deadline.removeEventListener('abort', cut)
    if (!stream.destroyed && seen > DRAINED_BYTES) stream.destroy()
  }
  // controls out, so the text is safe to put in a log line or a JSON field as it is
  return Buffer.concat(kept)
    .toString('utf8')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD')
}

/** Codes of an error, its cause chain and (happy-eyeballs AggregateError) its parts. */
function codesOf(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return []
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown }
  const own = typeof e.code === 'string' ? [e.code] : []
  const parts = Array.isArray(e.errors) ? e.errors.flatMap((x) => codesOf(x, depth + 1)) : []
  return [...own, ...codesOf(e.cause, depth + 1), ...parts]
}

function privateRefusal(error: unknown, depth = 0): PrivateAddressError | undefined {
  if (error instanceof PrivateAddressError) return error
  if (typeof error !== 'object' || error === null || depth > 4) return undefined
  return privateRefusal((error as { cause?: unknown }).cause, depth + 1)
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$)/

/**
 * A few words for a failed attempt, from error codes only: an axios error's message and
 * config may hold header values and the receiver's text, neither belongs in the log.
 */
function failure(error: unknown, timedOut: boolean, timeoutMs: number, host: string): string {
  const refused = privateRefusal(error)
  if (refused) return `private address ${refused.address} refused`
  const codes = codesOf(error)
  const has = (code: string) => codes.includes(code)
  if (timedOut || has('ECONNABORTED') || has('ETIMEDOUT')) return `timeout after ${timeoutMs} ms`
  if (has('ECONNREFUSED')) return 'connection refused'
  if (has('ENOTFOUND')) return `host ${host} not found`
  if (has('EAI_AGAIN')) return `DNS lookup of ${host} failed (temporary)`
  if (has('EHOSTUNREACH')) return 'host unreachable'
  if (has('ENETUNREACH')) return 'network unreachable'
  if (has('ECONNRESET') || has('EPIPE')) return 'connection reset'
  const tls = codes.find((code) => TLS_CODE.test(code))
  if (tls) return `TLS error ${tls}`
  const parse = codes.find((code) => code.startsWith('HPE_'))
  if (parse) return `invalid HTTP response (${parse})`
  const code = codes.find((c) => !c.startsWith('ERR_BAD_')) ?? codes[0]
  return `request failed (${code ?? (error as Error)?.name ?? 'unknown error'})`
}
