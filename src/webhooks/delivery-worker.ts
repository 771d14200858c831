/**
 * The webhook delivery workers: one BullMQ worker per webhook on this process, following
 * the webhook list. Each try signs the event (Standard Webhooks), POSTs it through the
 * guarded deliverer (webhook-http.ts) and keeps its outcome as the job's progress; a 2xx
 * is delivered, a 410 disables the webhook, anything else is retried with backoff and
 * jitter until the last try makes it dead. A delivery waits while an older one of the
 * same job is pending, so a job's events reach a receiver in order (delivery-queue.ts).
 */
import { DelayedError, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq'
import type { DeliveryPayload, DeliveryProgress, WebhookDeliveries } from './delivery-queue.js'
import { queueName } from './delivery-queue.js'
import type { Deliverer } from './webhook-http.js'
import { signatureHeader } from './webhook-signature.js'
import { signingSecrets, type WebhookStore } from './webhook-store.js'

/** Delay before try n+1 after n failed tries: doubling from the first, ±50 % jitter, ≤ 1 h. */
export function backoffDelay(firstMs: number, failedTries: number, random = Math.random()) {
  const base = Math.min(firstMs * 2 ** Math.max(0, failedTries - 1), 3_600_000)
  return Math.round(base * (0.5 + random))
}

/** Where a worker tells of faults it survives (a pino logger fits). */
export interface WorkerLogger {
  warn(obj: object, msg: string): void
}

/** Runs one BullMQ worker per webhook on this process, following the webhook list. */
export class WebhookWorkers {
  private readonly workers = new Map<string, Worker<DeliveryPayload>>()
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
    const w = new Worker<DeliveryPayload>(
      queueName(webhookId),
      (job, token) => this.process(job, token),
      {
        connection: s.connection,
        prefix: this.deliveries.keys.bull(),
        concurrency: this.options.concurrency ?? 4,
        // a delivery held by a process that died is taken over after this (SPARKGATE_WORKER_LOCK_MS)
        lockDuration: this.options.lockMs ?? 30_000,
        stalledInterval: this.options.lockMs ?? 30_000,
        // the delay chosen (with its jitter) when the try failed, kept in the job's progress
        settings: {
          backoffStrategy: (_made, _type, _err, job) => {
            const next = (job?.progress as Partial<DeliveryProgress> | undefined)?.nextTryAt
            return next ? Math.max(0, Date.parse(next) - Date.now()) : s.backoffMs
          },
        },
      },
    )
    w.on('error', (err) => this.log.warn({ err, webhookId }, 'webhook worker error'))
    return w
  }

  private async process(job: BullJob<DeliveryPayload>, token?: string) {
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
    const progress: DeliveryProgress = {
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
