/**
 * Where a webhook may POST: a guard against server-side request forgery. A tenant names
 * the URL, the gateway sends the request from inside the platform's network, so without
 * this a webhook could reach Redis, the NameNode, Livy or a cloud metadata service.
 *
 * Two checks, because either alone has a gap:
 * - `checkWebhookUrl` when a URL is registered (and again before each delivery): the
 *   shape of the URL, IP literals in private ranges, and names that are private by
 *   convention (`localhost`, `*.internal`, single labels). Node connects to an IP literal
 *   without any lookup, so this is the only check such a URL meets.
 * - `guardedLookup` as the `lookup` of the delivering agents: every address a name
 *   resolves to is checked when the connection is made, and the socket connects to the
 *   address that was checked. A name that resolved to a public address at registration
 *   and to 127.0.0.1 later (DNS rebinding) is refused then.
 *
 * `allowPrivate` (an operator setting, for receivers on the local stack and in tests)
 * turns both off.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIPv4, isIPv6, type LookupFunction } from 'node:net'

/** Longest URL accepted, as most browsers and proxies keep it. */
export const MAX_URL_LENGTH = 2048

/** The code of the error `guardedLookup` fails with. */
export const PRIVATE_ADDRESS_CODE = 'SPARKGATE_WEBHOOK_PRIVATE_ADDRESS'

export type UrlCheck =
  | { ok: true; url: URL }
  | {
      ok: false
      /** which rule refused it: url, max-length, characters, scheme, credentials, fragment, host, port, private-address, private-host */
      rule: string
      /** a sentence that follows the field name ("must use http or https") */
      message: string
    }

// ---------------------------------------------------------------------------------------
// Addresses

/**
 * IPv4 ranges that are not public unicast (IANA special-purpose registry, RFC 6890 and
 * successors). 192.0.0.0/24 and 198.18.0.0/15 hold no public host either.
 */
const V4_RANGES: [string, number][] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where cloud metadata services live
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
]

/**
 * IPv6 ranges that are not public unicast. Everything outside 2000::/3 is refused: IANA
 * has allocated global unicast only from there (RFC 4291), so the three blocks that
 * complement it cover ::, ::1, IPv4-compatible, discard-only 100::/64, unique local
 * fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8 and what is
 * still unassigned. The mapped and translated forms that carry an IPv4 address
 * (::ffff:0:0/96, 64:ff9b::/96, 2002::/16) are unwrapped before this list is consulted.
 */
const V6_RANGES: [string, number][] = [
  ['::', 3], // 0000::/3: ::/128, ::1/128, ::/96, ::ffff:0:0/96 (unwrapped), 100::/64, 64:ff9b:1::/48
  ['4000::', 2], // 4000::/2: unassigned
  ['8000::', 1], // 8000::/1: unassigned, fc00::/7 ULA, fe80::/10, fec0::/10, ff00::/8
  ['2001::', 23], // IETF protocol assignments: Teredo 2001::/32, ORCHID, benchmarking
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
]

// Two lists: BlockList compares an IPv4 address with IPv6 rules as ::ffff:a.b.c.d, which
// ::/3 would catch, so one list would refuse every IPv4 address.
const blockedV4 = new BlockList()
for (const [net, prefix] of V4_RANGES) blockedV4.addSubnet(net, prefix, 'ipv4')
const blockedV6 = new BlockList()
for (const [net, prefix] of V6_RANGES) blockedV6.addSubnet(net, prefix, 'ipv6')

/** The 16 bytes of an IPv6 address (zone id already removed), or undefined. */
function ipv6Bytes(ip: string): Uint8Array | undefined {
  if (!isIPv6(ip)) return undefined
  let text = ip
  const words: number[] = []
  // a trailing dotted quad (::ffff:1.2.3.4) becomes two hex words
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  words.push(...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right)
  const bytes = new Uint8Array(16)
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8
    bytes[2 * i + 1] = w & 0xff
  })
  return bytes
}

const dotted = (b: Uint8Array, at: number) => Array.from(b.subarray(at, at + 4)).join('.')
const startsWith = (b: Uint8Array, prefix: number[]) => prefix.every((v, i) => b[i] === v)

/**
 * The IPv4 address an IPv6 address stands for, when the network would deliver it to
 * that IPv4 host: IPv4-mapped (::ffff:a.b.c.d, what a dual-stack socket reports),
 * NAT64 (64:ff9b::a.b.c.d, RFC 6052) and 6to4 (2002:aabb:ccdd::/48, RFC 3056).
 */
