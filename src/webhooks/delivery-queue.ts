/**
 * Webhook deliveries on BullMQ: one queue per webhook (`webhook-<id>`), so a receiver
 * that is down slows only its own deliveries. A delivery is one BullMQ job whose id is
 * the event id — the `webhook-id` header, stable across retries and replays, and the
 * reason a relay that hands the same event over twice enqueues it once.
 *
 *   relay ──► WebhookFanout.accept ──► queue webhook-<id> ──► WebhookWorkers ──► POST
 *                                                              │ 2xx: delivered (kept)
 *                      retries with backoff and jitter ◄───────┤ other / timeout
 *                      after the last: dead (the DLQ) ◄────────┘ 410: dead, webhook disabled
 *
 * Deliveries of one job reach a receiver in order: each pending delivery is a member
 * "<subject>|<position>|<event id>" of the webhook's pending set, and a delivery waits
 * while an older one of the same subject is still pending (being retried). A dead one
 * leaves the set, so the ones behind it go on; a replay puts it back.
 *
 * This file is the queue side (enqueue, list, replay, the pending set); the worker that
 * tries each delivery is delivery-worker.ts, the relay's sink webhook-fanout.ts.
 */
import { Queue, type ConnectionOptions, type Job as BullJob, type JobType } from 'bullmq'
import type { Redis } from 'ioredis'
import { RedisKeys } from '../redis/keys.js'
import { decodeCursor, encodeCursor } from '../redis/paging.js'
import type { CloudEvent, StoredEvent } from '../schemas/events.js'
import type { Delivery, DeliveryStatus } from './schemas.js'
import { wants, type WebhookRecord } from './webhook-store.js'

const STATES: Record<DeliveryStatus, JobType[]> = {
  pending: ['active', 'waiting', 'prioritized', 'delayed'],
  delivered: ['completed'],
  dead: ['failed'],
}

/** What a delivery's BullMQ job carries: no secret (the worker reads the webhook's). */
export interface DeliveryPayload {
  webhookId: string
  /** the event's place in its tenant's log (orders a job's deliveries) */
  position: string
  event: CloudEvent
}

/** The outcome of the last try, kept as the BullMQ job's progress (a Delivery shows it). */
export type DeliveryProgress = Pick<Delivery, 'lastStatusCode' | 'lastError'> & {
  lastAttemptAt: string
  durationMs: number
  nextTryAt?: string
}

/** How deliveries are queued, tried and kept (from SPARKGATE_WEBHOOK_* and the event retention). */
export interface DeliverySettings {
  connection: ConnectionOptions
  prefix: string
  maxAttempts: number
  backoffMs: number
  /** how long delivered and dead deliveries are kept (the event retention) */
  keepMs: number
}

/** The BullMQ queue of one webhook's deliveries. */
export function queueName(webhookId: string) {
  return `webhook-${webhookId}`
}

/** Orders positions "<ms>-<n>" as text: both parts padded. */
function pendingMember(subject: string, position: string, eventId: string) {
  const [ms, n] = position.split('-')
  return `${subject}|${ms!.padStart(15, '0')}-${n!.padStart(10, '0')}|${eventId}`
}

/** The event id (the delivery's BullMQ job id) at the end of a pending member. */
function eventIdOf(member: string) {
  return member.slice(member.lastIndexOf('|') + 1)
}

/** The queues of the webhooks, their deliveries, and what can be done with them. */
export class WebhookDeliveries {
  private readonly queues = new Map<string, Queue<DeliveryPayload>>()
  readonly keys: RedisKeys

  constructor(
    private readonly redis: Redis,
    readonly settings: DeliverySettings,
  ) {
    this.keys = new RedisKeys(settings.prefix)
  }

  queue(webhookId: string): Queue<DeliveryPayload> {
    let q = this.queues.get(webhookId)
    if (!q) {
      q = new Queue<DeliveryPayload>(queueName(webhookId), {
        connection: this.settings.connection,
        prefix: this.keys.bull(),
      })
      q.on('error', () => {})
      this.queues.set(webhookId, q)
    }
    return q
  }

  /** Queues one delivery per (webhook, event) it wants; the same event twice is one. */
  async enqueue(hooks: WebhookRecord[], events: StoredEvent[]) {
    const keep = Math.ceil(this.settings.keepMs / 1000)
    for (const hook of hooks) {
      const mine = events.filter((e) => wants(hook, e.event.type) && e.event.time >= hook.createdAt)
      if (mine.length === 0) continue
      const pending = this.keys.webhookPending(hook.id)
      await this.redis.zadd(
        pending,
        ...mine.flatMap((e) => [0, pendingMember(e.event.subject, e.position, e.event.id)]),
      )
      await this.queue(hook.id).addBulk(
        mine.map((e) => ({
          name: e.event.type,
          data: { webhookId: hook.id, position: e.position, event: e.event },
          opts: {
            jobId: e.event.id,
            attempts: this.settings.maxAttempts,
            backoff: { type: 'sparkgate' },
            removeOnComplete: { age: keep },
            removeOnFail: { age: keep },
          },
        })),
      )
    }
  }

