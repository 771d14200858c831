/**
 * A Livy-shaped responder for the fault suite's big runs (npm run chaos): Livy 0.7's batch
 * routes and JSON shapes, unique batch names ("Duplicate session name"), and batches that
 * run: `starting`, then `running` after `runMs`, then `success` after twice that. It
 * remembers every batch it ever accepted, so the suite can count duplicates and orphans.
 * One machine cannot host a thousand Spark applications; the same scenarios run on the
 * real Livy with a smaller N.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface DoubleBatch {
  id: number
  name: string | null
  created: number
  killed: boolean
}

export function startLivyDouble(runMs: number) {
  const batches = new Map<number, DoubleBatch>()
  const names = new Set<string>()
  let nextId = 0
  const state = (b: DoubleBatch) => {
    if (b.killed) return 'killed'
    const age = Date.now() - b.created
    return age < runMs ? 'starting' : age < 2 * runMs ? 'running' : 'success'
  }
  const view = (b: DoubleBatch) => ({
    id: b.id,
    name: b.name,
    owner: null,
    proxyUser: null,
    state: state(b),
    appId: `app-${b.id}`,
    appInfo: { driverLogUrl: null, sparkUiUrl: null },
    log: [],
  })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(text)
    }
    const parts = url.pathname.split('/').filter(Boolean)
    if (parts[0] === '_batches')
      return send(
        200,
        [...batches.values()].map((b) => ({ ...view(b) })),
      )
    if (parts[0] !== 'batches') return send(404, { msg: 'not found' })
    const id = parts[1] === undefined ? undefined : Number(parts[1])
    const batch = id === undefined ? undefined : batches.get(id)
    if (req.method === 'POST' && id === undefined) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { name?: string }
        if (body.name && names.has(body.name))
          return send(400, { msg: `Duplicate session name: ${body.name}` })
        const b = { id: nextId++, name: body.name ?? null, created: Date.now(), killed: false }
        batches.set(b.id, b)
        if (b.name) names.add(b.name)
        send(201, view(b))
      })
      return
    }
    if (req.method === 'GET' && id === undefined) {
      const from = Number(url.searchParams.get('from') ?? 0)
      const size = Number(url.searchParams.get('size') ?? 100)
      const all = [...batches.values()]
      return send(200, {
        from,
        total: all.length,
        sessions: all.slice(from, from + size).map(view),
      })
    }
    if (!batch) return send(404, { msg: `Session '${parts[1]}' not found.` })
    if (req.method === 'DELETE') {
      batch.killed = true
      return send(200, { msg: 'deleted' })
    }
    if (parts[2] === 'state') return send(200, { id: batch.id, state: state(batch) })
    if (parts[2] === 'log') return send(200, { id: batch.id, from: 0, total: 0, log: [] })
    return send(200, view(batch))
  })
  server.keepAliveTimeout = 60_000
  return new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
}

// run as its own process (the suite kills gateways, never this)
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const url = await startLivyDouble(Number(process.argv[2] ?? 500))
  process.stdout.write(`${url}\n`)
}
