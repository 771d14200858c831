/**
 * Server-Sent Events for one job: GET /v1/jobs/{id}/events with
 * `Accept: text/event-stream` replays the job's history, then pushes each new transition
 * as it is recorded, and ends with an `end` event once the job is terminal. Each event's
 * `id` is its index in the history, so a client that reconnects with `Last-Event-ID` gets
 * only what it missed. The stream reads the job's event list in Redis (the same list the
 * transitions append to), so it works whichever gateway process made the change.
 */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { Job, JobEvent } from '../../domain/job-schema.js'
import { isTerminal } from '../../domain/job-state.js'

/** What a stream reads: a job's history (unchecked: the route checked the job) and record. */
export interface EventSource {
  history(id: string): Promise<JobEvent[]>
  find(id: string): Promise<Job | undefined>
}

const POLL_MS = 500
const HEARTBEAT_MS = 15_000

/** Open streams of one gateway, ended when it shuts down (they would hold it open). */
export type OpenStreams = Set<ServerResponse>

export function endAllStreams(open: OpenStreams) {
  for (const res of open) {
    res.write('event: shutdown\ndata: {}\n\n')
    res.end()
  }
  open.clear()
}

export async function streamEvents(
  store: EventSource,
  id: string,
  lastEventId: string | undefined,
  reply: FastifyReply,
  open: OpenStreams,
) {
  let next = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) + 1 : 0
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': String(reply.request.id),
  })
  let closed = false
  open.add(res)
  res.on('close', () => {
    closed = true
    open.delete(res)
  })
  let lastWrite = Date.now()
  while (!closed && !res.writableEnded) {
    const events = await store.history(id)
    for (; next < events.length; next++) {
      res.write(`id: ${next}\nevent: transition\ndata: ${JSON.stringify(events[next])}\n\n`)
      lastWrite = Date.now()
    }
    const job = await store.find(id)
    if (!job || isTerminal(job.state)) {
      res.write(`event: end\ndata: ${JSON.stringify({ state: job?.state ?? null })}\n\n`)
      break
    }
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      res.write(': keep-alive\n\n')
      lastWrite = Date.now()
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  open.delete(res)
  if (!res.writableEnded) res.end()
}
