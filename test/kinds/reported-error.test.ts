/**
 * The tracker's order for a failed job's reason, through a kind's reportedError hook and a
 * real backend (the local one, spark-submit): the reason the kind reads from the job's own
 * output first, then the log's SPARKGATE_ERROR line (also when the hook throws: a fault
 * reading the file is never fatal), then the generic SPARK_APP_FAILED.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Type, type Static } from 'typebox'
import type { Job } from '../../src/domain/job-schema.js'
import { defineJobKind } from '../../src/domain/ports/job-kind.js'
import { getJob, postJob, waitForState } from '../helpers/jobs.js'
import { buildWithKind } from '../helpers/stack.js'

const REASON = 'the reason in its own file'
const SCRIPT = fileURLToPath(new URL('../fixtures/spark/report_error.py', import.meta.url))

const OopsSpecSchema = Type.Object(
  {
    /** what the kind's hook does: a reason from "the file", throw, or nothing */
    file: Type.Union([Type.Literal('reason'), Type.Literal('throws'), Type.Literal('none')]),
    /** the words the job prints in its SPARKGATE_ERROR line (none: no line) */
    log: Type.Array(Type.String({ pattern: '^[a-z]+$' }), { maxItems: 5 }),
  },
  { additionalProperties: false, description: 'A job that fails on purpose.' },
)

const oopsKind = defineJobKind<Static<typeof OopsSpecSchema>>({
  name: 'oops',
  summary: 'oops (fails on purpose)',
  specSchema: OopsSpecSchema,
  events: [],
  create: () => ({
    name: 'oops',
    policyRefs: () => ({ uris: [] }),
    accept: async () => ({ ids: [], fields: {}, inputs: {}, stagedField: 'body.oops' }),
    batch: (_job, spec) => ({ file: `file://${SCRIPT}`, args: spec.log }),
    reportedError: async (_job, spec) => {
      if (spec.file === 'throws') throw new Error('WebHDFS unreachable: ECONNREFUSED')
      return spec.file === 'reason' ? REASON : undefined
    },
  }),
})

t.test("a failed job's reason: its file, else its log's line, else generic", async (t) => {
  const app = await buildWithKind(t, oopsKind, 3)
  const log = ['from', 'the', 'log']
  const own = 'SPARK_JOB_ERROR'
  const cases: [string, Static<typeof OopsSpecSchema>, string, string | RegExp][] = [
    ['file and log line: the file', { file: 'reason', log }, own, REASON],
    ['no log line: the file', { file: 'reason', log: [] }, own, REASON],
    ['the hook throws: the log line', { file: 'throws', log }, own, 'from the log'],
    ['neither: generic', { file: 'none', log: [] }, 'SPARK_APP_FAILED', /application failed/],
  ]
  const ids: string[] = []
  for (const [, oops] of cases) {
    const r = await postJob(app, { name: 'oops', oops })
    t.equal(r.statusCode, 202, r.body)
    ids.push(r.json<Job>().id)
  }
  for (const [i, [name, , code, message]] of cases.entries()) {
    const done = await waitForState(
      (j) => getJob(app, j),
      ids[i]!,
      ['succeeded', 'failed'],
      120_000,
    )
    t.equal(done.state, 'failed', name)
    t.match(done.error, { code, message }, name)
  }
})
