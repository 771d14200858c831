/**
 * Schema-driven fuzzing of the whole HTTP API. schemathesis (PyPI; pinned in
 * docker/local/stack.env and installed in the stack's Spark venv by `stack.sh install`)
 * reads the OpenAPI document a live gateway serves at /docs/json and sends every operation
 * generated requests, valid and invalid (its examples, coverage, fuzzing and stateful
 * phases), with a fixed seed and a bounded number of examples per operation.
 *
 * The gateway runs in this process on the real stack (Redis, HDFS), with only the `api`
 * role: a job that passes validation is queued under this test's Redis prefix and never
 * submitted to Spark. Datasets are staged under this test's own HDFS folder. Both are
 * removed at teardown.
 *
 * Asserts: test cases > 0, 0 server errors (5xx: check not_a_server_error) and 0
 * response-schema violations (check response_schema_conformance), and no schemathesis
 * error. Each failure is reported with its operation, check, status and the curl command
 * that reproduces it. The number of test cases is written, one line, to
 * $STACK_DIR/logs/fuzz-summary.txt; schemathesis's own output to fuzz-schemathesis.out
 * beside it, its JUnit and JSON reports to fuzz-report.{xml,json}.
 *
 * Alone: eval "$(bash docker/local/stack.sh env)" && npx tap test/fuzz/openapi-fuzz.test.ts
 * Knobs (a longer run by hand): FUZZ_MAX_EXAMPLES (default 250), FUZZ_SEED (default 20261123).
 */
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildApp, type App } from '../../src/app.js'
import { bearer, hdfsClient, hdfsTestDir, makeTenant, testConfig } from '../helpers/stack.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
// the state directory as docker/local/stack.sh computes it
const STATE = process.env['STACK_DIR'] || join(ROOT, '.stack')
const MAX_EXAMPLES = Number(process.env['FUZZ_MAX_EXAMPLES'] || 250)
const SEED = Number(process.env['FUZZ_SEED'] || 20261123)
/**
 * schemathesis is stopped after this long (a run takes about 140 s here); a run that failed
 * inside schemathesis itself is made once more, so the test may take two.
 */
const RUN_LIMIT_MS = 240_000
const CHECKS = ['not_a_server_error', 'response_schema_conformance'] as const

/** The check behind each schemathesis failure code (`st explain CODE`). */
const CHECK_OF_CODE: Record<string, string> = {
  ST101: 'not_a_server_error', // 5xx
  ST102: 'not_a_server_error', // 5xx for an undeclared or malformed request Content-Type
  ST104: 'response_schema_conformance', // no Content-Type though the schema documents one
  ST108: 'response_schema_conformance', // body (or header) rejected by its schema
  ST109: 'response_schema_conformance', // invalid JSON body
  ST110: 'response_schema_conformance', // body unreadable for its Content-Type
  ST111: 'response_schema_conformance', // unknown discriminator value
}

/**
 * The headers of every fuzzed request: a member key of a fresh tenant whose request rate
 * is out of the way (schemathesis sends ~100-200 requests a second; 429s would hide what
 * lies behind them).
 */
async function fuzzHeaders(app: App): Promise<Record<string, string>> {
  const tenant = await makeTenant(app, 'member', {
    quotas: { requestsPerMinute: 10_000_000 },
  })
  return bearer(tenant.key)
}

interface Failure {
  operation: string
  code: string
  check: string
  status: string
  curl: string
  text: string
}

interface JsonReport {
  schemathesis_version: string
  running_time: number
  stop_reason: string
  complete: boolean
  exit_code: number
  operations: { total: number; selected: number; tested: number; errored: number }
  test_cases: { generated: number; with_failures: number; unique_failures: number }
  failures: { code: string; title: string; count: number; operations: string[] }[]
  errors: { title: string; count: number }[]
  warnings: Record<string, string[]>
}

function unescapeXml(s: string) {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (entity: string, name: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
    if (name[0] !== '#') return named[name.toLowerCase()] ?? entity
    const hex = name[1] === 'x' || name[1] === 'X'
    return String.fromCodePoint(parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10))
  })
}

