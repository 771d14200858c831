/** `sparkgate submit` (a job spec from a file or stdin) and `sparkgate train` (from flags). */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { JobSpec } from '../../client/client.js'
import { integer, UsageError, type Cli } from '../context.js'
import { afterSubmit, waitOptions } from '../wait.js'

interface TrainOptions {
  dataset: string
  label?: string
  algorithm: string
  features?: string
  param: string[]
  test?: number
  seed?: number
  modelName?: string
  name?: string
  backend?: string
  queue?: string
  engine?: 'auto' | 'warm' | 'cold'
  driverMemory?: string
  wait?: boolean
  idempotencyKey?: string
}

export function registerSubmit(program: Command, cli: Cli): void {
  const { client, sub } = cli
  waitOptions(
    sub(program, 'submit <job.json>', 'submit a job spec (JSON file, or - for stdin)'),
  ).action(async (file: string, o: { wait?: boolean; idempotencyKey?: string }, cmd: Command) => {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
    let spec: JobSpec
    try {
      spec = JSON.parse(text) as JobSpec
    } catch (err) {
      throw new UsageError(`${file}: not JSON: ${(err as Error).message}`)
    }
    const job = await client(cmd).submit(spec, o.idempotencyKey)
    await afterSubmit(cli, cmd, job, o.wait)
  })
  waitOptions(
    sub(program, 'train', 'train a Spark MLlib model on a dataset (a declarative job)')
      .requiredOption('--dataset <id>', 'the dataset id (sparkgate datasets ls)')
      .option('--label <column>', 'the label column (not for clustering)')
      .requiredOption(
        '--algorithm <name>',
        'e.g. logistic_regression, random_forest_classifier, kmeans',
      )
      .option(
        '--features <columns>',
        'comma-separated feature columns (default: all but the label)',
      )
      .option('--param <k=v>', 'an MLlib param, e.g. maxIter=100 (repeatable)', collect, [])
      .option('--test <fraction>', 'the held-out fraction (default 0.2)', parseFloat)
      .option('--seed <n>', 'the split seed', integer)
      .option('--model-name <name>', 'the registry name (default: the job name)')
      .option('--name <name>', 'the job name')
      .option('--backend <name>', 'the backend (default: the default one)')
      .option('--queue <name>', "the YARN queue: one of your policy's (default: its first)")
      .option(
        '--engine <mode>',
        'auto (a warm engine if you have one), warm (wait for one), cold (never)',
      )
      .option('--driver-memory <size>', 'e.g. 512m, 2g'),
  ).action(async (o: TrainOptions, cmd: Command) => {
    const training: Record<string, unknown> = { dataset: o.dataset, algorithm: o.algorithm }
    if (o.label) training['label'] = o.label
    if (o.features) training['features'] = o.features.split(',').map((f) => f.trim())
    if (o.param.length) training['params'] = Object.fromEntries(o.param.map(parseParam))
    if (o.test !== undefined || o.seed !== undefined)
      training['split'] = { test: o.test ?? 0.2, seed: o.seed ?? 42 }
    if (o.modelName) training['modelName'] = o.modelName
    const spec = {
      training,
      ...(o.name ? { name: o.name } : {}),
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.queue ? { queue: o.queue } : {}),
      ...(o.engine ? { engine: o.engine } : {}),
      ...(o.driverMemory ? { resources: { driverMemory: o.driverMemory } } : {}),
    } as JobSpec
    const job = await client(cmd).submit(spec, o.idempotencyKey)
    await afterSubmit(cli, cmd, job, o.wait)
  })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** `k=v` → [k, v], v as JSON when it parses (numbers, booleans, arrays), else the string */
function parseParam(kv: string): [string, unknown] {
  const eq = kv.indexOf('=')
  if (eq <= 0) throw new UsageError(`--param ${kv}: expected name=value, e.g. maxIter=100`)
  const raw = kv.slice(eq + 1)
  try {
    return [kv.slice(0, eq), JSON.parse(raw)]
  } catch {
    return [kv.slice(0, eq), raw]
  }
}

async function readStdin(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text
}
