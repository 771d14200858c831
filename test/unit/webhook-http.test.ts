/**
 * One webhook delivery attempt (src/webhooks/webhook-http.ts) against real node:http
 * receivers on 127.0.0.1: outcomes per status, no redirects followed, one deadline for
 * the whole exchange, refused connections, the private-address guard, the request as
 * given, and a bounded read of whatever a receiver sends back.
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import {
  DEFAULT_USER_AGENT,
  KEPT_BYTES,
  createDeliverer,
  type Deliverer,
} from '../../src/webhooks/webhook-http.js'

interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

/** A receiver on 127.0.0.1:0 that records each request, then lets `handle` answer. */
async function receiver(
  t: Test,
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
) {
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      handle(req, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, port, received, server }
}

function deliverer(t: Test, options: Partial<Parameters<typeof createDeliverer>[0]> = {}) {
  const d: Deliverer = createDeliverer({ timeoutMs: 2000, allowPrivate: true, ...options })
  t.teardown(() => d.close())
  return d
}

const BODY = JSON.stringify({ specversion: '1.0', id: 'e1', type: 'sparkgate.job.succeeded' })
const HEADERS = {
  'Content-Type': 'application/cloudevents+json',
  'webhook-id': 'msg_1',
  'webhook-timestamp': '1700000000',
  'webhook-signature': 'v1,c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ==',
}

t.test('a 2xx is ok', async (t) => {
  const r = await receiver(t, (_req, res) => res.writeHead(204).end())
  const outcome = await deliverer(t).deliver(r.url, HEADERS, BODY)
  t.match(outcome, { ok: true, status: 204 })
  t.equal(outcome.error, undefined)
  t.equal(outcome.gone, undefined)
  t.type(outcome.durationMs, 'number')
  t.equal(r.received.length, 1)
})

t.test('the request arrives exactly as given', async (t) => {
  const r = await receiver(t, (_req, res) => res.end('thanks'))
  const body = JSON.stringify({ text: 'žluťoučký kůň', n: 1 })
  const outcome = await deliverer(t).deliver(`${r.url}?tenant=acme`, HEADERS, body)
  t.match(outcome, { ok: true, status: 200, response: 'thanks' })
  const [got] = r.received
  t.equal(got?.method, 'POST')
  t.equal(got?.url, '/hook?tenant=acme')
  t.equal(got?.body, body, 'the body byte for byte')
  t.equal(got?.headers['content-length'], String(Buffer.byteLength(body)))
  for (const [name, value] of Object.entries(HEADERS))
    t.equal(got?.headers[name.toLowerCase()], value, name)
  t.equal(got?.headers['user-agent'], DEFAULT_USER_AGENT)
  t.equal(got?.headers['accept-encoding'], 'identity')

  const own = await deliverer(t, { userAgent: 'Acme/2' }).deliver(r.url, HEADERS, body)
  t.ok(own.ok)
  t.equal(r.received[1]?.headers['user-agent'], 'Acme/2', 'the configured User-Agent')
  await deliverer(t).deliver(r.url, { ...HEADERS, 'user-agent': 'Caller/3' }, body)
  t.equal(r.received[2]?.headers['user-agent'], 'Caller/3', "the caller's header wins")
})

t.test('a 5xx is not ok, with its status', async (t) => {
  const r = await receiver(t, (_req, res) => res.writeHead(500).end('boom\u0000\r\n'))
  const outcome = await deliverer(t).deliver(r.url, HEADERS, BODY)
  t.match(outcome, { ok: false, status: 500, error: 'HTTP 500' })
  t.equal(outcome.gone, undefined)
  t.equal(outcome.response, 'boom\uFFFD\uFFFD\n', 'the text, controls replaced')
})

t.test('410 Gone says the receiver wants no more', async (t) => {
  const r = await receiver(t, (_req, res) => res.writeHead(410).end())
  const outcome = await deliverer(t).deliver(r.url, HEADERS, BODY)
  t.match(outcome, { ok: false, status: 410, gone: true, error: 'HTTP 410' })
})

t.test('a redirect is an answer, not followed', async (t) => {
  const target = await receiver(t, (_req, res) => res.end())
  const r = await receiver(t, (_req, res) => res.writeHead(302, { Location: target.url }).end())
  const outcome = await deliverer(t).deliver(r.url, HEADERS, BODY)
  t.match(outcome, { ok: false, status: 302, error: /^HTTP 302/ })
  t.equal(r.received.length, 1)
  t.equal(target.received.length, 0, 'the redirect target saw nothing')
})

t.test('a receiver that never answers times out', async (t) => {
  const r = await receiver(t, () => {}) // reads the request, never responds
  const started = Date.now()
  const outcome = await deliverer(t, { timeoutMs: 200 }).deliver(r.url, HEADERS, BODY)
  const took = Date.now() - started
  t.match(outcome, { ok: false, error: 'timeout after 200 ms' })
  t.equal(outcome.status, undefined)
  t.ok(took < 1000, `gave up after ${took} ms`)
  t.ok(outcome.durationMs >= 150, `durationMs ${outcome.durationMs}`)
})

