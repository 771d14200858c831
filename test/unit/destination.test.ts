/**
 * Where a webhook may POST (src/webhooks/destination.ts): URL shapes, private IP ranges in
 * every spelling the URL parser and the resolver produce, private names, and the lookup
 * that refuses a private address at connect time (DNS rebinding).
 */
import type { LookupOptions } from 'node:dns'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  MAX_URL_LENGTH,
  PRIVATE_ADDRESS_CODE,
  PrivateAddressError,
  checkWebhookUrl,
  guardedLookup,
  isPrivateAddress,
} from '../../src/webhooks/destination.js'

t.test('private and public addresses', async (t) => {
  const private_: [string, string][] = [
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'RFC 1918'],
    ['10.255.255.255', 'RFC 1918, last'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT, last'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback, anywhere in /8'],
    ['169.254.169.254', 'link-local: cloud metadata'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918, last'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.1.1', 'RFC 1918'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking, last'],
    ['198.51.100.7', 'TEST-NET-2'],
    ['203.0.113.9', 'TEST-NET-3'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast (SSDP)'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'v6 unspecified'],
    ['::1', 'v6 loopback'],
    ['[::1]', 'bracketed'],
    ['::ffff:127.0.0.1', 'v4-mapped loopback, dotted'],
    ['::ffff:7f00:1', 'v4-mapped loopback, hex (as WHATWG URL writes it)'],
    ['::ffff:a9fe:a9fe', 'v4-mapped metadata address'],
    ['0:0:0:0:0:ffff:10.1.2.3', 'v4-mapped, written out'],
    ['::127.0.0.1', 'v4-compatible (deprecated)'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::10.0.0.1', 'NAT64 of RFC 1918'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation (RFC 9637)'],
    ['2001::1', 'Teredo'],
    ['2001:2::1', 'benchmarking'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:c0a8:101::', '6to4 of 192.168.1.1'],
    ['fc00::1', 'ULA'],
    ['fd12:3456:789a::1', 'ULA'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['fec0::1', 'site-local (deprecated)'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'unassigned'],
    ['not an address', 'not an IP fails closed'],
    ['', 'empty fails closed'],
    ['127.1', 'a short form is no address here (URL parsing canonicalises first)'],
  ]
  for (const [ip, why] of private_) t.equal(isPrivateAddress(ip), true, `${ip}: ${why}`)

  const public_: [string, string][] = [
    ['8.8.8.8', 'public v4'],
    ['1.1.1.1', 'public v4'],
    ['9.255.255.255', 'just below 10/8'],
    ['11.0.0.0', 'just above 10/8'],
    ['100.63.255.255', 'just below CGNAT'],
    ['100.128.0.0', 'just above CGNAT'],
    ['172.15.255.255', 'just below 172.16/12'],
    ['172.32.0.0', 'just above 172.16/12'],
    ['192.0.1.1', 'between 192.0.0/24 and 192.0.2/24'],
    ['198.17.255.255', 'below benchmarking'],
    ['198.20.0.0', 'above benchmarking'],
    ['223.255.255.255', 'below multicast'],
    ['2606:4700:4700::1111', 'public v6'],
    ['2a00:1450:4001:80b::200e', 'public v6'],
    ['[2001:4860:4860::8888]', 'public v6, bracketed'],
    ['::ffff:8.8.8.8', 'v4-mapped public'],
    ['::ffff:808:808', 'v4-mapped public, hex'],
    ['64:ff9b::8.8.8.8', 'NAT64 of a public address'],
    ['2002:808:808::1', '6to4 of a public address'],
  ]
  for (const [ip, why] of public_) t.equal(isPrivateAddress(ip), false, `${ip}: ${why}`)
})

t.test('webhook URLs', async (t) => {
  const allowed: [string, string][] = [
    ['https://hooks.example.com/sparkgate', 'https'],
    ['http://hooks.example.com:8080/in?tenant=acme', 'http with a port and a query'],
    ['https://8.8.8.8/hook', 'a public IPv4 literal'],
    ['https://[2606:4700:4700::1111]/hook', 'a public IPv6 literal'],
    ['https://EXAMPLE.com./x', 'a trailing dot and uppercase'],
    ['https://bücher.example/hook', 'an IDN (punycoded by the parser)'],
  ]
  for (const [url, why] of allowed) {
    const result = checkWebhookUrl(url, { allowPrivate: false })
    t.equal(result.ok, true, `${url}: ${why}`)
  }
  const ok = checkWebhookUrl('HTTPS://Hooks.Example.com/a/../b', { allowPrivate: false })
  t.equal(ok.ok && ok.url.href, 'https://hooks.example.com/b', 'the parsed URL is returned')

  const refused: [string, string, string][] = [
    ['ftp://example.com/x', 'scheme', 'ftp'],
    ['file:///etc/passwd', 'scheme', 'file'],
    ['javascript:alert(1)', 'scheme', 'javascript'],
    ['gopher://example.com/', 'scheme', 'gopher'],
    ['//example.com/hook', 'url', 'scheme-relative'],
    ['/hook', 'url', 'relative'],
    ['not a url', 'characters', 'a space'],
    ['https://user:pass@example.com/', 'credentials', 'user and password'],
    ['https://token@example.com/', 'credentials', 'a user only'],
    ['https://:pw@example.com/', 'credentials', 'a password only'],
    ['https://example.com/hook#frag', 'fragment', 'a fragment'],
    ['https://example.com/hook#', 'fragment', 'an empty fragment'],
    ['https://example.com/a\nb', 'characters', 'a newline the parser would drop'],
    ['https://exa\tmple.com/', 'characters', 'a tab the parser would drop'],
    [' https://example.com/', 'characters', 'leading space the parser would trim'],
    ['https://example.com:0/', 'port', 'port 0'],
    [`https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`, 'max-length', 'too long'],
    ['http://127.0.0.1:6379/', 'private-address', 'Redis on loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'private-address', 'cloud metadata'],
    ['http://0x7f.1/', 'private-address', 'hex loopback (parsed to 127.0.0.1)'],
    ['http://2130706433/', 'private-address', 'decimal loopback'],
    ['http://0177.0.0.1/', 'private-address', 'octal loopback'],
    ['http://127.1/', 'private-address', 'short loopback'],
    ['http://0/', 'private-address', '0 (parsed to 0.0.0.0)'],
    ['http://10.0.0.5:9870/webhdfs/v1/', 'private-address', 'the NameNode'],
    ['http://[::1]:8998/', 'private-address', 'Livy on v6 loopback'],
    ['http://[::ffff:127.0.0.1]/', 'private-address', 'v4-mapped loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'private-address', 'v4-mapped metadata'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'private-address', 'NAT64 metadata'],
    ['http://[2002:a9fe:a9fe::]/', 'private-address', '6to4 metadata'],
    ['http://[fd00::1]/', 'private-address', 'ULA'],
    ['http://[fe80::1]/', 'private-address', 'link-local'],
    ['http://localhost:8080/', 'private-host', 'localhost'],
    ['http://LOCALHOST./', 'private-host', 'localhost, uppercase with a dot'],
    ['http://api.localhost/', 'private-host', '*.localhost'],
    ['http://printer.local/', 'private-host', 'mDNS'],
    ['http://metadata.google.internal/', 'private-host', 'GCP metadata'],
    ['http://ip-10-0-0-1.ec2.internal/', 'private-host', 'AWS internal name'],
    ['http://nas.home.arpa/', 'private-host', 'home.arpa'],
    ['http://redis/', 'private-host', 'a single label (a compose service name)'],
    ['http://redis./', 'private-host', 'a single label with a dot'],
  ]
  for (const [url, rule, why] of refused) {
    const result = checkWebhookUrl(url, { allowPrivate: false })
    t.same(result.ok ? 'allowed' : result.rule, rule, `${JSON.stringify(url)}: ${why}`)
    if (!result.ok) t.type(result.message, 'string')
  }

  // allowPrivate lifts the address and name rules, not the shape rules
  for (const [url, rule] of refused) {
    const result = checkWebhookUrl(url, { allowPrivate: true })
    const expected = rule.startsWith('private-') ? 'allowed' : rule
    t.equal(result.ok ? 'allowed' : result.rule, expected, `allowPrivate: ${JSON.stringify(url)}`)
  }
})

t.test('the guarded lookup', async (t) => {
  type Result = { err: NodeJS.ErrnoException | null; address: unknown; family?: number }
  const resolve = (allowPrivate: boolean, options: LookupOptions) =>
    new Promise<Result>((done) =>
      guardedLookup(allowPrivate)('localhost', options, (err, address, family) =>
        done({ err, address, family }),
      ),
    )

  for (const options of [{}, { all: true }, { all: false, family: 4 }]) {
    const refused = await resolve(false, options)
    t.ok(refused.err instanceof PrivateAddressError, `refused: ${JSON.stringify(options)}`)
    t.equal(refused.err?.code, PRIVATE_ADDRESS_CODE)
    t.match(refused.err?.message, /^private address (127\.0\.0\.1|::1) refused/, 'names it')
  }

  const one = await resolve(true, {})
  t.error(one.err)
  t.ok(one.address === '127.0.0.1' || one.address === '::1', `one address: ${String(one.address)}`)
  t.ok(one.family === 4 || one.family === 6)
  const all = await resolve(true, { all: true })
  t.error(all.err)
  t.ok(Array.isArray(all.address) && all.address.length > 0, 'a list with all: true')
  const v4 = await resolve(true, { family: 4 })
  t.same([v4.address, v4.family], ['127.0.0.1', 4], 'family passes through')

  // dns.lookup's other call forms
  await new Promise<void>((done) => {
    const lookup = guardedLookup(true) as unknown as (
      host: string,
      cb: (err: Error | null, address: string, family: number) => void,
    ) => void
    lookup('localhost', (err, address) => {
      t.error(err)
      t.type(address, 'string', '(hostname, callback)')
      done()
    })
  })

  const missing = await new Promise<Result>((done) =>
    guardedLookup(false)('no-such-host.invalid', {}, (err, address) => done({ err, address })),
  )
  t.ok(missing.err, 'a name that does not resolve fails as dns.lookup does')
  t.not(missing.err?.code, PRIVATE_ADDRESS_CODE)
})

t.test('an agent with the guarded lookup never connects to a private address', async (t) => {
  let hits = 0
  const server = http.createServer((_req, res) => {
    hits++
    res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo

  const get = (allowPrivate: boolean) => {
    const agent = new http.Agent({ lookup: guardedLookup(allowPrivate) })
    return new Promise<number | Error>((done) => {
      http
        .get({ host: 'localhost', port, family: 4, agent }, (res) => {
          res.resume()
          done(res.statusCode ?? 0)
        })
        .on('error', done)
    }).finally(() => agent.destroy())
  }

  const refused = await get(false)
  t.ok(refused instanceof PrivateAddressError, 'refused at lookup')
  t.equal(hits, 0, 'no connection was made')
  t.equal(await get(true), 200, 'allowPrivate connects')
  t.equal(hits, 1)
})
