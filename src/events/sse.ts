/**
 * Server-Sent Events from the event log, fed by the EventHub's one blocking read (no
 * stream polls Redis):
 *
 * - one job (`GET /v1/jobs/{id}/events`): its history from its own list, then each new
 *   transition (event `transition`, id = its index in the history, so `Last-Event-ID`
 *   resumes), then `end` when the job is terminal;
 * - a tenant's log (`GET /v1/events`): every event after `Last-Event-ID` (a stream id) or
 *   from now, filtered by type and subject (event = the CloudEvent type, id = its stream
 *   id, data = the CloudEvent), until the client goes.
 *
 * A stream subscribes to the hub before it reads what it missed, and drops what the hub
 * hands it twice, so nothing falls between the catch-up read and the live feed. Every
 * stream counts against its tenant's cap on this process (SPARKGATE_MAX_EVENT_STREAMS).
 */
import type { ServerResponse } from 'node:http'
import { errors } from '../errors.js'
import type { JobEventData, StoredEvent } from '../schemas/events.js'
import type { EventHub } from './event-hub.js'
import { isAfter, matches, type EventLog, type EventQuery } from './event-log.js'

const HEARTBEAT_MS = 15_000

/** The open streams of one process: the per-tenant cap, and the end of all at shutdown. */
export class SseStreams {
  private readonly open = new Set<ServerResponse>()
  private readonly perTenant = new Map<string, number>()

  constructor(private readonly maxPerTenant: number) {}

  /** Counts a stream of `tenant` (429 over the cap); call the result when it ends. */
  take(tenant: string): () => void {
    const n = this.perTenant.get(tenant) ?? 0
    if (n >= this.maxPerTenant) throw errors.tooManyStreams(this.maxPerTenant)
    this.perTenant.set(tenant, n + 1)
    let given = false
    return () => {
      if (given) return
      given = true
      const left = (this.perTenant.get(tenant) ?? 1) - 1
      if (left > 0) this.perTenant.set(tenant, left)
      else this.perTenant.delete(tenant)
    }
  }

  get size() {
    return this.open.size
  }

  /** Starts an SSE response; resolves when the client has gone or the stream was ended. */
  start(res: ServerResponse, requestId: string): { closed: Promise<void>; write(s: string): void } {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': requestId,
    })
    res.flushHeaders()
    this.open.add(res)
    let last = Date.now()
    const beat = setInterval(() => {
      if (Date.now() - last >= HEARTBEAT_MS) write(': keep-alive\n\n')
    }, HEARTBEAT_MS)
    beat.unref()
    const write = (s: string) => {
      if (res.writableEnded || res.destroyed) return
      res.write(s)
      last = Date.now()
    }
    const closed = new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(beat)
        this.open.delete(res)
        resolve()
      }
      res.on('close', done)
      res.on('finish', done)
    })
    return { closed, write }
  }

  endAll() {
    for (const res of this.open) {
      if (!res.writableEnded) {
        res.write('event: shutdown\ndata: {}\n\n')
        res.end()
      }
    }
    this.open.clear()
  }
}

function sse(id: string, event: string, data: unknown) {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

/** What a job stream reads: its history (JobEvent shape) and whether it has ended. */
export interface JobHistory {
  history(): Promise<{ at: string; from: string | null; to: string; reason?: string }[]>
  state(): Promise<string | undefined>
  isTerminal(state: string): boolean
}

export async function streamJobEvents(opts: {
  streams: SseStreams
  hub: EventHub
  streamKey: string
  jobId: string
  job: JobHistory
  lastEventId: string | undefined
  res: ServerResponse
  requestId: string
}) {
  const { streams, hub, job, jobId, res } = opts
  let next =
    opts.lastEventId !== undefined && /^\d{1,9}$/.test(opts.lastEventId)
      ? Number(opts.lastEventId) + 1
      : 0
  const out = streams.start(res, opts.requestId)
  let caughtUp = false
  let lastState: string | undefined
  const pending: StoredEvent[] = []
  let finish!: () => void
  const ended = new Promise<void>((resolve) => (finish = resolve))

  const end = (state: string | null) => {
    out.write(`event: end\ndata: ${JSON.stringify({ state })}\n\n`)
    finish()
  }
  const writeLive = async (events: StoredEvent[]) => {
    for (const { event } of events) {
      if (event.subject !== jobId || !event.type.startsWith('dev.sparkgate.job.')) continue
      const d = event.data as JobEventData
      if (d.sequence < next) continue
      next = d.sequence + 1
      lastState = d.state
      out.write(
        sse(String(d.sequence), 'transition', {
          at: event.time,
          from: d.previousState,
          to: d.state,
          ...(d.reason !== null ? { reason: d.reason } : {}),
        }),
      )
    }
    // a retry records failed → queued in one step: end only when the job has stopped
    if (lastState && job.isTerminal(lastState)) {
      const now = await job.state()
      if (now === undefined || job.isTerminal(now)) end(now ?? null)
    }
  }
  let chain = Promise.resolve()
  const unsubscribe = await hub.subscribe(opts.streamKey, (events) => {
    if (!caughtUp) pending.push(...events)
    else chain = chain.then(() => writeLive(events)).catch(() => finish())
  })
  try {
    const history = await job.history()
    for (; next < history.length; next++) {
      const e = history[next]!
      lastState = e.to
      out.write(sse(String(next), 'transition', e))
    }
    const state = await job.state()
    if (state === undefined || job.isTerminal(state)) end(state ?? null)
    else {
      caughtUp = true
      chain = chain.then(() => writeLive(pending.splice(0))).catch(() => finish())
    }
    await Promise.race([ended, out.closed])
  } finally {
    unsubscribe()
    if (!res.writableEnded) res.end()
  }
}

export async function streamTenantEvents(opts: {
  streams: SseStreams
  hub: EventHub
  log: EventLog
  tenant: string
  query: Pick<EventQuery, 'types' | 'subject' | 'since'>
  lastEventId: string | undefined
  res: ServerResponse
  requestId: string
}) {
  const { hub, log, tenant, query, res } = opts
  const out = opts.streams.start(res, opts.requestId)
  let position: string | undefined = opts.lastEventId
  let caughtUp = false
  const pending: StoredEvent[] = []
  const write = (events: StoredEvent[]) => {
    for (const e of events) {
      if (position && !isAfter(e.position, position)) continue
      position = e.position
      if (matches(e.event, query)) out.write(sse(e.position, e.event.type, e.event))
    }
  }
  const unsubscribe = await hub.subscribe(log.streamKey(tenant), (events) => {
    if (caughtUp) write(events)
    else pending.push(...events)
  })
  try {
    // catch up: from Last-Event-ID, or `since`; with neither, only what comes next
    if (position !== undefined || query.since !== undefined) {
      for (;;) {
        const before = position
        const page = await log.read(tenant, { ...query, after: position, limit: 500 })
        write(page.items)
        if (page.next) position = page.next
        if (position === before) break
      }
    }
    write(pending.splice(0))
    caughtUp = true
    await out.closed
  } finally {
    unsubscribe()
    if (!res.writableEnded) res.end()
  }
}
