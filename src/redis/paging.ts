/**
 * Newest-first paging over the gateway's sorted-set indexes, whose members are
 * "<createdAt ms, 15 digits>|<id>" (score 0, so lexicographic order is time order).
 * Cursors are the last member of a page, base64url-encoded; anything else is a 400.
 */
import { errors } from '../errors.js'

export function encodeCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url')
}

/** What an opaque cursor holds, when it is `shape`; anything else is a 400. */
export function decodeCursor(cursor: string, shape: RegExp): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!shape.test(decoded)) throw errors.invalidCursor()
  return decoded
}

/** The exclusive upper bound of the next page: `(<member>`, or `+` for the first page. */
export function upperBound(cursor: string | undefined, id: RegExp): string {
  if (cursor === undefined) return '+'
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8')
  const [time, rest] = [decoded.slice(0, 16), decoded.slice(16)]
  if (!/^\d{15}\|$/.test(time) || !id.test(rest)) throw errors.invalidCursor()
  return `(${decoded}`
}

/** The id part of an index member. */
export function memberId(member: string): string {
  return member.slice(member.indexOf('|') + 1)
}

/** The index member of an id created at `createdAt`. */
export function member(createdAt: Date | string, id: string): string {
  const ms = typeof createdAt === 'string' ? Date.parse(createdAt) : createdAt.getTime()
  return `${String(ms).padStart(15, '0')}|${id}`
}

/**
 * The oldest stream id an event stream keeps when events live `retentionMs` (XADD MINID
 * trims what is older); '' keeps everything.
 */
export function streamMinId(retentionMs: number, now = Date.now()): string {
  return retentionMs > 0 ? `${Math.max(0, now - retentionMs)}-0` : ''
}
