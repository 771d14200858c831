/** Server-Sent Events of a job: history, live transitions, `end`, and Last-Event-ID resume. */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { postJob } from '../helpers/jobs.js'
import { parseSse as parse } from '../helpers/sse.js'
import { bearer, build, tenantOf } from '../helpers/stack.js'

t.test('a job streams its transitions as they happen, then ends', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const job = (await postJob(app, { batch: { file: 'hdfs://127.0.0.1:8020/app.py' } })).json<Job>()

  const response = await fetch(`${base}/v1/jobs/${job.id}/events`, {
    headers: { accept: 'text/event-stream', ...bearer(tenantOf(app).key) },
  })
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/event-stream/)
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  // the history arrives first, while the job is still queued
  while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value)
  t.same(parse(text)[0], { id: '0', event: 'transition', data: parse(text)[0]!.data })
  t.equal(JSON.parse(parse(text)[0]!.data!).to, 'queued')

  // a transition made now is pushed on the open stream
  await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
  }
  const events = parse(text)
  t.same(
    events.map((e) => [e.id, e.event]),
    [
      ['0', 'transition'],
      ['1', 'transition'],
      [undefined, 'end'],
    ],
  )
  t.equal(JSON.parse(events[1]!.data!).to, 'cancelled')
  t.same(JSON.parse(events[2]!.data!), { state: 'cancelled' })

  const resumed = await fetch(`${base}/v1/jobs/${job.id}/events`, {
    headers: { accept: 'text/event-stream', 'last-event-id': '0', ...bearer(tenantOf(app).key) },
  })
  const rest = parse(await resumed.text())
  t.same(
    rest.map((e) => [e.id, e.event]),
    [
      ['1', 'transition'],
      [undefined, 'end'],
    ],
    'Last-Event-ID: only what was missed',
  )
  const json = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events` })
  t.equal(json.json().items.length, 2, 'without the SSE Accept header: JSON')
})

t.test('a shutdown ends open streams instead of waiting for them', async (t) => {
  const app = await build(t, { SPARKGATE_ROLES: 'api' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const job = (await postJob(app, { batch: { file: 'hdfs://127.0.0.1:8020/app.py' } })).json<Job>()
  const response = await fetch(`${base}/v1/jobs/${job.id}/events`, {
    headers: { accept: 'text/event-stream', ...bearer(tenantOf(app).key) },
  })
  const body = response.text()
  await new Promise((resolve) => setTimeout(resolve, 300))
  await app.close()
  const events = parse(await body)
  t.same(
    events.map((e) => e.event),
    ['transition', 'shutdown'],
  )
})
