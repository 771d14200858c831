/**
 * Webhook signatures (src/webhooks/webhook-signature.ts) against the Standard Webhooks
 * reference implementation (the `standardwebhooks` package): each side verifies what
 * the other signed, and every signed part of a message matters.
 */
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import {
  newSecret,
  sign,
  signatureHeader,
  verify,
  type WebhookHeaders,
} from '../../src/webhooks/webhook-signature.js'

const BODY = JSON.stringify({ specversion: '1.0', type: 'sparkgate.job.succeeded', id: 'e1' })
const MSG_ID = 'msg_2b8f3c1e'
const now = () => Math.floor(Date.now() / 1000)

function signed(secrets: string[], body = BODY, timestamp = now()): WebhookHeaders {
  return {
    'webhook-id': MSG_ID,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, MSG_ID, timestamp, body),
  }
}

t.test('a new secret is whsec_ and 32 random bytes of base64', async (t) => {
  const a = newSecret()
  const b = newSecret()
  t.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.equal(Buffer.from(a.slice('whsec_'.length), 'base64').length, 32)
  t.not(a, b, 'two secrets differ')
})

t.test('a signature is v1,<base64 HMAC-SHA256 of id.timestamp.body>', async (t) => {
  // the example of the spec's reference libraries (their test suites use this secret)
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const signature = sign(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
  t.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
  t.match(sign(newSecret(), 'id', 0, ''), /^v1,[A-Za-z0-9+/]{43}=$/)
  t.equal(sign(secret.slice(6), 'id', 1, 'b'), sign(secret, 'id', 1, 'b'), 'the prefix is optional')
})

t.test('our signatures and verify round-trip', async (t) => {
  const secret = newSecret()
  t.ok(verify(secret, signed([secret]), BODY))
  t.ok(verify(secret, signed([secret], ''), ''), 'an empty body')
  t.ok(verify(secret, signed([secret], 'žluťoučký kůň'), 'žluťoučký kůň'), 'non-ASCII text')
  t.ok(verify(secret, signed([secret]), Buffer.from(BODY)), 'the body as bytes')
})

t.test('the reference implementation verifies ours', async (t) => {
  const secret = newSecret()
  const headers = signed([secret])
  t.same(new Webhook(secret).verify(BODY, headers), JSON.parse(BODY))
  t.throws(() => new Webhook(newSecret()).verify(BODY, headers), 'but not with another secret')
})

t.test('we verify the reference implementation', async (t) => {
  const secret = newSecret()
  const timestamp = now()
  const headers = {
    'webhook-id': MSG_ID,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(secret).sign(MSG_ID, new Date(timestamp * 1000), BODY),
  }
  t.equal(headers['webhook-signature'], sign(secret, MSG_ID, timestamp, BODY), 'the same bytes')
  t.ok(verify(secret, headers, BODY))
})

t.test('each signed part matters', async (t) => {
  const secret = newSecret()
  const headers = signed([secret])
  t.notOk(verify(secret, headers, BODY + ' '), 'a changed body')
  t.notOk(verify(secret, headers, BODY.replace('succeeded', 'failed')), 'an edited body')
  t.notOk(verify(secret, { ...headers, 'webhook-id': 'msg_other' }, BODY), 'a changed id')
  const stamp = String(Number(headers['webhook-timestamp']) - 1)
  t.notOk(verify(secret, { ...headers, 'webhook-timestamp': stamp }, BODY), 'a changed timestamp')
  t.notOk(verify(newSecret(), headers, BODY), 'another secret')
  const [, sig = ''] = headers['webhook-signature'].split(',')
  t.notOk(verify(secret, { ...headers, 'webhook-signature': `v1a,${sig}` }, BODY), 'not v1')
  t.notOk(verify(secret, { ...headers, 'webhook-signature': sig }, BODY), 'no version')
  t.notOk(verify(secret, { ...headers, 'webhook-signature': 'v1,' }, BODY), 'an empty signature')
})

t.test('rotation: both secrets sign, either verifies', async (t) => {
  const old = newSecret()
  const next = newSecret()
  const headers = signed([next, old])
  t.equal(headers['webhook-signature'].split(' ').length, 2, 'two signatures')
  t.ok(verify(old, headers, BODY), 'a receiver still on the old secret')
  t.ok(verify(next, headers, BODY), 'a receiver on the new secret')
  t.notOk(verify(newSecret(), headers, BODY), 'a third secret')
  t.doesNotThrow(() => new Webhook(old).verify(BODY, headers), 'the reference, old secret')
  t.doesNotThrow(() => new Webhook(next).verify(BODY, headers), 'the reference, new secret')
  t.throws(() => signatureHeader([], MSG_ID, now(), BODY), 'no secret at all')
})

t.test('the timestamp must be within the tolerance', async (t) => {
  const secret = newSecret()
  const at = 1_700_000_000
  const headers = signed([secret], BODY, at)
  t.ok(verify(secret, headers, BODY, { now: at }))
  t.ok(verify(secret, headers, BODY, { now: at + 300 }), '300 s late is the edge')
  t.notOk(verify(secret, headers, BODY, { now: at + 301 }), 'too old: a replay')
  t.ok(verify(secret, headers, BODY, { now: at - 300 }))
  t.notOk(verify(secret, headers, BODY, { now: at - 301 }), 'too far in the future')
  t.ok(verify(secret, headers, BODY, { now: at + 3000, toleranceSeconds: 3600 }), 'wider')
  t.notOk(verify(secret, signed([secret], BODY, now() - 301), BODY), 'against the clock')
  t.throws(() => sign(secret, MSG_ID, 1.5, BODY), 'whole seconds only')
  t.throws(() => sign(secret, MSG_ID, Date.now(), BODY), 'not milliseconds')
})

t.test('what a sender controls never throws', async (t) => {
  const secret = newSecret()
  const headers = signed([secret])
  const cases: [string, Record<string, string | string[] | undefined>][] = [
    ['no headers', {}],
    ['no signature', { ...headers, 'webhook-signature': undefined }],
    ['no id', { ...headers, 'webhook-id': '' }],
    ['a timestamp in words', { ...headers, 'webhook-timestamp': 'yesterday' }],
    ['a timestamp with a suffix', { ...headers, 'webhook-timestamp': `${now()}abc` }],
    ['a negative timestamp', { ...headers, 'webhook-timestamp': `-${now()}` }],
    ['a repeated header', { ...headers, 'webhook-signature': [headers['webhook-signature']] }],
    ['garbage signatures', { ...headers, 'webhook-signature': ', ,,, v1 v1,x v1,,' }],
  ]
  for (const [name, given] of cases) t.equal(verify(secret, given, BODY), false, name)
  const upper = {
    'Webhook-Id': headers['webhook-id'],
    'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'],
    'Webhook-Signature': headers['webhook-signature'],
  }
  t.ok(verify(secret, upper, BODY), 'header names in any case')
  t.throws(() => verify('whsec_not base64!', headers, BODY), 'a malformed secret is a setup fault')
  t.throws(() => sign('whsec_', MSG_ID, 1, BODY), 'an empty secret')
})