  /** A webhook's deliveries in one status, newest first, paged by an opaque cursor. */
  async list(
    webhookId: string,
    status: DeliveryStatus,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Delivery[]; nextCursor?: string }> {
    const offset = cursor ? Number(decodeCursor(cursor, /^\d{1,9}$/)) : 0
    const jobs = await this.queue(webhookId).getJobs(STATES[status], offset, offset + limit)
    const items = await Promise.all(jobs.slice(0, limit).map((j) => this.view(j, status)))
    return {
      items,
      ...(jobs.length > limit ? { nextCursor: encodeCursor(String(offset + limit)) } : {}),
    }
  }

  async get(webhookId: string, deliveryId: string): Promise<Delivery | undefined> {
    const job = await this.queue(webhookId).getJob(deliveryId)
    if (!job) return undefined
    return this.view(job)
  }

  private async view(job: BullJob<DeliveryPayload>, known?: DeliveryStatus): Promise<Delivery> {
    let status = known
    if (!status) {
      const state = await job.getState()
      status = state === 'completed' ? 'delivered' : state === 'failed' ? 'dead' : 'pending'
    }
    const p = (typeof job.progress === 'object' ? job.progress : {}) as Partial<DeliveryProgress>
    return {
      id: job.id!,
      eventType: job.data.event.type,
      subject: job.data.event.subject,
      status,
      attempts: job.attemptsMade,
      lastStatusCode: p.lastStatusCode ?? null,
      lastError: p.lastError ?? null,
      lastAttemptAt: p.lastAttemptAt ?? null,
      nextTryAt: status === 'pending' ? (p.nextTryAt ?? null) : null,
      createdAt: new Date(job.timestamp).toISOString(),
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    }
  }

  /**
   * Sends a dead (or delivered) delivery again, with the same webhook-id and all its tries;
   * 'pending' when it is still under way, undefined when there is no such delivery.
   */
  async replay(webhookId: string, deliveryId: string): Promise<Delivery | 'pending' | undefined> {
    const job = await this.queue(webhookId).getJob(deliveryId)
    if (!job) return undefined
    const state = await job.getState()
    if (state !== 'failed' && state !== 'completed') return 'pending'
    await this.redis.zadd(
      this.keys.webhookPending(webhookId),
      0,
      pendingMember(job.data.event.subject, job.data.position, job.data.event.id),
    )
    await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true })
    return this.view(job, 'pending')
  }

  /** Replays every dead delivery of a webhook, oldest first; how many. */
  async replayDead(webhookId: string): Promise<number> {
    let count = 0
    for (;;) {
      const dead = await this.queue(webhookId).getJobs(['failed'], 0, 499, true)
      if (dead.length === 0) return count
      for (const job of dead) if ((await this.replay(webhookId, job.id!)) !== undefined) count++
    }
  }

  /** Drops a deleted webhook's queue and everything in it. */
  async remove(webhookId: string) {
    const q = this.queue(webhookId)
    await q.obliterate({ force: true })
    await q.close()
    this.queues.delete(webhookId)
  }

  async close() {
    await Promise.all([...this.queues.values()].map((q) => q.close()))
    this.queues.clear()
  }

  /**
   * Leaves the webhook's pending set, and wakes the job's next delivery if it was put off
   * behind this one (it would otherwise wait out its delay).
   */
  async done(payload: DeliveryPayload) {
    const key = this.keys.webhookPending(payload.webhookId)
    const subject = payload.event.subject
    await this.redis.zrem(key, pendingMember(subject, payload.position, payload.event.id))
    const next = await this.headOf(payload.webhookId, subject)
    if (!next) return
    const job = await this.queue(payload.webhookId).getJob(eventIdOf(next))
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined)
  }

  /** The oldest pending member of a subject (a job) at a webhook, if any. */
  private async headOf(webhookId: string, subject: string): Promise<string | undefined> {
    const [head] = await this.redis.zrangebylex(
      this.keys.webhookPending(webhookId),
      `[${subject}|`,
      `[${subject}|\xff`,
      'LIMIT',
      0,
      1,
    )
    return head
  }

  /** Whether an older delivery of the same subject is still pending. */
  async waiting(payload: DeliveryPayload): Promise<boolean> {
    const subject = payload.event.subject
    const head = await this.headOf(payload.webhookId, subject)
    const own = pendingMember(subject, payload.position, payload.event.id)
    if (head === undefined || head >= own) return false
    // Only a delivery still under way holds the job's next ones up. A member whose delivery
    // is gone (a crash between the two writes of enqueue), has ended (the relay handed
    // the same events over twice and re-added it) or died without leaving (a crash on its
    // last try) is dropped.
    const state = await this.queue(payload.webhookId).getJobState(eventIdOf(head))
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return true
    await this.redis.zrem(this.keys.webhookPending(payload.webhookId), head)
    return this.waiting(payload)
  }
}
