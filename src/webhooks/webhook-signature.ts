/**
 * Webhook signatures as the Standard Webhooks spec draws them
 * (https://www.standardwebhooks.com/), so a receiver can check ours with any of its
 * libraries and without ours.
 *
 * A secret is `whsec_` + base64 of the key bytes. A message carries three headers:
 * `webhook-id` (unique per message, the same on every retry of it), `webhook-timestamp`
 * (unix seconds of this attempt) and `webhook-signature`: space-separated `v1,<base64
 * HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, one per secret in force, so a receiver
 * may move to a new secret while the old one is still being sent (rotation).
 *
 * Written on node:crypto rather than the `standardwebhooks` package: it is small, the
 * package pulls two more dependencies, and the tests prove both agree in each direction.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const PREFIX = 'whsec_'
/** Standard base64 (the alphabet of the spec and of the reference libraries). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const TIMESTAMP = /^[0-9]{1,15}$/

/** The three headers a signed message carries (names as the spec spells them). */
export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

export interface VerifyOptions {
  /** how far (seconds) the timestamp may be from now, either way; default 300 */
  toleranceSeconds?: number
  /** now, in unix seconds; default the clock */
  now?: number
}

/** A fresh secret: `whsec_` + base64 of 32 random bytes (inside the spec's 24–64). */
export function newSecret(): string {
  return PREFIX + randomBytes(32).toString('base64')
}

/**
 * The key bytes of a secret. Strict where Buffer.from is lenient: Node would quietly skip
 * characters outside the alphabet, so a mistyped secret would sign with a different key
 * than the receiver's library (which throws) and every delivery would fail unexplained.
 */
function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret
  if (encoded === '' || !BASE64.test(encoded))
    throw new TypeError('a webhook secret is whsec_ followed by non-empty standard base64')
  return Buffer.from(encoded, 'base64')
}

function digest(key: Buffer, msgId: string, timestamp: number, body: string | Uint8Array) {
  return createHmac('sha256', key).update(`${msgId}.${timestamp}.`).update(body).digest('base64')
}

/**
 * One signature, `v1,<base64>`, of a message for one secret.
 * @param timestamp unix seconds (an integer), as sent in `webhook-timestamp`
 */
export function sign(
  secret: string,
  msgId: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  // past 1e11 (the year 5138) it is milliseconds by mistake: every receiver would refuse it
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp >= 1e11)
    throw new TypeError(`a webhook timestamp is whole unix seconds, not ${timestamp}`)
  return `v1,${digest(keyOf(secret), msgId, timestamp, body)}`
}

/**
 * The `webhook-signature` value: one signature per secret, space-separated. During a
 * rotation pass both the new and the old secret; a receiver accepts either.
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  if (secrets.length === 0) throw new TypeError('a webhook is signed with at least one secret')
  return secrets.map((secret) => sign(secret, msgId, timestamp, body)).join(' ')
}

/** A header by name, case-insensitively; a repeated header (an array) counts as absent. */
function header(headers: Readonly<Record<string, unknown>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : undefined
  return undefined
}

/**
 * Whether a message is signed with `secret`: the timestamp is within the tolerance of
 * now and one of the space-separated `v1` signatures matches (compared in constant
 * time). Takes the three headers, or a whole header object such as Node's
 * `IncomingMessage.headers` (names matched case-insensitively). Never throws on what a
 * sender controls: a missing or malformed header is just `false`.
 *
 * @param body the raw body as received, before any JSON parsing
 */
export function verify(
  secret: string,
  headers: WebhookHeaders | Readonly<Record<string, string | string[] | undefined>>,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): boolean {
  const { toleranceSeconds = 300, now = Math.floor(Date.now() / 1000) } = options
  const all = headers as Readonly<Record<string, unknown>>
  const msgId = header(all, 'webhook-id')
  const stamp = header(all, 'webhook-timestamp')
  const signatures = header(all, 'webhook-signature')
  if (!msgId || !stamp || !signatures || !TIMESTAMP.test(stamp)) return false
  const timestamp = Number(stamp)
  // the timestamp is signed too, so a bounded window stops replays of old messages
  if (Math.abs(now - timestamp) > toleranceSeconds) return false

  const expected = Buffer.from(digest(keyOf(secret), msgId, timestamp, body))
  let match = false
  for (const versioned of signatures.split(' ')) {
    const comma = versioned.indexOf(',')
    if (comma < 0 || versioned.slice(0, comma) !== 'v1') continue // other schemes (v1a) skipped
    const given = Buffer.from(versioned.slice(comma + 1))
    // a length differs only for a malformed value, which reveals nothing about the key
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true
  }
  return match
}