/** Each <failure> and <error> of schemathesis's JUnit report, with the curl it prints. */
function parseJunit(xml: string): Failure[] {
  const out: Failure[] = []
  for (const tc of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const operation = unescapeXml(/\bname="([^"]*)"/.exec(tc[1]!)?.[1] ?? '?')
    for (const f of (tc[2] ?? '').matchAll(
      /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/g,
    )) {
      const message = unescapeXml(/\bmessage="([^"]*)"/.exec(f[2]!)?.[1] ?? '')
      const text = unescapeXml(f[3] ?? '')
      const code = /^ST\d{3}$/.test(message) ? message : f[1] === 'error' ? 'error' : message
      const curl = /Reproduce with:\s*\n\s*(curl .*)/.exec(text)?.[1]?.trim() ?? '(no curl printed)'
      const status = /^\[\d{3}\] [^:\n]*/m.exec(text)?.[0] ?? '(no response)'
      const check = CHECK_OF_CODE[code] ?? (f[1] === 'error' ? 'schemathesis error' : code)
      out.push({ operation, code, check, status, curl, text })
    }
  }
  return out
}

/** A failure of schemathesis itself while generating a case: no request was sent. */
function isToolError(f: Failure) {
  return (
    f.code === 'error' &&
    f.status === '(no response)' &&
    /Runtime Error/.test(f.text) &&
    /hypothesis|schemathesis\/(generation|specs)/.test(f.text)
  )
}

const describe = (f: Failure) =>
  `${f.operation}: ${f.check} (${f.code}) got ${f.status}; reproduce: ${f.curl}`

/** Deletes every Redis key under the test's prefix (jobs, datasets, BullMQ queues). */
async function dropPrefix(url: string, prefix: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      if (keys.length) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Runs the CLI without blocking the event loop (the gateway under test is in this process). */
function run(cmd: string, args: string[], cwd: string, logFile: string) {
  return new Promise<{ code: number | null; signal: string | null; timedOut: boolean }>(
    (resolve, reject) => {
      const log = createWriteStream(logFile)
      // plain text: tap sets FORCE_COLOR=0, which rich (schemathesis's output) takes as "a
      // terminal", and the log fills with progress redraws
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'dumb', COLUMNS: '120' }
      delete env['FORCE_COLOR']
      const child = spawn(cmd, args, {
        cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout.pipe(log, { end: false })
      child.stderr.pipe(log, { end: false })
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
      }, RUN_LIMIT_MS)
      child.once('error', (error) => {
        clearTimeout(timer)
        log.end()
        reject(error)
      })
      child.once('close', (code, signal) => {
        clearTimeout(timer)
        log.end(() => resolve({ code, signal, timedOut }))
      })
    },
  )
}

/**
 * The schemathesis CLI of the stack's Spark venv (its path, even when missing: the test
 * then fails and says so), or a reason to skip where stack.env does not install it.
 */
function findCli(): { cli: string; skip?: undefined } | { cli?: undefined; skip: string } {
  const recorded = join(STATE, 'run', 'venv')
  const venv = existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : ''
  if (!venv) return { cli: '' }
  const cli = join(venv, 'bin', 'schemathesis')
  const libs = existsSync(join(venv, 'lib')) ? readdirSync(join(venv, 'lib')) : []
  if (!existsSync(cli) && libs.some((d) => /^python3\.(9|10)$/.test(d)))
    return { skip: `schemathesis 4.32 needs Python 3.11; the Spark venv ${venv} is older` }
  return { cli }
}
const found = findCli()

