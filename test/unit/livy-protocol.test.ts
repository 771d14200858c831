/**
 * Livy's batch states read as our phases, its log noise (src/backends/livy-protocol.ts),
 * and the paged log tail every adapter shares (src/backends/log-tail.ts), with a fake
 * pager in place of a backend.
 */
import t from 'tap'
import type { BackendRef } from '../../src/domain/job-schema.js'
import type { LogPage } from '../../src/domain/ports/spark-backend.js'
import { livyLogLine, livyPhase } from '../../src/backends/livy-protocol.js'
import { tailOf } from '../../src/backends/log-tail.js'

t.test('livyPhase: every Livy batch state', async (t) => {
  const phases: Record<string, string> = {
    not_started: 'pending',
    starting: 'pending',
    recovering: 'pending',
    idle: 'running',
    running: 'running',
    busy: 'running',
    shutting_down: 'running',
    success: 'succeeded',
    dead: 'failed',
    error: 'failed',
    killed: 'killed',
  }
  for (const [state, phase] of Object.entries(phases))
    t.equal(livyPhase(state), phase, `${state} → ${phase}`)
})

t.test('livyPhase: a word Livy may add later is still pending, never an end', async (t) => {
  for (const state of ['queued', 'SUCCESS', '', 'Dead'])
    t.equal(livyPhase(state), 'pending', JSON.stringify(state))
  // names of Object.prototype are no states
  for (const state of ['toString', 'constructor'])
    t.equal(livyPhase(state), 'pending', JSON.stringify(state))
})

t.test('livyLogLine: blank lines and section markers are noise', async (t) => {
  for (const line of ['', ' ', '\t', 'stdout:', 'stderr:', '  stdout: ', '\tstderr:\t'])
    t.equal(livyLogLine(line), false, `${JSON.stringify(line)} is dropped`)
  for (const line of [
    'stdout: hello',
    'Traceback (most recent call last):',
    '  File "app.py", line 3',
    'stdout',
    'STDERR:',
    'x',
  ])
    t.equal(livyLogLine(line), true, `${JSON.stringify(line)} is kept`)
})

/** A backend log of these lines, paged like a backend; records every call. */
function fakePager(lines: string[]) {
  const calls: [number, number][] = []
  const pager = async (_ref: BackendRef, from: number, size: number): Promise<LogPage> => {
    calls.push([from, size])
    return { from, total: lines.length, lines: lines.slice(from, from + size) }
  }
  return { pager, calls }
}

const ref: BackendRef = { batchId: '7', batchName: 'job-1' }
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`)

t.test('tailOf: one call for the total, one for the last lines', async (t) => {
  const { pager, calls } = fakePager(numbered(100))
  t.strictSame(await tailOf(pager, ref, 3), ['line 97', 'line 98', 'line 99'])
  t.strictSame(calls, [
    [0, 0],
    [97, 3],
  ])
})

t.test('tailOf: a log shorter than the tail is read from its start', async (t) => {
  const { pager, calls } = fakePager(numbered(2))
  t.strictSame(await tailOf(pager, ref, 5), ['line 0', 'line 1'])
  t.strictSame(calls, [
    [0, 0],
    [0, 5],
  ])
  const empty = fakePager([])
  t.strictSame(await tailOf(empty.pager, ref, 5), [])
})

t.test('tailOf: size 0 asks the backend nothing', async (t) => {
  const { pager, calls } = fakePager(numbered(10))
  t.strictSame(await tailOf(pager, ref, 0), [])
  t.strictSame(calls, [])
})

t.test('tailOf: the filter drops lines after the page is read', async (t) => {
  const log = ['a', '', 'stdout:', 'b', '   ', 'stderr:', 'c']
  const blankOnly = fakePager(log)
  t.strictSame(
    await tailOf(blankOnly.pager, ref, 5),
    ['stdout:', 'b', 'stderr:', 'c'],
    'the default drops blank lines only',
  )
  const livy = fakePager(log)
  t.strictSame(await tailOf(livy.pager, ref, 5, livyLogLine), ['b', 'c'], 'livyLogLine')
  t.strictSame(livy.calls, [
    [0, 0],
    [2, 5],
  ])
})

t.test('tailOf: the pager gets the ref it was given', async (t) => {
  const seen: BackendRef[] = []
  await tailOf(
    async (r, from, size) => {
      seen.push(r)
      return { from, total: 0, lines: Array.from({ length: size }, () => 'x') }
    },
    ref,
    1,
  )
  t.strictSame(seen, [ref, ref])
})