t.test('a receiver that drips its body is cut at the deadline', async (t) => {
  let timer: NodeJS.Timeout | undefined
  t.teardown(() => clearInterval(timer))
  const r = await receiver(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    timer = setInterval(() => res.write('.'), 20) // never ends, never idle for long
  })
  const started = Date.now()
  const outcome = await deliverer(t, { timeoutMs: 300 }).deliver(r.url, HEADERS, BODY)
  const took = Date.now() - started
  t.ok(took < 1000, `returned after ${took} ms`)
  // the status line was in before the deadline: the receiver accepted the event
  t.match(outcome, { ok: true, status: 200 })
  t.match(outcome.response, /^\.+$/)
})

t.test('a refused connection', async (t) => {
  const closed = http.createServer()
  closed.listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const { port } = closed.address() as AddressInfo
  await new Promise((done) => closed.close(done))
  const outcome = await deliverer(t).deliver(`http://127.0.0.1:${port}/hook`, HEADERS, BODY)
  t.match(outcome, { ok: false, error: 'connection refused' })
  t.equal(outcome.status, undefined)
})

t.test('private addresses are refused before any connection', async (t) => {
  const r = await receiver(t, (_req, res) => res.end())
  const guarded = deliverer(t, { allowPrivate: false })

  const literal = await guarded.deliver(r.url, HEADERS, BODY)
  t.match(literal, { ok: false, error: 'private address 127.0.0.1 refused' })
  const v6 = await guarded.deliver(`http://[::ffff:127.0.0.1]:${r.port}/`, HEADERS, BODY)
  t.match(v6, { ok: false, error: 'private address ::ffff:7f00:1 refused' })
  const named = await guarded.deliver(`http://localhost:${r.port}/hook`, HEADERS, BODY)
  t.match(named, { ok: false, error: 'private host localhost refused' })
  t.equal(r.received.length, 0, 'the receiver saw nothing')

  // with allowPrivate the name goes through the guarded lookup and connects
  const allowed = await deliverer(t).deliver(`http://localhost:${r.port}/hook`, HEADERS, BODY)
  t.match(allowed, { ok: true, status: 200 })
  t.equal(r.received.length, 1)
})

t.test('a malformed URL is refused with the rule', async (t) => {
  const d = deliverer(t)
  t.match(await d.deliver('ftp://example.com/x', HEADERS, BODY), {
    ok: false,
    error: 'url must use http or https',
  })
  t.match(await d.deliver('https://u:p@example.com/', HEADERS, BODY), {
    ok: false,
    error: /^url must not carry credentials/,
  })
})

t.test('headers that would be altered on the way are refused, values unquoted', async (t) => {
  const r = await receiver(t, (_req, res) => res.end())
  const d = deliverer(t)
  const secret = 'v1,dG9wLXNlY3JldA=='
  const cases: [Record<string, string>, string][] = [
    [{ 'webhook-signature': `${secret}\r\nX-Injected: 1` }, 'webhook-signature'],
    [{ 'webhook-signature': `${secret}\u0000` }, 'webhook-signature'],
    [{ 'webhook-signature': ` ${secret}` }, 'webhook-signature'],
    [{ 'webhook-id': 'msg_€' }, 'webhook-id'],
    [{ 'bad name': secret }, '(a malformed name)'],
  ]
  for (const [extra, name] of cases) {
    const outcome = await d.deliver(r.url, { ...HEADERS, ...extra }, BODY)
    t.same(outcome.ok, false)
    t.equal(outcome.error, `invalid header ${name}`)
    t.notMatch(outcome.error ?? '', 'dG9w', 'no header value in the error')
  }
  t.equal(r.received.length, 0, 'nothing was sent')
  t.ok((await d.deliver(r.url, { ...HEADERS, 'x-empty': '', 'x-tab': 'a\tb' }, BODY)).ok)
  t.equal(r.received[0]?.headers['x-tab'], 'a\tb')
})

t.test('a receiver sending 10 MB is not buffered', async (t) => {
  const total = 10 * 1024 * 1024
  let finished = false
  let closedEarly = false
  const r = await receiver(t, (_req, res) => {
    res.writeHead(500, { 'Content-Length': String(total) })
    const chunk = Buffer.alloc(64 * 1024, 'x')
    let sent = 0
    const pump = () => {
      while (sent < total) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
      finished = true
    }
    res.on('close', () => (closedEarly = !res.writableFinished))
    pump()
  })
  const outcome = await deliverer(t).deliver(r.url, HEADERS, BODY)
  t.match(outcome, { ok: false, status: 500, error: 'HTTP 500' })
  t.equal(outcome.response?.length, KEPT_BYTES, 'only the first KiB is kept')
  await new Promise((done) => setTimeout(done, 50))
  t.ok(closedEarly || !finished, 'the deliverer hung up instead of reading 10 MB')
})

t.test('keep-alive sockets are reused and closed', async (t) => {
  const r = await receiver(t, (_req, res) => res.end('ok'))
  const sockets = new Set<unknown>()
  r.server.on('connection', (socket) => sockets.add(socket))
  const d = createDeliverer({ timeoutMs: 2000, allowPrivate: true })
  for (let i = 0; i < 3; i++) t.ok((await d.deliver(r.url, HEADERS, BODY)).ok)
  t.equal(sockets.size, 1, 'three deliveries, one connection')
  d.close()
})
