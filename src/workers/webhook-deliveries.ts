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
 */
import {
  DelayedError,
  Queue,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job as BullJob,
  type JobType,
} from 'bullmq'
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../events/event-log.js'
import type { EventSink } from '../events/event-sink.js'
import type { Deliverer } from '../events/webhook-http.js'
import { signatureHeader } from '../events/webhook-signature.js'
import {
  signingSecrets,
  wants,
  type WebhookRecord,
  type WebhookStore,
} from '../events/webhook-store.js'
import { RedisKeys } from '../redis/keys.js'
import { decodeCursor, encodeCursor } from '../redis/paging.js'
import type { CloudEvent } from '../schemas/events.js'
import { bullPrefix } from './queues.js'

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

const STATES: Record<DeliveryStatus, JobType[]> = {
  pending: ['active', 'waiting', 'prioritized', 'delayed'],
  delivered: ['completed'],
  dead: ['failed'],
}

interface Payload {
  webhookId: string
  /** the event's place in its tenant's log (orders a job's deliveries) */
  position: string
  event: CloudEvent
}

interface Progress {
  lastStatusCode: number | null
  lastError: string | null
  lastAttemptAt: string
  durationMs: number
  nextTryAt?: string
}

export interface Delivery {
  id: string
  eventType: string
  subject: string
  status: DeliveryStatus
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  lastAttemptAt: string | null
  nextTryAt: string | null
  createdAt: string
  finishedAt: string | null
}

export interface DeliverySettings {
  connection: ConnectionOptions
  prefix: string
  maxAttempts: number
  backoffMs: number
  /** how long delivered and dead deliveries are kept (the event retention) */
  keepMs: number
}

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

/** Delay before try n+1 after n failed tries: doubling from the first, ±50 % jitter, ≤ 1 h. */
export function backoffDelay(firstMs: number, failedTries: number, random = Math.random()) {
  const base = Math.min(firstMs * 2 ** Math.max(0, failedTries - 1), 3_600_000)
  return Math.round(base * (0.5 + random))
}

/** The queues of the webhooks, their deliveries, and what can be done with them. */
export class WebhookDeliveries {
  private readonly queues = new Map<string, Queue<Payload>>()
  readonly keys: RedisKeys

  constructor(
    private readonly redis: Redis,
    readonly settings: DeliverySettings,
  ) {
    this.keys = new RedisKeys(settings.prefix)
  }

