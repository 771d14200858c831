/**
 * A new job kind is one folder and one registry line: a kind defined in a test folder
 * (test/fixtures/kinds/echo) is handed to buildApp beside the gateway's own kinds, and a
 * job of it is validated, accepted, submitted to the local backend (a real spark-submit),
 * tracked to its end and read back — with no edit to src/.
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { echoKind } from '../fixtures/kinds/echo/index.js'
import { getJob, waitForState } from '../helpers/jobs.js'
import { buildWithKind } from '../helpers/stack.js'

t.test('a job kind from a test folder runs on the local backend', async (t) => {
  const app = await buildWithKind(t, echoKind)

  // its spec is part of JobSpec: validated, and in the OpenAPI document
  const doc = (await app.inject('/docs/json')).json<{
    components: { schemas: Record<string, { properties: Record<string, unknown> }> }
  }>()
  t.ok(doc.components.schemas['JobSpec']?.properties['echo'], 'JobSpec has the echo field')
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { echo: { words: [] } },
  })
  t.equal(bad.statusCode, 400, 'the schema is checked')
  t.match(bad.json(), { code: 'SPARKGATE_VALIDATION' })
  const two = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { echo: { words: ['a'] }, batch: { file: 'file:///x.py' } },
  })
  t.equal(two.statusCode, 400, 'still exactly one kind')
  t.match(two.json().detail, /exactly one of batch, training, scoring or echo/)

  const created = await app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { name: 'echo-1', echo: { words: ['hello', 'kinds'] } },
  })
  t.equal(created.statusCode, 202, created.body)
  const id = created.json<Job>().id
  const done = await waitForState((j) => getJob(app, j), id, ['succeeded', 'failed'], 120_000)
  t.equal(done.state, 'succeeded', JSON.stringify(done.error))
  t.equal(done.backend, 'local')

  const logs = await app.inject(`/v1/jobs/${id}/logs?size=1000`)
  t.match(
    logs.json<{ lines: string[] }>().lines.join('\n'),
    "hello from sparkgate ['hello', 'kinds']",
  )
  const result = await app.inject(`/v1/jobs/${id}/result`)
  t.equal(result.statusCode, 200, result.body)
  t.same(result.json(), { echoed: ['hello', 'kinds'] })
  const output = await app.inject(`/v1/jobs/${id}/output`)
  t.equal(output.statusCode, 409, 'a kind without an output file')
})
