/**
 * pytest for jobs/ (the sparkgate_jobs package, train.py and score.py) on local Spark, run
 * as one of tap's files so that tap schedules it beside the others instead of after them
 * (it takes about 100 s; run alone: `npm run test:py`). Its output goes to
 * $STACK_DIR/logs/pytest.out and its exit code to pytest.rc beside it: the closing line of
 * `npm test` counts its tests from there (docker/local/lib/test-summary.sh).
 */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'

const ROOT = join(import.meta.dirname, '..')
const LOGS = join(process.env['STACK_DIR'] ?? join(ROOT, '.stack'), 'logs')

t.test('pytest passes for jobs/ on local Spark', async (t) => {
  await mkdir(LOGS, { recursive: true })
  const out = createWriteStream(join(LOGS, 'pytest.out'))
  let tail = ''
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'docker/local/pytest.sh'), '-q'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (chunk: Buffer) => {
      out.write(chunk)
      tail = (tail + chunk.toString('utf8')).slice(-6000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', reject)
    child.on('close', (status) => resolve(status ?? 1))
  })
  await new Promise((resolve) => out.end(resolve))
  await writeFile(join(LOGS, 'pytest.rc'), `${code}\n`)
  const summary = tail.trim().split('\n').at(-1) ?? ''
  t.match(summary, /\d+ passed/, `pytest's summary: ${summary}`)
  t.equal(code, 0, code === 0 ? summary : `pytest failed:\n${tail}`)
})
