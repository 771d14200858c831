/**
 * The SparkBackend conformance suite, written once and fed a factory per backend
 * (test/backends/*.conformance.test.ts): every backend must behave the same to the
 * workers — submit → success with a computed result, failure with log lines, cancel,
 * adoption by name, log paging, health when down, 4xx vs transient error mapping.
 */
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import {
  batchKey,
  BackendError,
  type BatchStatus,
  type SparkBackend,
} from '../../src/domain/ports/spark-backend.js'
import type { BackendRef } from '../../src/domain/job-schema.js'
import { uniqueId } from './stack.js'

export interface ConformanceSubject {
  backend: SparkBackend
  /** a backend of the same kind whose service is down / absent */
  down: SparkBackend
  /** makes a local fixture readable by the backend; returns its URI */
  stage(localPath: string, name: string): Promise<string>
  /** a file URI this backend refuses with a 4xx */
  refusedFile: string
  /** whether the backend itself refuses a second live batch with the same name */
  refusesDuplicateNames: boolean
}

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/spark/${name}`, import.meta.url))

async function until(
  backend: SparkBackend,
  ref: BackendRef,
  done: (s: BatchStatus | undefined) => boolean,
  timeoutMs = 300_000,
): Promise<BatchStatus | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = (await backend.statusMany([ref])).get(batchKey(ref))
    if (done(status)) return status
    if (Date.now() > deadline)
      throw new Error(`batch ${ref.batchId} still ${JSON.stringify(status)} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** What a call ends in: 'accepted'/'up', or the BackendError kind it throws. */
const outcome = (p: Promise<unknown>, ok = 'accepted') =>
  p.then(
    () => ok,
    (e: unknown) => (e instanceof BackendError ? e.kind : String(e)),
  )

const ended = (s: BatchStatus | undefined) =>
  s !== undefined && ['succeeded', 'failed', 'killed'].includes(s.phase)

async function allLines(backend: SparkBackend, ref: BackendRef) {
  const head = await backend.logs(ref, 0, 0)
  return (await backend.logs(ref, 0, Math.max(1, head.total))).lines
}

export function conformance(t: Test, make: () => Promise<ConformanceSubject>) {
  t.test(`SparkBackend conformance`, async (t) => {
    const s = await make()
    const { backend } = s
    const [compute, raising, sleeping] = await Promise.all([
      s.stage(fixture('compute.py'), 'compute.py'),
      s.stage(fixture('raise_error.py'), 'raise_error.py'),
      s.stage(fixture('sleep.py'), 'sleep.py'),
    ])
    const names = { ok: uniqueId('ok'), bad: uniqueId('bad'), slow: uniqueId('slow') }
    // the three run side by side
    const ok = await backend.submit({
      name: names.ok,
      file: compute,
      args: ['100'],
      driverMemory: '512m',
    })
    const bad = await backend.submit({ name: names.bad, file: raising, driverMemory: '512m' })
    const slow = await backend.submit({
      name: names.slow,
      file: sleeping,
      args: ['600'],
      driverMemory: '512m',
    })
    for (const ref of [ok, bad, slow]) t.match(ref.batchId, /\S/, 'a batch id')

    await t.test('adoption: a batch is found again by its name', async (t) => {
      const found = await backend.findByName(names.ok)
      t.equal(found?.batchId, ok.batchId)
      t.equal(await backend.findByName(uniqueId('never-submitted')), undefined)
    })

    await t.test('a second submission under the same name is refused or adoptable', async (t) => {
      if (!s.refusesDuplicateNames) {
        t.pass(
          'this backend does not guard names; the worker looks the name up before resubmitting',
        )
        return
      }
      const again = await outcome(backend.submit({ name: names.ok, file: compute }))
      t.equal(again, 'duplicate')
    })

    await t.test('submit → success with a computed result in the log', async (t) => {
      const status = await until(backend, ok, ended)
      t.equal(status?.phase, 'succeeded', JSON.stringify(status))
      const lines = await allLines(backend, ok)
      t.ok(
        lines.some((l) => l.includes('SPARKGATE_SUM=5050')),
        'sum(1..100) computed by Spark',
      )
    })

    await t.test('log paging', async (t) => {
      const head = await backend.logs(ok, 0, 0)
      t.ok(head.total >= 2, `${head.total} lines`)
      t.same(head.lines, [])
      const two = await backend.logs(ok, 0, 2)
      t.equal(two.lines.length, 2)
      const second = await backend.logs(ok, 1, 1)
      t.same(second.lines, [two.lines[1]], 'from/size address the same lines')
      // a YARN application's log may still grow for a moment after it ended (its containers'
      // logs move from the NodeManager to the log server): past the end of what it has now
      for (let attempt = 1; ; attempt++) {
        const now = await backend.logs(ok, 0, 0)
        const past = await backend.logs(ok, now.total, 10)
        const settled = (await backend.logs(ok, 0, 0)).total === now.total
        if (!settled && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 1000))
          continue
        }
        t.same(past.lines, [], `past the end (${now.total} lines): nothing`)
        break
      }
    })

    await t.test('a failing application: failed, with its error in the log', async (t) => {
      const status = await until(backend, bad, ended)
      t.equal(status?.phase, 'failed', JSON.stringify(status))
      const lines = await allLines(backend, bad)
      t.ok(
        lines.some((l) => l.includes('sparkgate-intended-failure')),
        'the exception is logged',
      )
    })

    await t.test('cancel of a running batch', async (t) => {
      await until(backend, slow, (st) => st?.phase === 'running' || ended(st))
      await backend.cancel(slow)
      // Livy forgets killed batches at once; others report them killed
      const status = await until(backend, slow, (st) => st === undefined || ended(st), 120_000)
      t.ok(
        status === undefined || status.phase === 'killed',
        `killed or gone: ${JSON.stringify(status)}`,
      )
      await backend.cancel(slow) // cancelling again is harmless
    })

    await t.test('error mapping: a refused submission is rejected, not retried', async (t) => {
      const kind = await outcome(backend.submit({ name: uniqueId('refused'), file: s.refusedFile }))
      t.equal(kind, 'rejected')
    })

    await t.test('health, and transient errors, when the backend is down', async (t) => {
      await backend.health()
      t.pass('up: health resolves')
      const health = await outcome(s.down.health(), 'up')
      t.equal(health, 'transient')
      const submit = await outcome(s.down.submit({ name: uniqueId('down'), file: compute }))
      t.equal(submit, 'transient', 'a submit to a down backend is retried, never failed')
    })
  })
}
