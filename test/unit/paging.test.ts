/**
 * Cursor paging over the sorted-set indexes (src/redis/paging.ts): members sort by time
 * as strings, cursors round-trip, and anything that is not a cursor this API returned is
 * a 400 naming querystring.cursor. No Redis: only the strings are checked.
 */
import t from 'tap'
import { SparkgateError } from '../../src/errors.js'
import { encodeCursor, member, memberId, upperBound } from '../../src/redis/paging.js'
import { DATASET_ID, JOB_ID } from '../../src/schemas/common.js'

const ID = '0b6f7c1e-5d2a-4c8e-9f3b-2a1d4e5f6a7b'

t.test('member: createdAt in ms, zero-padded to 15 digits, then the id', async (t) => {
  t.equal(member(new Date(1_700_000_000_123), ID), `001700000000123|${ID}`)
  t.equal(member('2024-05-01T10:00:00.000Z', ID), `001714557600000|${ID}`, 'an ISO string')
  t.equal(member(new Date(0), 'x'), '000000000000000|x')
  t.equal(member(new Date(0), 'x').indexOf('|'), 15)
  // string order is time order (what ZRANGE BYLEX relies on), across digit counts
  const early = member(new Date(999_999_999), 'z')
  const late = member(new Date(1_000_000_000), 'a')
  t.ok(early < late, `${early} sorts before ${late}`)
})

t.test('memberId: the id part', async (t) => {
  t.equal(memberId(`001700000000123|${ID}`), ID)
  t.equal(memberId(member(new Date(5), 'a|b')), 'a|b', 'only the first | separates')
})

t.test('a cursor round-trips to the exclusive bound of the next page', async (t) => {
  const m = member(new Date(1_700_000_000_123), ID)
  const cursor = encodeCursor(m)
  t.match(cursor, /^[A-Za-z0-9_-]+$/, 'base64url: safe in a query string')
  t.equal(upperBound(cursor, JOB_ID), `(${m}`)
  const dataset = member(new Date(1_700_000_000_123), 'f'.repeat(64))
  t.equal(upperBound(encodeCursor(dataset), DATASET_ID), `(${dataset}`)
})

t.test('no cursor: the first page starts at +', async (t) => {
  t.equal(upperBound(undefined, JOB_ID), '+')
})

t.test('anything else is a 400 on querystring.cursor', async (t) => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url')
  const bad: [string, string][] = [
    ['', 'empty'],
    ['!!!', 'not base64'],
    ['garbage', 'base64 of nonsense'],
    [b64('hello world, this is no cursor'), 'text'],
    [b64(`1700000000123|${ID}`), '14 digits'],
    [b64(`0017000000001234|${ID}`), '16 digits'],
    [b64(`001700000000123-${ID}`), 'no |'],
    [b64(`00170000000012a|${ID}`), 'a letter in the time'],
    [b64('001700000000123|'), 'no id'],
    [b64('001700000000123|not-a-uuid'), 'an id of another shape'],
    [b64(`001700000000123|${'f'.repeat(64)}`), 'a dataset id where a job id belongs'],
    [b64(`001700000000123|${ID.toUpperCase()}`), 'upper-case uuid'],
    [b64(`001700000000123|${ID}x`), 'a longer id'],
  ]
  for (const [cursor, why] of bad) {
    let thrown: unknown
    try {
      upperBound(cursor, JOB_ID)
    } catch (error) {
      thrown = error
    }
    t.type(thrown, SparkgateError, `${why}: refused`)
    if (!(thrown instanceof SparkgateError)) continue
    t.equal(thrown.status, 400, `${why}: 400`)
    t.equal(thrown.code, 'SPARKGATE_VALIDATION')
    t.strictSame(
      thrown.extra['errors'],
      [
        {
          field: 'querystring.cursor',
          rule: 'cursor',
          message: 'querystring.cursor is not a cursor this API returned',
        },
      ],
      `${why}: names querystring.cursor`,
    )
  }
})
