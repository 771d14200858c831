/**
 * Helpers of the tests of secured clusters: the stack's status (its TLS proxy, its KDC),
 * a gateway whose every log line (at trace level, with production's redaction) is kept to
 * be searched for secrets, and that search over the gateway's lines and the stack's logs.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { buildApp, type App } from '../../src/app.js'
import { serverOptions } from '../../src/server-options.js'
import { testConfig } from './stack.js'

const STACK = fileURLToPath(new URL('../../docker/local/stack.sh', import.meta.url))

type Tap = { teardown: (fn: () => unknown) => void }

export interface StackStatus {
  stateDir: string
  proxy?: { url: string; caFile: string; user: string; passwordFile: string; up: boolean }
  kdc?: { up: boolean; realm: string; krb5Conf: string; principal: string; keytab: string }
  livy: { url: string; up: boolean; auth?: string }
  hdfs: { webhdfsUrl: string; defaultFS: string; up: boolean; auth?: string }
  yarn: { url: string; up: boolean }
}

/** The demo's training (docker/local/demo.sh) on a dataset of jobs/examples/data/churn.csv. */
export function demoTraining(datasetId: string, name = 'churn-demo') {
  return {
    name,
    resources: { driverMemory: '512m' },
    training: {
      dataset: datasetId,
      label: 'churned',
      features: ['tenure_months', 'monthly_charges', 'contract', 'support_calls'],
      algorithm: 'logistic_regression',
      params: { maxIter: 100 },
      split: { test: 0.25, seed: 7 },
    },
  }
}

/** `stack.sh status --json`. */
export function stackStatus(): Promise<StackStatus> {
  return new Promise((resolve, reject) => {
    execFile('bash', [STACK, 'status', '--json'], { timeout: 60_000 }, (error, stdout) => {
      if (error) reject(new Error(`stack.sh status --json: ${error.message}`))
      else resolve(JSON.parse(stdout) as StackStatus)
    })
  })
}

/** A gateway in-process whose log lines (trace, production's redaction) are kept in `lines`. */
export async function loggedApp(
  t: Tap,
  overrides: Parameters<typeof testConfig>[0],
): Promise<{ app: App; lines: string[] }> {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const config = testConfig({ SPARKGATE_LOG_LEVEL: 'trace', ...overrides })
  const logger = serverOptions(config).logger as object
  const app = await buildApp(config, { logger: { ...logger, stream: sink } })
  t.teardown(() => app.close())
  await app.ready()
  return { app, lines }
}

/**
 * Where each secret shows up: in the given lines (a gateway's log) or in any file of the
 * stack's logs folder. Empty when none does.
 */
export async function secretsFound(
  secrets: string[],
  lines: string[],
  stateDir: string,
): Promise<string[]> {
  const found: string[] = []
  const look = (where: string, text: string) => {
    for (const secret of secrets)
      if (text.includes(secret)) found.push(`${where}: ${secret.slice(0, 3)}…`)
  }
  lines.forEach((line, i) => look(`gateway log line ${i + 1}`, line))
  const logs = join(stateDir, 'logs')
  for (const name of await readdir(logs).catch(() => [] as string[])) {
    const text = await readFile(join(logs, name), 'utf8').catch(() => '')
    look(`${logs}/${name}`, text)
  }
  return found
}
