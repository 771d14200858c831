/**
 * The closing line of `npm test` (docker/local/lib/test-summary.sh, sourced by
 * docker/local/test.sh): tap's and pytest's counts read whole from their output. It once
 * kept only the last digit of pytest's "331 passed" and said 5053 for 5383 tests.
 * Runs the shell functions on sample output; no service needed.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const LIB = join(import.meta.dirname, '../../docker/local/lib/test-summary.sh')

/** Runs one function of the lib in bash, with input on its stdin; its stdout, trimmed. */
function run(fn: string, args: string[] = [], input = ''): string {
  const out = spawnSync('bash', ['-c', `set -uo pipefail; . "$0"; ${fn} "$@"`, LIB, ...args], {
    input,
    encoding: 'utf8',
  })
  if (out.status !== 0) throw new Error(`${fn} exited ${out.status}: ${out.stderr}`)
  return out.stdout.trim()
}

t.test("tap_counts: passed, failed, skipped (todo included) from tap's last summary", async (t) => {
  const cases: [string, string][] = [
    ['ok 1 - a\n# { total: 5052, pass: 5052 }\n# time=1.2ms\n', '5052 0 0'],
    ['# { total: 63, pass: 60, fail: 2, todo: 1, skip: 4 }\n', '60 2 5'],
    ['# { total: 3, pass: 3 }\n# { total: 12, pass: 10, fail: 2 }\n', '10 2 0'],
    ['not ok 1 - test/crash.test.ts\n', '0 0 0'],
    ['', '0 0 0'],
  ]
  for (const [i, [input, want]] of cases.entries())
    t.equal(run('tap_counts', [], input), want, `sample ${i + 1}: ${want}`)
})

t.test("pytest_counts: every count read whole from pytest's last summary line", async (t) => {
  const cases: [string, string][] = [
    ['....\n331 passed in 40.12s\n', '331 0 0'],
    ['331 passed, 4 warnings in 40.12s\n', '331 0 0'],
    [
      'FAILED jobs/test_x.py::test_y - assert 1\n3 failed, 328 passed, 2 skipped in 40.1s\n',
      '328 3 2',
    ],
    ['========== 10 passed, 1 skipped in 5.03s (0:00:05) ==========\n', '10 0 1'],
    ['1 failed, 2 passed, 1 error, 3 warnings, 1 xfailed, 2 xpassed in 1.2s\n', '4 2 1'],
    ['2 errors in 0.30s\n', '0 2 0'],
    ['no tests ran in 0.01s\n', '0 0 0'],
    ['', '0 0 0'],
  ]
  for (const [i, [input, want]] of cases.entries())
    t.equal(run('pytest_counts', [], input), want, `sample ${i + 1}: ${want}`)
})

t.test('tests_line: the sum, and each runner', async (t) => {
  t.equal(
    run('tests_line', ['0', '5052 0 0', '0', '331 0 0']),
    'tests: 5383 passed, 0 failed (tap 5052, pytest 331)',
    'the run that said 5053',
  )
  t.equal(
    run('tests_line', ['1', '5051 1 1', '1', '328 3 2']),
    'tests: 5379 passed, 4 failed, 3 skipped (tap 5051 passed 1 failed 1 skipped, pytest 328 passed 3 failed 2 skipped)',
  )
  t.equal(run('tests_line', ['0', '63 0 0']), 'tests: 63 passed, 0 failed (tap 63)', 'tap only')
  t.equal(
    run('tests_line', ['1', '0 0 0']),
    'tests: 0 passed, 1 failed (tap 0 passed 1 failed)',
    'a tap that crashed counts one failure',
  )
  t.equal(
    run('tests_line', ['0', '5052 0 0', '2', '0 0 0']),
    'tests: 5052 passed, 1 failed (tap 5052, pytest 0 passed 1 failed)',
    'so does a pytest that could not start',
  )
})

t.test("sum_counts: npm test's two tap phases as one", async (t) => {
  t.equal(run('sum_counts', ['5052 0 1', '0', '51 0 0']), '5103 0 1', 'both passed')
  t.equal(run('sum_counts', ['5052 0 0', '1', '49 2 0']), '5101 2 0', 'phase 2 failures')
  t.equal(
    run('sum_counts', ['5052 0 0', '1', '0 0 0']),
    '5052 1 0',
    'a phase 2 whose stack did not start counts one failure',
  )
})

t.test('from the raw output of both runners to the closing line', async (t) => {
  const tap = run('tap_counts', [], '# { total: 5052, pass: 5052 }\n')
  const pytest = run('pytest_counts', [], '331 passed in 40.12s\n')
  t.equal(
    run('tests_line', ['0', tap, '0', pytest]),
    'tests: 5383 passed, 0 failed (tap 5052, pytest 331)',
  )
})