t.test(
  'schemathesis over /docs/json: no 5xx, no response-schema violation',
  { timeout: 2 * RUN_LIMIT_MS + 60_000, ...(found.skip ? { skip: found.skip } : {}) },
  async (t) => {
    const cli = found.cli ?? ''
    if (!existsSync(cli))
      return t.fail(
        `no schemathesis in the Spark venv (${cli || `nothing in ${STATE}/run/venv`}): ` +
          'run bash docker/local/stack.sh install',
      )

    const hdfs = hdfsClient()
    const hdfsRoot = await hdfsTestDir(t, hdfs)
    const config = testConfig({
      SPARKGATE_HOST: '127.0.0.1',
      SPARKGATE_PORT: 0,
      // no worker, no tracker: nothing the fuzzer queues ever reaches Spark
      SPARKGATE_ROLES: 'api',
      SPARKGATE_HDFS_ROOT: hdfsRoot,
    })
    const app = await buildApp(config)
    t.teardown(async () => {
      await app.close()
      await dropPrefix(config.SPARKGATE_REDIS_URL, config.SPARKGATE_REDIS_PREFIX)
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const base = `http://127.0.0.1:${port}`
    const headers = await fuzzHeaders(app)

    const logs = join(STATE, 'logs')
    await mkdir(logs, { recursive: true })
    // its working directory: no schemathesis.toml picked up, no .hypothesis/ left in the repo
    const work = await mkdtemp(join(tmpdir(), 'sparkgate-fuzz-'))
    t.teardown(() => rm(work, { recursive: true, force: true }))
    const junitPath = join(work, 'junit.xml')
    const jsonPath = join(work, 'report.json')
    const outPath = join(logs, 'fuzz-schemathesis.out')
    const args = [
      'run',
      `${base}/docs/json`,
      '--url',
      base,
      '--checks',
      CHECKS.join(','),
      '--seed',
      String(SEED),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--workers',
      '2',
      // every distinct failure of an operation, not only its first
      '--continue-on-failure',
      '--request-timeout',
      '10',
      '--generation-database',
      'none',
      '--no-color',
      '--report',
      'junit,json',
      '--report-junit-path',
      junitPath,
      '--report-json-path',
      jsonPath,
      ...Object.entries(headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    ]
    // schemathesis itself sometimes fails inside Hypothesis while drawing an example (a
    // Python-side "Runtime Error" with no request sent: FlakyFailure, "AST constructor
    // recursion depth mismatch"), in a different operation each time (seen twice in a row
    // once). Such a run is made again, at most three in all; what the gateway answered is
    // judged as always.
    let attempt = 0
    let seconds = 0
    let report: JsonReport | null = null
    let junit = ''
    let failures: Failure[] = []
    for (;;) {
      attempt++
      const started = Date.now()
      const result = await run(cli, args, work, outPath)
      seconds = (Date.now() - started) / 1000
      const output = await readFile(outPath, 'utf8')
      const tail = output.split('\n').slice(-40).join('\n')
      if (result.timedOut)
        return t.fail(`schemathesis still running after ${RUN_LIMIT_MS} ms:\n${tail}`)
      report = JSON.parse(await readFile(jsonPath, 'utf8').catch(() => 'null')) as JsonReport | null
      junit = await readFile(junitPath, 'utf8').catch(() => '')
      if (!report || !report.complete)
        return t.fail(
          `schemathesis did not complete (exit ${result.code ?? result.signal}):\n${tail}`,
        )
      failures = parseJunit(junit)
      const toolErrors = failures.filter(isToolError)
      if (attempt < 3 && toolErrors.length > 0 && toolErrors.length === failures.length) {
        t.comment(
          `schemathesis failed inside itself (${toolErrors.map(describe).join(' ')}): once more`,
        )
        continue
      }
      break
    }
    await writeFile(join(logs, 'fuzz-report.json'), JSON.stringify(report, null, 2) + '\n')
    await writeFile(join(logs, 'fuzz-report.xml'), junit)

    const byCheck = (check: string) => failures.filter((f) => f.check === check)
    const serverErrors = byCheck('not_a_server_error')
    const schemaViolations = byCheck('response_schema_conformance')
    const others = failures.filter((f) => !CHECKS.some((c) => c === f.check))
    const cases = report.test_cases.generated
    const ops = report.operations

    const summary =
      `${new Date().toISOString()} schemathesis ${report.schemathesis_version} seed=${SEED} ` +
      `max-examples=${MAX_EXAMPLES}: ${cases} test cases over ${ops.tested}/${ops.total} ` +
      `operations in ${seconds.toFixed(1)} s; ${serverErrors.length} server errors, ` +
      `${schemaViolations.length} response-schema violations, ${others.length} other failures ` +
      `and errors (auth: ${Object.keys(headers).length ? 'key' : 'none'})`
    await writeFile(join(logs, 'fuzz-summary.txt'), summary + '\n')
    t.comment(summary)
    for (const [kind, operations] of Object.entries(report.warnings))
      if (operations.length) t.comment(`schemathesis warning ${kind}: ${operations.join(', ')}`)

    const list = (fs: Failure[]) =>
      fs.length ? `: ${fs.map((f, i) => `[${i + 1}] ${describe(f)}`).join(' ')}` : ''
    // schemathesis's whole text of each failure (the why, the response body) in the diagnostic
    const texts = (fs: Failure[]) => ({ failures: fs.map((f) => f.text) })
    t.ok(cases > 0, `schemathesis ran test cases (${cases})`)
    t.equal(ops.tested, ops.total, 'every operation of the document was tested')
    t.equal(serverErrors.length, 0, `0 server errors${list(serverErrors)}`, texts(serverErrors))
    t.equal(
      schemaViolations.length,
      0,
      `0 response-schema violations${list(schemaViolations)}`,
      texts(schemaViolations),
    )
    t.equal(others.length, 0, `0 other failures${list(others)}`, texts(others))
    t.same(report.errors, [], 'no schemathesis error (timeouts, connection failures)')
    // a failure count in the JSON report with no JUnit entry would go unreported above
    const counted = report.failures.reduce((n, f) => n + f.count, 0)
    t.equal(
      counted,
      failures.length - failures.filter((f) => f.code === 'error').length,
      'the JSON and JUnit reports agree',
    )
  },
)
