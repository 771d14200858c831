/**
 * A Livy-shaped responder for the fault suite's big runs (npm run chaos): Livy 0.7's batch
 * routes and JSON shapes, unique batch names ("Duplicate session name"), and batches that
 * run: `starting` for `startMs`, then `running` for as long as their argument `ms:N` says
 * (default `startMs`), then `success` — or `dead` with the argument `fail`. DELETE of a
 * live batch kills it; of an ended one, forgets it (as Livy does).
 *
 * Like a Livy without recovery, it remembers nothing across a restart: batch ids start at
 * 0 again. So that the suite can still count duplicates and orphans, every batch it
 * accepts and every kill is appended to a journal file (one JSON line each, with its
 * incarnation: which start of the double it was), which the suite reads; the double never does.
 * One machine cannot host a thousand Spark applications; the same scenarios run on the
 * real Livy with a smaller N.
 */
import { appendFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A journal line. */
export type JournalEntry =
  | {
      t: 'create'
      inc: number
      id: number
      name: string | null
      at: number
      /** when it ends on its own: success, or dead when `fail` */
      endsAt: number
      fail: boolean
    }
  | { t: 'kill'; inc: number; id: number; at: number }

interface Batch {
  id: number
  name: string | null
  created: number
  endsAt: number
  fail: boolean
  killed: boolean
}

export function startLivyDouble(o: {
  startMs: number
  journal: string
  port?: number
  /** which start of the double this is (1, 2, …), as the suite counts them */
  inc?: number
}) {
  const inc = o.inc ?? 1
  const batches = new Map<number, Batch>()
  const names = new Set<string>()
  let nextId = 0
  const note = (entry: JournalEntry) => appendFileSync(o.journal, `${JSON.stringify(entry)}\n`)
  const ended = (b: Batch) => Date.now() >= b.endsAt
  const state = (b: Batch) => {
    if (b.killed) return 'killed'
    if (ended(b)) return b.fail ? 'dead' : 'success'
    return Date.now() - b.created < o.startMs ? 'starting' : 'running'
  }
  const view = (b: Batch) => ({
    id: b.id,
    name: b.name,
    owner: null,
    proxyUser: null,
    state: state(b),
    appId: `app-${inc}-${b.id}`,
    appInfo: { driverLogUrl: null, sparkUiUrl: null },
    log: [],
  })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const parts = url.pathname.split('/').filter(Boolean)
    if (parts[0] !== 'batches') return send(404, { msg: 'not found' })
    const id = parts[1] === undefined ? undefined : Number(parts[1])
    const batch = id === undefined ? undefined : batches.get(id)
    if (req.method === 'POST' && id === undefined) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
          name?: string
          args?: string[]
        }
        if (body.name && names.has(body.name))
          return send(400, { msg: `Duplicate session name: ${body.name}` })
        const args = body.args ?? []
        const runs = Number(args.find((a) => a.startsWith('ms:'))?.slice(3) ?? o.startMs)
        const created = Date.now()
        const b: Batch = {
          id: nextId++,
          name: body.name ?? null,
          created,
          endsAt: created + o.startMs + runs,
          fail: args.includes('fail'),
          killed: false,
        }
        note({
          t: 'create',
          inc,
          id: b.id,
          name: b.name,
          at: created,
          endsAt: b.endsAt,
          fail: b.fail,
        })
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
      if (ended(batch) || batch.killed) batches.delete(batch.id)
      else {
        batch.killed = true
        note({ t: 'kill', inc, id: batch.id, at: Date.now() })
      }
      return send(200, { msg: 'deleted' })
    }
    if (parts[2] === 'state') return send(200, { id: batch.id, state: state(batch) })
    if (parts[2] === 'log') return send(200, { id: batch.id, from: 0, total: 0, log: [] })
    return send(200, view(batch))
  })
  server.keepAliveTimeout = 60_000
  return new Promise<string>((resolve) =>
    server.listen(o.port ?? 0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
}

// run as its own process (the suite kills it with kill -9 when Livy's restart is the fault)
// argv: startMs journal [port] [incarnation]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const url = await startLivyDouble({
    startMs: Number(process.argv[2] ?? 500),
    journal: process.argv[3] ?? '/dev/null',
    ...(process.argv[4] ? { port: Number(process.argv[4]) } : {}),
    ...(process.argv[5] ? { inc: Number(process.argv[5]) } : {}),
  })
  process.stdout.write(`${url}\n`)
}
