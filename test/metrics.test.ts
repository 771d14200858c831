/**
 * GET /metrics on the real stack: admin only, Prometheus text with the gateway's series —
 * HTTP durations by route pattern, job transitions, queue and live-job gauges read from
 * Redis, backend health, tracker ticks, webhook outcomes, Node process metrics — each
 * with its `instance`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createJob } from './helpers/jobs.js'
import { ADMIN_KEY, bearer, build } from './helpers/stack.js'

const admin = bearer(ADMIN_KEY)

/** The value of one series (name and labels as printed) in a Prometheus text, if there. */
function value(text: string, series: RegExp): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^(\S+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (m && series.test(m[1]!)) return Number(m[2])
  }
  return undefined
}

t.test('GET /metrics: admin only, Prometheus text, the gateway’s series', async (t) => {
  const app = await build(t, {
    SPARKGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
    SPARKGATE_KAFKA_BROKERS: 'none',
    SPARKGATE_TRACKER_INTERVAL_MS: 200,
  })
  t.equal(
    (await app.inject({ url: '/metrics', headers: { authorization: undefined } })).statusCode,
    401,
  )
  const member = await app.inject({ url: '/metrics' })
  t.equal(member.statusCode, 403, 'a member key is not enough')
  t.equal(member.json().code, 'SPARKGATE_FORBIDDEN')

  // a receiver for one webhook delivery
  const server = createServer((_req, res) => res.writeHead(204).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as AddressInfo
  await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    payload: { url: `http://127.0.0.1:${port}/h`, types: ['dev.sparkgate.job.cancelled'] },
  })
  const job = await createJob(app, {
    backend: 'livy',
    batch: { file: 'hdfs://127.0.0.1:8020/nowhere/app.py' },
  })
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  await app.inject({ url: `/v1/jobs/${job.id}` })

  let text = ''
  for (let i = 0; i < 100; i++) {
    const r = await app.inject({ url: '/metrics', headers: admin })
    t.equal(r.statusCode, 200)
    text = r.body
    if (value(text, /^sparkgate_webhook_deliveries_total\{.*outcome="delivered"/)) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const r = await app.inject({ url: '/metrics', headers: admin })
  t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  text = r.body
  t.ok(
    value(
      text,
      /^sparkgate_http_request_duration_seconds_count\{.*route="\/v1\/jobs\/:id".*status="200"/,
    ),
    'HTTP durations by route pattern, not by job id',
  )
  t.notMatch(text, job.id, 'no job id in any label')
  t.ok(value(text, /^sparkgate_job_transitions_total\{.*backend="livy".*to="queued"/)! >= 1)
  t.ok(value(text, /^sparkgate_job_transitions_total\{.*backend="livy".*to="cancelled"/)! >= 1)
  t.equal(
    value(text, /^sparkgate_queue_jobs\{.*backend="livy".*state="waiting"/),
    0,
    'the cancelled job left the queue',
  )
  t.equal(value(text, /^sparkgate_live_jobs\{.*backend="livy"/), 0)
  t.equal(value(text, /^sparkgate_backend_up\{.*backend="livy"/), 1, 'Livy answers')
  t.ok(
    value(text, /^sparkgate_tracker_tick_seconds_count\{.*backend="livy"/)! >= 1,
    'tracker ticks',
  )
  t.equal(value(text, /^sparkgate_webhook_deliveries_total\{.*outcome="delivered"/), 1)
  t.ok(value(text, /^process_cpu_seconds_total/)! >= 0, 'Node process metrics')
  t.match(text, /instance="[^"]+:\d+"/, 'every series says which process')
})