function embeddedIPv4(b: Uint8Array): string | undefined {
  if (startsWith(b, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return dotted(b, 12)
  if (startsWith(b, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return dotted(b, 12)
  if (startsWith(b, [0x20, 0x02])) return dotted(b, 2)
  return undefined
}

/**
 * Whether an address is anything but public unicast: private, loopback, link-local,
 * unspecified, multicast, CGNAT, documentation, reserved — in IPv4, in IPv6, and in the
 * IPv6 forms that carry an IPv4 address. Accepts `[…]` brackets and a `%zone`. A string
 * that is no IP address counts as private: a guard fails closed.
 */
export function isPrivateAddress(ip: string): boolean {
  let address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
  // a zone id only ever scopes a link-local address; BlockList does not read it
  address = address.replace(/%.*$/s, '')
  if (isIPv4(address)) return blockedV4.check(address, 'ipv4')
  const bytes = ipv6Bytes(address)
  if (!bytes) return true
  const v4 = embeddedIPv4(bytes)
  if (v4 !== undefined) return blockedV4.check(v4, 'ipv4')
  return blockedV6.check(address, 'ipv6')
}

// ---------------------------------------------------------------------------------------
// URLs

/** Names that only ever mean this host or the local network (RFC 6761, 6762, 8375). */
const PRIVATE_NAMES = ['localhost', 'localhost.localdomain']
const PRIVATE_SUFFIXES = [
  '.localhost',
  '.local',
  '.localdomain',
  '.internal', // cloud metadata and VPC names: metadata.google.internal, *.ec2.internal
  '.home.arpa',
  '.lan',
  '.intranet',
  '.corp',
  '.home',
  '.private',
]

/** Whitespace and C0/C1 controls, which the URL parser would quietly drop or trim. */
function hasUnsafeCharacter(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f) || /\s/u.test(ch)) return true
  }
  return false
}

const refuse = (rule: string, message: string): UrlCheck => ({ ok: false, rule, message })

/**
 * Whether a webhook may POST to `url`: http or https, no credentials, no fragment, a
 * host, at most MAX_URL_LENGTH characters; unless `allowPrivate`, no IP literal in a
 * private range (`isPrivateAddress`) and no private name (`localhost`, `*.local`,
 * `*.internal`, a single label that only an internal resolver answers, …). Checked as
 * written and as parsed: WHATWG URL turns `http://0x7f.1/` into 127.0.0.1 and
 * `[::ffff:127.0.0.1]` into `[::ffff:7f00:1]`, and both forms are refused.
 *
 * The returned `url` is what to store and call (`url.href`), not the input.
 */
export function checkWebhookUrl(input: string, options: { allowPrivate: boolean }): UrlCheck {
  if (input.length > MAX_URL_LENGTH)
    return refuse('max-length', `must be at most ${MAX_URL_LENGTH} characters`)
  if (hasUnsafeCharacter(input))
    return refuse('characters', 'must not contain whitespace or control characters')
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return refuse('url', 'must be an absolute URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return refuse('scheme', 'must use http or https')
  if (url.username !== '' || url.password !== '')
    return refuse('credentials', 'must not carry credentials (user:password@)')
  // `#` can appear nowhere else in a parsed URL; url.hash is '' for a bare trailing '#'
  if (input.includes('#')) return refuse('fragment', 'must not have a fragment (#…)')
  if (url.hostname === '') return refuse('host', 'must name a host')
  if (url.port === '0') return refuse('port', 'must not use port 0')
  if (options.allowPrivate) return { ok: true, url }

  const host = url.hostname
  if (host.startsWith('[') || isIPv4(host)) {
    if (isPrivateAddress(host))
      return refuse('private-address', `names the private address ${host}`)
    return { ok: true, url }
  }
  const name = host.replace(/\.$/, '')
  if (
    PRIVATE_NAMES.includes(name) ||
    PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix)) ||
    !name.includes('.')
  )
    return refuse('private-host', `names the private host ${host}`)
  return { ok: true, url }
}

// ---------------------------------------------------------------------------------------
// Connections

/** The error a guarded lookup fails with: the name resolved to a private address. */
export class PrivateAddressError extends Error {
  readonly code = PRIVATE_ADDRESS_CODE
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`private address ${address} refused (${hostname} resolves to it)`)
    this.name = 'PrivateAddressError'
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | LookupAddress[],
  family?: number,
) => void

/**
 * A `dns.lookup` for the `lookup` option of http.Agent / https.Agent: resolves with the
 * system resolver and, unless `allowPrivate`, fails with a PrivateAddressError (code
 * SPARKGATE_WEBHOOK_PRIVATE_ADDRESS) when any address of the name is private. All
 * addresses are checked, not just the first, because with `all: true` (Node's
 * happy-eyeballs connect) the socket may try each of them. Called as dns.lookup is:
 * `(hostname, options | family, callback)` or `(hostname, callback)`.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  function lookup(
    hostname: string,
    optionsOrCallback: LookupOptions | number | LookupCallback,
    maybeCallback?: LookupCallback,
  ): void {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as LookupCallback
    const options: LookupOptions =
      typeof optionsOrCallback === 'number'
        ? { family: optionsOrCallback }
        : typeof optionsOrCallback === 'object' && optionsOrCallback !== null
          ? optionsOrCallback
          : {}
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err)
      if (!allowPrivate) {
        const bad = addresses.find((a) => isPrivateAddress(a.address))
        if (bad) return callback(new PrivateAddressError(hostname, bad.address))
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]
      if (!first)
        return callback(
          Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
        )
      callback(null, first.address, first.family)
    })
  }
  // LookupFunction types the callback's address as always present; on an error it is not
  return lookup as LookupFunction
}