  queue(webhookId: string): Queue<Payload> {
    let q = this.queues.get(webhookId)
    if (!q) {
      q = new Queue<Payload>(queueName(webhookId), {
        connection: this.settings.connection,
        prefix: bullPrefix(this.settings.prefix),
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

  private async view(job: BullJob<Payload>, known?: DeliveryStatus): Promise<Delivery> {
    let status = known
    if (!status) {
      const state = await job.getState()
      status = state === 'completed' ? 'delivered' : state === 'failed' ? 'dead' : 'pending'
    }
    const p = (typeof job.progress === 'object' ? job.progress : {}) as Partial<Progress>
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
  async done(payload: Payload) {
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
  async waiting(payload: Payload): Promise<boolean> {
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

/** The relay's webhook sink: each event to the deliveries of every webhook that wants it. */
export class WebhookFanout implements EventSink {
  readonly name = 'webhooks'

  constructor(
    private readonly store: WebhookStore,
    private readonly deliveries: WebhookDeliveries,
  ) {}

  async accept(tenant: string, events: StoredEvent[]) {
    const hooks = await this.store.list(tenant)
    if (hooks.length > 0) await this.deliveries.enqueue(hooks, events)
  }

  async close() {}
}

export interface WorkerLogger {
  warn(obj: object, msg: string): void
}

/** Runs one BullMQ worker per webhook on this process, following the webhook list. */
export class WebhookWorkers {
  private readonly workers = new Map<string, Worker<Payload>>()
  /** told of each try's outcome: delivered, retry, dead, gone (410), dropped */
  onOutcome?: (outcome: 'delivered' | 'retry' | 'dead' | 'gone' | 'dropped') => void
  private timer?: NodeJS.Timeout
  private closed = false

  constructor(
    private readonly store: WebhookStore,
    private readonly deliveries: WebhookDeliveries,
    private readonly deliverer: Deliverer,
    private readonly log: WorkerLogger,
    private readonly options: { refreshMs?: number; concurrency?: number; lockMs?: number } = {},
  ) {}

  /** Starts following the webhook list (Redis down: it tries again at the next refresh). */
  async start() {
    const refresh = () =>
      this.refresh().catch((err: unknown) => this.log.warn({ err }, 'webhook list not read'))
    await refresh()
    this.timer = setInterval(() => void refresh(), this.options.refreshMs ?? 2000)
    this.timer.unref()
  }

  /** Starts workers for new webhooks and stops those of deleted ones. */
  async refresh() {
    if (this.closed) return
    const ids = new Set(await this.store.allIds())
    for (const id of ids) if (!this.workers.has(id)) this.workers.set(id, this.worker(id))
    for (const [id, w] of this.workers)
      if (!ids.has(id)) {
        this.workers.delete(id)
        await w.close()
      }
  }

  private worker(webhookId: string) {
    const s = this.deliveries.settings
    const w = new Worker<Payload>(queueName(webhookId), (job, token) => this.process(job, token), {
      connection: s.connection,
      prefix: bullPrefix(s.prefix),
      concurrency: this.options.concurrency ?? 4,
      // a delivery held by a process that died is taken over after this (SPARKGATE_WORKER_LOCK_MS)
      lockDuration: this.options.lockMs ?? 30_000,
      stalledInterval: this.options.lockMs ?? 30_000,
      // the delay chosen (with its jitter) when the try failed, kept in the job's progress
      settings: {
        backoffStrategy: (_made, _type, _err, job) => {
          const next = (job?.progress as Partial<Progress> | undefined)?.nextTryAt
          return next ? Math.max(0, Date.parse(next) - Date.now()) : s.backoffMs
        },
      },
    })
    w.on('error', (err) => this.log.warn({ err, webhookId }, 'webhook worker error'))
    return w
  }

  private async process(job: BullJob<Payload>, token?: string) {
    const payload = job.data
    const hook = await this.store.get(payload.webhookId)
    if (!hook) {
      await this.deliveries.done(payload)
      this.onOutcome?.('dropped')
      return { dropped: 'the webhook was deleted' }
    }
    if (hook.status !== 'enabled') {
      await this.deliveries.done(payload)
      throw new UnrecoverableError(
        `the webhook is disabled (${hook.disabledReason ?? 'by its owner'})`,
      )
    }
    if (await this.deliveries.waiting(payload)) {
      // an older event of the same job is still under way: this one goes after it (that
      // one's done() wakes it; the delay is only the fallback)
      await job.moveToDelayed(Date.now() + 1000, token)
      // the older one may have ended in between, its done() finding nothing to wake
      if (!(await this.deliveries.waiting(payload))) await job.promote().catch(() => undefined)
      throw new DelayedError()
    }
    const body = JSON.stringify(payload.event)
    const ts = Math.floor(Date.now() / 1000)
    const outcome = await this.deliverer.deliver(
      hook.url,
      {
        'content-type': 'application/cloudevents+json',
        'webhook-id': payload.event.id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatureHeader(signingSecrets(hook), payload.event.id, ts, body),
      },
      body,
    )
    const progress: Progress = {
      lastStatusCode: outcome.status ?? null,
      lastError: outcome.ok ? null : (outcome.error ?? 'failed'),
      lastAttemptAt: new Date().toISOString(),
      durationMs: Math.round(outcome.durationMs),
    }
    if (outcome.ok) {
      await job.updateProgress(progress)
      await this.deliveries.done(payload)
      this.onOutcome?.('delivered')
      return { status: outcome.status, durationMs: progress.durationMs }
    }
    if (outcome.gone) {
      await job.updateProgress(progress)
      await this.store.update(hook, {
        status: 'disabled',
        disabledReason: 'the receiver answered 410 Gone',
      })
      await this.deliveries.done(payload)
      this.onOutcome?.('gone')
      throw new UnrecoverableError('HTTP 410: the webhook is now disabled')
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
    if (last) await this.deliveries.done(payload)
    else {
      const delay = backoffDelay(this.deliveries.settings.backoffMs, job.attemptsMade + 1)
      progress.nextTryAt = new Date(Date.now() + delay).toISOString()
    }
    await job.updateProgress(progress)
    this.onOutcome?.(last ? 'dead' : 'retry')
    throw new Error(progress.lastError ?? 'failed')
  }

  async close() {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    await Promise.all([...this.workers.values()].map((w) => w.close()))
    this.workers.clear()
    this.deliverer.close()
  }
}
