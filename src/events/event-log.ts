/**
 * The read side of the event log: each tenant's events sit in one Redis Stream
 * (`P:t:<t>:events`), appended by the same Lua script that makes the change they tell of
 * (src/redis/lua/includes/emit-event.lua) and trimmed by age as new ones come. A stream id
 * ("<ms>-<n>") is an event's place in its tenant's log: the cursor of `GET /v1/events`,
 * the SSE `id`, and where the webhook and Kafka relays have got to.
 */
import type { Redis } from 'ioredis'
import { RedisKeys } from '../redis/keys.js'
import {
  parseStoredEvent,
  typeMatches,
  type CloudEvent,
  type StoredEvent,
} from '../schemas/events.js'

/** A stream id: what comes after it is newer. */
export const STREAM_ID = /^\d{1,15}-\d{1,19}$/

export interface EventQuery {
  types?: string[]
  subject?: string
  /** only events at or after this time */
  since?: string
  /** only events after this stream id */
  after?: string
  limit: number
}

/** Raw XRANGE / XREAD entries: [id, [field, value, …]]. */
export type RawEntry = [id: string, fields: string[]]

export function decodeEntry([id, fields]: RawEntry): StoredEvent | undefined {
  const i = fields.indexOf('ce')
  if (i < 0 || i + 1 >= fields.length) return undefined
  return { position: id, event: parseStoredEvent(fields[i + 1]!) }
}

/** Whether stream id `a` comes after `b`. */
export function isAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint]
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint]
  return am === bm ? as > bs : am > bm
}

export function matches(e: CloudEvent, q: Pick<EventQuery, 'types' | 'subject'>): boolean {
  return typeMatches(q.types, e.type) && (q.subject === undefined || e.subject === q.subject)
}

export class EventLog {
  readonly keys: RedisKeys

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix)
  }

  streamKey(tenant: string): string {
    return this.keys.of(tenant).events()
  }

  /**
   * Oldest first, from `after` (exclusive) or `since`; at most `limit` events that pass
   * the filters. `next`: the position to ask from next time (the last one scanned, even
   * when filtered out; the given one when nothing is newer), so a reader never rescans.
   */
  async read(tenant: string, q: EventQuery): Promise<{ items: StoredEvent[]; next?: string }> {
    const key = this.streamKey(tenant)
    // a time before 1970 starts at the beginning (stream ids count milliseconds from there)
    const since = q.since ? Math.max(0, Date.parse(q.since)) : undefined
    let start = q.after ? `(${q.after}` : since !== undefined ? `${since}-0` : '-'
    let next = q.after
    const items: StoredEvent[] = []
    const batch = Math.max(q.limit * 2, 100)
    // A selective filter scans at most 20 batches per request; `next` carries on from there.
    for (let page = 0; page < 20 && items.length < q.limit; page++) {
      const raw = (await this.redis.xrange(key, start, '+', 'COUNT', batch)) as RawEntry[]
      for (const entry of raw) {
        next = entry[0]
        const stored = decodeEntry(entry)
        if (!stored || !matches(stored.event, q)) continue
        items.push(stored)
        if (items.length === q.limit) break
      }
      if (raw.length < batch) break
      start = `(${next}`
    }
    return { items, ...(next ? { next } : {}) }
  }
}
