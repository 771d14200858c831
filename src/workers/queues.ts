/**
 * BullMQ queues: the job queue port (src/domain/ports/job-queue.ts) on BullMQ. One submit
 * queue per backend (so a backend at its cap pauses only its own queue) and one tracker
 * queue whose job schedulers tick once per interval per backend — across all replicas,
 * exactly one worker takes each tick. Queue payloads carry job ids only: no specs, no
 * secrets.
 */
import { Queue, type ConnectionOptions, type Worker } from 'bullmq'
import type { FastifyBaseLogger } from 'fastify'
import type { JobStore } from '../domain/job-store.js'
import type { JobQueue } from '../domain/ports/job-queue.js'
import type { Backends } from '../domain/ports/spark-backend.js'
import { RedisKeys } from '../redis/keys.js'

/** What the submit workers and the tracker share. */
export interface WorkerContext {
  store: JobStore
  queues: BullJobQueue
  backends: Backends
  connection: ConnectionOptions
  prefix: string
  log: FastifyBaseLogger
}

export interface SubmitPayload {
  jobId: string
}

export interface TickPayload {
  backend: string
}

export function bullPrefix(prefix: string) {
  return new RedisKeys(prefix).bull()
}

export function submitQueueName(backend: string) {
  return `submit-${backend}`
}

export const TRACKER_QUEUE = 'tracker'

/** BullMQ job id of one submission attempt: re-adding the same attempt is a no-op. */
export function submitJobId(jobId: string, attempt: number) {
  return `${jobId}.${attempt}`
}

export function connectionFrom(url: string): ConnectionOptions {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  }
}

export class BullJobQueue implements JobQueue {
  private readonly queues = new Map<string, Queue<SubmitPayload>>()

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
  ) {}

  get(backend: string): Queue<SubmitPayload> {
    let queue = this.queues.get(backend)
    if (!queue) {
      queue = new Queue<SubmitPayload>(submitQueueName(backend), {
        connection: this.connection,
        prefix: bullPrefix(this.prefix),
      })
      this.queues.set(backend, queue)
    }
    return queue
  }

  async enqueue(backend: string, jobId: string, attempt: number, priority: number) {
    await this.get(backend).add(
      'submit',
      { jobId },
      {
        jobId: submitJobId(jobId, attempt),
        priority,
        // transient backend faults never fail a job: retry practically forever, with backoff
        attempts: 1_000_000,
        backoff: { type: 'sparkgate' },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    )
  }

  async remove(backend: string, jobId: string, attempt: number) {
    try {
      await this.get(backend).remove(submitJobId(jobId, attempt))
    } catch {
      // locked by a worker right now: the worker sees cancelRequested instead
    }
  }

  async has(backend: string, jobId: string, attempt: number): Promise<boolean> {
    return (await this.get(backend).getJob(submitJobId(jobId, attempt))) !== undefined
  }

  async waiting(backend: string): Promise<number> {
    const counts = await this.get(backend).getJobCounts('waiting', 'prioritized', 'delayed')
    return (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0)
  }

  /** The backend's submissions by BullMQ state (the metrics' queue gauge). */
  async counts(backend: string): Promise<Record<string, number>> {
    return this.get(backend).getJobCounts('waiting', 'prioritized', 'delayed', 'active')
  }

  async close() {
    await Promise.all([...this.queues.values()].map((q) => q.close()))
  }
}

/**
 * Closes a worker gracefully (its in-flight job finishes) within `deadlineMs`; past it the
 * worker is disconnected. While Redis is down nothing in flight can finish and BullMQ's
 * graceful close() would wait for a connection that may never come, so the close is
 * forced: a gateway must be able to stop while Redis is down.
 */
export async function closeWorker(
  worker: Worker,
  deadlineMs: number,
  redisUp: boolean,
): Promise<boolean> {
  if (!redisUp) {
    await worker.close(true)
    return false
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs)
  })
  const outcome = await Promise.race([worker.close().then(() => 'closed' as const), deadline])
  clearTimeout(timer)
  if (outcome === 'late') void worker.disconnect().catch(() => undefined)
  return outcome === 'closed'
}
