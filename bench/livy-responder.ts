/**
 * A Livy-shaped HTTP responder, for benchmarks only: it answers Apache Livy's batch
 * routes (POST /batches, GET /batches?from&size, GET /batches/{id}, GET
 * /batches/{id}/state, GET /batches/{id}/log, DELETE /batches/{id}) with the JSON shapes
 * of Livy 0.7, and runs nothing. One machine cannot host thousands of real Spark
 * applications; the tracker benchmark needs thousands of live batches. Tests use the
 * real Livy.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Batch {
  id: number
  name: string | null
  state: string
}

export class LivyResponder {
  readonly batches = new Map<number, Batch>()
  private readonly names = new Set<string>()
  private nextId = 0
  private server?: Server
  /** requests answered, by route */
  readonly requests = { submit: 0, list: 0, get: 0, state: 0, log: 0, kill: 0 }

  /** Adds `n` batches in `state` without a request (the tracker benchmark's fixture). */
  seed(n: number, state = 'running', namePrefix = 'seeded'): Batch[] {
    const added: Batch[] = []
    for (let i = 0; i < n; i++) added.push(this.add(`${namePrefix}-${i}`, state))
    return added
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res))
    this.server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop() {
    this.server?.closeAllConnections()
    await new Promise((resolve) => this.server?.close(resolve))
  }

  resetCounts() {
    for (const k of Object.keys(this.requests)) this.requests[k as keyof typeof this.requests] = 0
  }

  private add(name: string | null, state: string): Batch {
    const batch = { id: this.nextId++, name, state }
    this.batches.set(batch.id, batch)
    if (name) this.names.add(name)
    return batch
  }

  private view(b: Batch) {
    return {
      id: b.id,
      name: b.name,
      owner: null,
      proxyUser: null,
      state: b.state,
      appId: null,
      appInfo: { driverLogUrl: null, sparkUiUrl: null },
      log: [],
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      })
      res.end(text)
    }
    if (url.pathname === '/_stats') return send(200, { requests: this.requests })
    const parts = url.pathname.split('/').filter(Boolean)
    if (parts[0] !== 'batches') return send(404, { msg: 'not found' })
    const id = parts[1] === undefined ? undefined : Number(parts[1])
    const batch = id === undefined ? undefined : this.batches.get(id)

    if (req.method === 'POST' && id === undefined) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.requests.submit++
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { name?: string }
        if (body.name && this.names.has(body.name))
          return send(400, { msg: `Duplicate session name: ${body.name}` })
        send(201, this.view(this.add(body.name ?? null, 'starting')))
      })
      return
    }
    if (req.method === 'GET' && id === undefined) {
      this.requests.list++
      const from = Number(url.searchParams.get('from') ?? 0)
      const size = Number(url.searchParams.get('size') ?? 100)
      const all = [...this.batches.values()]
      return send(200, {
        from,
        total: all.length,
        sessions: all.slice(from, from + size).map((b) => this.view(b)),
      })
    }
    if (!batch) return send(404, { msg: `Session '${parts[1]}' not found.` })
    if (req.method === 'DELETE') {
      this.requests.kill++
      batch.state = 'killed'
      return send(200, { msg: 'deleted' })
    }
    if (parts[2] === 'state') {
      this.requests.state++
      return send(200, { id: batch.id, state: batch.state })
    }
    if (parts[2] === 'log') {
      this.requests.log++
      return send(200, { id: batch.id, from: 0, total: 0, log: [] })
    }
    this.requests.get++
    return send(200, this.view(batch))
  }
}
