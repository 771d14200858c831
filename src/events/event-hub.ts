/**
 * Fans each tenant's event stream out to the open SSE streams of this process with one
 * blocking XREAD on one connection for all of them: an idle gateway with a thousand open
 * streams sends Redis one command per block period, not one poll per stream.
 *
 * A subscriber gets every event appended after it subscribed (in order, in batches as
 * XREAD returns them); what came before is its own catch-up read (`EventLog.read`), which
 * it dedupes against the hub's batches by position. When the set of streams changes, the
 * blocked read is cut short with CLIENT UNBLOCK from the main connection, so a new
 * tenant's first subscriber waits for nothing.
 */
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../schemas/events.js'
import { decodeEntry, type RawEntry } from './event-log.js'

export type Listener = (events: StoredEvent[]) => void

interface Followed {
  /** the last position read */
  position: string
  listeners: Set<Listener>
}

export interface HubLogger {
  warn(obj: object, msg: string): void
}

export class EventHub {
  private readonly followed = new Map<string, Followed>()
  private readonly joining = new Map<string, { listeners: Set<Listener>; ready: Promise<void> }>()
  private reader?: Redis
  private readerId?: number
  private running?: Promise<void>
  private closed = false
  private wake?: () => void
  /** XREAD calls made (the idle-cost benchmark reads it) */
  reads = 0

  constructor(
    private readonly redis: Redis,
    private readonly log: HubLogger,
    private readonly blockMs = 30_000,
  ) {}

  /**
   * Follows a stream key; `listener` gets the events appended to it after this resolves.
   * Returns the function that stops following.
   */
  async subscribe(streamKey: string, listener: Listener): Promise<() => void> {
    const entry = this.followed.get(streamKey)
    if (entry) entry.listeners.add(listener)
    else await this.follow(streamKey, listener)
    return () => {
      const e = this.followed.get(streamKey)
      if (!e) return
      e.listeners.delete(listener)
      if (e.listeners.size === 0) this.followed.delete(streamKey)
    }
  }

  /**
   * Starts following a stream from its newest position: once, however many first
   * subscribers arrive together (they share the one look-up, and each is a listener
   * before the first read).
   */
  private async follow(streamKey: string, listener: Listener) {
    let joining = this.joining.get(streamKey)
    if (!joining) {
      const listeners = new Set<Listener>()
      const ready = (async () => {
        try {
          const last = (await this.redis.xrevrange(streamKey, '+', '-', 'COUNT', 1)) as RawEntry[]
          this.followed.set(streamKey, { position: last[0]?.[0] ?? '0-0', listeners })
          await this.restartRead()
        } finally {
          this.joining.delete(streamKey)
        }
      })()
      joining = { listeners, ready }
      this.joining.set(streamKey, joining)
    }
    joining.listeners.add(listener)
    await joining.ready
  }

  /** Streams followed and listeners (for tests and the benchmark). */
  stats() {
    let listeners = 0
    for (const e of this.followed.values()) listeners += e.listeners.size
    return { streams: this.followed.size, listeners, reads: this.reads }
  }

  private async restartRead() {
    if (this.closed) return
    if (!this.running) {
      // one reader, however many subscribers arrive at once
      this.running = this.start()
      return
    }
    if (this.wake) this.wake()
    else if (this.readerId !== undefined) {
      // a blocked XREAD returns as if it timed out; the loop reads again with every stream
      await this.redis.client('UNBLOCK', this.readerId).catch(() => 0)
    }
  }

  private async start() {
    const reader = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null })
    this.reader = reader
    reader.on('error', () => {}) // the loop logs what a read fails with
    reader.on('ready', () => {
      this.readerId = undefined
    })
    await reader.connect().catch(() => {})
    await this.loop()
  }

  private async loop() {
    const reader = this.reader!
    while (!this.closed) {
      if (this.followed.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
        continue
      }
      try {
        this.readerId ??= Number(await reader.client('ID'))
        const keys = [...this.followed.keys()]
        const positions = keys.map((k) => this.followed.get(k)!.position)
        this.reads++
        const reply = await reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...keys,
          ...positions,
        )
        for (const [key, entries] of reply ?? []) {
          const e = this.followed.get(key)
          if (!e || entries.length === 0) continue
          e.position = entries.at(-1)![0]
          const events = entries.map(decodeEntry).filter((x): x is StoredEvent => !!x)
          for (const listener of e.listeners) {
            try {
              listener(events)
            } catch (err) {
              this.log.warn({ err }, 'event listener failed')
            }
          }
        }
      } catch (err) {
        if (this.closed) break
        this.log.warn({ err }, 'event stream read failed; trying again in 1 s')
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }

  async close() {
    this.closed = true
    this.wake?.()
    if (this.readerId !== undefined)
      await this.redis.client('UNBLOCK', this.readerId).catch(() => 0)
    this.reader?.disconnect()
    await this.running?.catch(() => {})
  }
}
