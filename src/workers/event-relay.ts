/**
 * The outbox relay: carries every tenant's event log to a sink (the webhook fan-out, the
 * Kafka producer), in order, at least once. The log is the outbox — the Lua script that
 * makes a change appends its event in the same step — so an accepted change always gets
 * its event out, whatever crashes in between.
 *
 * Per sink, one process at a time relays (a lease in Redis, renewed while it works; a
 * crashed holder's lease runs out and another replica takes over). It reads every
 * tenant's stream with one blocking XREAD from the positions kept in `P:relay:<sink>`,
 * hands each tenant's batch to the sink and only then moves that tenant's position on:
 * a crash between the two replays the batch, which the sinks tolerate (BullMQ job ids,
 * Kafka consumers deduping by ce_id). A sink that fails is given the same batch again
 * after a pause; it does not hold up the other sink, which has its own relay.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { EventSink } from '../events/event-sink.js'
import { decodeEntry } from '../events/event-log.js'
import type { StoredEvent } from '../schemas/events.js'
import { RedisKeys } from '../redis/keys.js'
import { RedisScripts } from '../redis/scripts.js'
import { PLATFORM_TENANT } from '../tenancy/access.js'

export interface RelayLogger {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

export interface RelayOptions {
  /** how long one blocking read waits for news (also how soon new tenants are seen) */
  blockMs?: number
  /** how long a lease lasts unless renewed */
  leaseMs?: number
  /** pause after a failed hand-over */
  retryMs?: number
}

export class EventRelay {
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts
  private readonly owner = randomUUID()
  private reader?: Redis
  private running?: Promise<void>
  private closed = false
  private leased = false
  private readonly blockMs: number
  private readonly leaseMs: number
  private readonly retryMs: number
  /** events handed to the sink by this process (tests and benchmarks read it) */
  relayed = 0

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly sink: EventSink,
    private readonly log: RelayLogger,
    options: RelayOptions = {},
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
    this.blockMs = options.blockMs ?? 1000
    this.leaseMs = options.leaseMs ?? 10_000
    this.retryMs = options.retryMs ?? 1000
  }

  start() {
    this.reader = this.redis.duplicate({ maxRetriesPerRequest: null })
    this.reader.on('error', () => {})
    this.running = this.loop()
  }

  private async lease(): Promise<boolean> {
    const key = this.keys.relayLock(this.sink.name)
    if (this.leased) {
      const renewed = await this.scripts.run('renew-lease', [key], [this.owner, this.leaseMs])
      this.leased = renewed === 1
    } else {
      const taken = await this.redis.set(key, this.owner, 'PX', this.leaseMs, 'NX')
      this.leased = taken === 'OK'
      if (this.leased) this.log.info({ sink: this.sink.name }, 'relaying events')
    }
    return this.leased
  }

  private async tenants(): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.tenants(), 0, -1)
    return [PLATFORM_TENANT, ...ids.filter((t) => t !== PLATFORM_TENANT)]
  }

  private async loop() {
    const reader = this.reader!
    const positionsKey = this.keys.relay(this.sink.name)
    let failures = 0
    while (!this.closed) {
      try {
        if (!(await this.lease())) {
          await this.sleep(Math.min(this.leaseMs / 2, 2000))
          continue
        }
        const tenants = await this.tenants()
        const stored = await this.redis.hmget(positionsKey, ...tenants)
        const streams = tenants.map((t) => this.keys.of(t).events())
        // a tenant seen for the first time is relayed from the start of its log
        const positions = stored.map((p) => p ?? '0-0')
        const reply = await reader.xread(
          'COUNT',
          500,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...streams,
          ...positions,
        )
        for (const [key, entries] of reply ?? []) {
          if (this.closed) break
          const tenant = tenants[streams.indexOf(key)]!
          const events = entries.map(decodeEntry).filter((e): e is StoredEvent => !!e)
          if (events.length > 0) await this.sink.accept(tenant, events)
          // the position moves only once the sink has them, and only while we hold the lease
          if (await this.lease()) await this.redis.hset(positionsKey, tenant, entries.at(-1)![0])
          this.relayed += events.length
        }
        failures = 0
      } catch (err) {
        if (this.closed) break
        // doubling pauses (to 30 s) while the sink stays down, so its log is not flooded
        const pause = Math.min(this.retryMs * 2 ** failures++, 30_000)
        this.log.warn(
          { err, sink: this.sink.name, retryInMs: pause },
          'relaying events failed; trying again',
        )
        await this.sleep(pause)
      }
    }
  }

  private wakeUp?: () => void

  /** A pause that close() cuts short. */
  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  async close() {
    this.closed = true
    this.wakeUp?.()
    this.reader?.disconnect()
    await this.running?.catch(() => {})
    if (this.leased)
      await this.scripts
        .run('release-lease', [this.keys.relayLock(this.sink.name)], [this.owner])
        .catch(() => 0)
    await this.sink.close()
  }
}
