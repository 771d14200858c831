/**
 * `sparkgate`: the command line of the gateway, on the typed client (src/client/).
 *
 * Settings: `--url` / `SPARKGATE_URL` (default the local stack's gateway) and `--key` /
 * `SPARKGATE_API_KEY`. `--json` prints the gateway's JSON for scripts; otherwise tables.
 * Exit codes: 0 done (a waited job succeeded), 1 the gateway refused or a waited job failed
 * or was cancelled, 2 a usage error, 3 the gateway cannot be reached. An error prints the
 * problem's `detail` and `code`, never a stack trace.
 */
import { readFile } from 'node:fs/promises'
import { Command, CommanderError, Option } from 'commander'
import cliProgress from 'cli-progress'
import {
  ApiError,
  DEFAULT_URL,
  SparkgateClient,
  TERMINAL_STATES,
  UnreachableError,
  type Job,
  type JobSpec,
} from '../client/client.js'
import { bytes, fields, round, seconds, table } from './format.js'

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

/** A mistake in how the command was called (exit 2). */
export class UsageError extends Error {}

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  env: Record<string, string | undefined>
  /** stderr is a terminal: redraw lines in place */
  tty: boolean
}

const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  tty: Boolean(process.stderr.isTTY),
}

interface Globals {
  url?: string
  key?: string
  json?: boolean
}

/** Runs one command line (argv without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok
  const program = buildProgram(io, (c) => (code = Math.max(code, c)))
  try {
    await program.parseAsync(argv, { from: 'user' })
    return code
  } catch (err) {
    return report(err, io)
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // help and --version are not errors; commander has printed the message already
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok
    if (err.code === 'commander.help') return EXIT.ok
    return EXIT.usage
  }
  if (err instanceof UsageError) {
    io.err(`sparkgate: ${err.message}`)
    return EXIT.usage
  }
  if (err instanceof UnreachableError) {
    io.err(`sparkgate: ${err.message}`)
    io.err(
      'Is it running? `npm run demo` starts the local one; --url or SPARKGATE_URL names another.',
    )
    return EXIT.unreachable
  }
  if (err instanceof ApiError) {
    const p = err.problem
    io.err(`sparkgate: ${p.detail ?? p.title} (${p.code}, HTTP ${err.status})`)
    for (const e of p.errors ?? []) io.err(`  ${e.field}: ${e.message} (${e.rule})`)
    return EXIT.failed
  }
  if (isFileError(err)) {
    io.err(`sparkgate: ${err.message}`)
    return EXIT.usage
  }
  io.err(`sparkgate: ${err instanceof Error ? err.message : String(err)}`)
  return EXIT.failed
}

function isFileError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR'
}

function buildProgram(io: Io, exitWith: (code: number) => void): Command {
  const program = new Command('sparkgate')
    .description('Sparkgate: upload datasets, train and run Spark jobs, read logs and models.')
    .version('0.1.0')
    .addOption(new Option('--url <url>', `the gateway (env SPARKGATE_URL; default ${DEFAULT_URL})`))
    .addOption(new Option('--key <key>', 'an API key (env SPARKGATE_API_KEY)'))
    .option('--json', 'print JSON (for scripts) instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    })

  const globals = (cmd: Command) => cmd.optsWithGlobals<Globals>()
  const client = (cmd: Command) => {
    const g = globals(cmd)
    const url = g.url ?? io.env['SPARKGATE_URL'] ?? DEFAULT_URL
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url: not an http(s) URL: ${url}`)
    const key = g.key ?? io.env['SPARKGATE_API_KEY']
    if (!key)
      throw new UsageError(
        'no API key: set SPARKGATE_API_KEY or pass --key (`npm run demo` prints one; an admin makes them with `sparkgate keys create`)',
      )
    return new SparkgateClient({ url, key })
  }
  /** prints `value` as JSON with --json, else the human text `human()` returns */
  const print = (cmd: Command, value: unknown, human: () => string) =>
    io.out(globals(cmd).json ? JSON.stringify(value, null, 2) : human())

  /** a subcommand whose action gets its own Command (for the globals) last */
  const sub = (parent: Command, spec: string, description: string) =>
    parent
      .command(spec)
      .description(description)
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.out(s.replace(/\n$/, '')),
        writeErr: (s) => io.err(s.replace(/\n$/, '')),
      })

  // ---------------------------------------------------------------- identity, backends
  sub(program, 'me', 'who the key belongs to: tenant, role, policy, quotas').action(
    async (_o, cmd: Command) => {
      const me = await client(cmd).me()
      print(cmd, me, () =>
        fields({ ...me, policy: me.policy, quotas: me.quotas, usage: me.usage }, [
          'tenant',
          'role',
          'keyId',
          'clusterUser',
          'policy',
          'quotas',
          'usage',
        ]),
      )
    },
  )
  sub(program, 'backends', 'the Spark backends and their load').action(async (_o, cmd: Command) => {
    const { items } = await client(cmd).backends()
    print(cmd, items, () =>
      table(
        items.map((b) => ({ ...b, default: b.default ? '*' : '' })),
        ['name', 'kind', 'default', 'healthy', 'live', 'maxLive', 'queued', 'endpoint'],
      ),
    )
  })

  // ---------------------------------------------------------------- datasets
  const datasets = sub(program, 'datasets', 'datasets staged on HDFS')
  sub(datasets, 'upload <file>', 'upload a file (CSV, JSON, Parquet, …) with a progress bar')
    .option('--name <name>', 'the dataset name (default: the file name)')
    .action(async (file: string, o: { name?: string }, cmd: Command) => {
      const json = globals(cmd).json
      const bar = json ? undefined : progressBar(io)
      const t0 = Date.now()
      const { dataset, created } = await client(cmd)
        .uploadDataset(file, {
          name: o.name,
          onProgress: ({ sent, total }) => {
            if (!bar) return
            if (!bar.started) bar.start(total, 0)
            bar.update(sent, { rate: rate(sent, t0) })
          },
        })
        .finally(() => bar?.stop())
      print(cmd, { ...dataset, created }, () =>
        [
          `${created ? 'uploaded' : 'already there (same bytes)'}: ${dataset.name}, ${bytes(dataset.size)} in ${seconds(Date.now() - t0)}`,
          fields(dataset as Record<string, unknown>, ['id', 'format', 'uri']),
          dataset.columns
            ? `columns: ${dataset.columns.map((c) => `${c.name} (${c.type})`).join(', ')}`
            : '',
        ]
          .filter(Boolean)
          .join('\n'),
      )
    })
  sub(datasets, 'ls', "the tenant's datasets, newest first")
    .option('--limit <n>', 'at most n', integer)
    .action(async (o: { limit?: number }, cmd: Command) => {
      const page = await client(cmd).listDatasets({ limit: o.limit })
      print(cmd, page, () =>
        table(
          page.items.map((d) => ({ ...d, size: bytes(d.size) })),
          ['id', 'name', 'format', 'size', 'createdAt'],
        ),
      )
    })
  sub(datasets, 'show <id>', 'one dataset: where it is, its columns').action(
    async (id: string, _o, cmd: Command) => {
      const d = await client(cmd).getDataset(id)
      print(cmd, d, () =>
        [
          fields({ ...d, size: `${bytes(d.size)} (${d.size} bytes)` }, [
            'id',
            'name',
            'format',
            'size',
            'uri',
            'createdAt',
          ]),
          d.columns ? `\n${table(d.columns, ['name', 'type'])}` : '',
        ].join(''),
      )
    },
  )
  sub(datasets, 'preview <id>', 'the first rows')
    .option('--rows <n>', 'how many rows', integer)
    .action(async (id: string, o: { rows?: number }, cmd: Command) => {
      const p = await client(cmd).previewDataset(id, o.rows)
      print(cmd, p, () => {
        if (!p.columns || !p.rows) return p.lines.join('\n')
        const rows = p.rows.map((r) => Object.fromEntries(p.columns!.map((c, i) => [c, r[i]])))
        return table(rows, p.columns)
      })
    })
  sub(datasets, 'rm <id>', 'delete a dataset (refused while a job uses it)').action(
    async (id: string, _o, cmd: Command) => {
      await client(cmd).deleteDataset(id)
      print(cmd, { id, deleted: true }, () => `deleted ${id}`)
    },
  )

  // ---------------------------------------------------------------- jobs
  const waitOptions = (c: Command) =>
    c
      .option('--wait', 'follow the job (live, over server-sent events) until it ends')
      .option('--idempotency-key <key>', 'a retry with the same key returns the same job')
  const afterSubmit = async (cmd: Command, job: Job, wait: boolean | undefined) => {
    if (!wait) {
      print(cmd, job, () =>
        [
          `job ${job.id} accepted (${job.state}, backend ${job.backend})`,
          `follow it: sparkgate logs ${job.id} -f   ·   sparkgate jobs show ${job.id}`,
        ].join('\n'),
      )
      return
    }
    exitWith(await waitFor(client(cmd), job, cmd))
  }
  /** follows a job to its end; the exit code says how it ended */
  const waitFor = async (api: SparkgateClient, job: Job, cmd: Command): Promise<number> => {
    const json = globals(cmd).json
    const t0 = Date.now()
    const status = json ? undefined : new StatusLine(io, t0)
    let state = job.state
    // the stream replays the job's transitions, then follows it live, and ends (`end`) when
    // the job is terminal; a dropped stream resumes after the last event it delivered
    let lastId: string | undefined
    const ticker = status ? setInterval(() => status.tick(), 1000) : undefined
    try {
      for (let tries = 0; !TERMINAL_STATES.includes(state); tries++) {
        try {
          for await (const e of api.jobEvents(job.id, lastId)) {
            if (e.id !== undefined) lastId = e.id
            if (e.event === 'transition') {
              const t = JSON.parse(e.data) as { to: string; reason?: string }
              state = t.to as Job['state']
              status?.set(`job ${job.id}: ${state}${t.reason ? ` (${t.reason})` : ''}`)
            } else if (e.event === 'end') break
          }
        } catch (err) {
          if (err instanceof ApiError || tries >= 5) throw err
          await new Promise((r) => setTimeout(r, 1000))
        }
        const now = await api.getJob(job.id)
        state = now.state
      }
    } finally {
      if (ticker) clearInterval(ticker)
    }
    const final = await api.getJob(job.id)
    status?.done(`job ${final.id}: ${final.state} after ${seconds(Date.now() - t0)}`)
    if (json) io.out(JSON.stringify(final, null, 2))
    if (final.state === 'succeeded') {
      if (!json)
        io.out(`result: sparkgate result ${final.id}   ·   logs: sparkgate logs ${final.id}`)
      return EXIT.ok
    }
    if (final.error)
      io.err(`sparkgate: job ${final.state}: ${final.error.message} (${final.error.code})`)
    else io.err(`sparkgate: job ${final.state}`)
    return EXIT.failed
  }

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
    await afterSubmit(cmd, job, o.wait)
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
      .option('--driver-memory <size>', 'e.g. 512m, 2g'),
  ).action(
    async (
      o: {
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
        driverMemory?: string
        wait?: boolean
        idempotencyKey?: string
      },
      cmd: Command,
    ) => {
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
        ...(o.driverMemory ? { resources: { driverMemory: o.driverMemory } } : {}),
      } as JobSpec
      const job = await client(cmd).submit(spec, o.idempotencyKey)
      await afterSubmit(cmd, job, o.wait)
    },
  )

  const jobs = sub(program, 'jobs', 'Spark jobs: list, show, cancel, wait')
  sub(jobs, 'ls', "the tenant's jobs, newest first")
    .option('--state <state>', 'only jobs in this state')
    .option('--backend <name>', 'only jobs of this backend')
    .option('--limit <n>', 'at most n', integer)
    .action(async (o: { state?: Job['state']; backend?: string; limit?: number }, cmd: Command) => {
      const page = await client(cmd).listJobs(o)
      print(cmd, page, () =>
        table(
          page.items.map((j) => ({ ...j, kind: j.spec.training ? 'training' : 'batch' })),
          ['id', 'name', 'kind', 'state', 'backend', 'attempts', 'createdAt'],
        ),
      )
    })
  sub(jobs, 'show <id>', 'one job: state, timings, error').action(
    async (id: string, _o, cmd: Command) => {
      const j = await client(cmd).getJob(id)
      print(cmd, j, () =>
        fields({ ...j, error: j.error ? `${j.error.code}: ${j.error.message}` : undefined }, [
          'id',
          'name',
          'state',
          'backend',
          'backendState',
          'attempts',
          'maxAttempts',
          'cancelRequested',
          'createdAt',
          'submittedAt',
          'startedAt',
          'finishedAt',
          'error',
        ]),
      )
    },
  )
  sub(jobs, 'cancel <id>', 'cancel a job (its batch is killed)').action(
    async (id: string, _o, cmd: Command) => {
      const j = await client(cmd).cancelJob(id)
      print(cmd, j, () =>
        j.state === 'cancelled'
          ? `job ${id}: cancelled`
          : `job ${id}: cancel requested (${j.state})`,
      )
    },
  )
  sub(jobs, 'wait <id>', 'follow a job until it ends (exit 0 only if it succeeded)').action(
    async (id: string, _o, cmd: Command) => {
      const api = client(cmd)
      exitWith(await waitFor(api, await api.getJob(id), cmd))
    },
  )

  sub(program, 'logs <id>', "a job's Spark log (the driver's output)")
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option('--from <line>', 'start at this line', integer)
    .action(async (id: string, o: { follow?: boolean; from?: number }, cmd: Command) => {
      const api = client(cmd)
      const json = globals(cmd).json
      let from = o.from ?? 0
      for (;;) {
        const page = await api.logs(id, { from, size: 1000 })
        if (json && !o.follow) {
          io.out(JSON.stringify(page, null, 2))
          return
        }
        for (const line of page.lines) io.out(json ? JSON.stringify({ line }) : line)
        from = page.from + page.lines.length
        if (page.lines.length === 1000) continue
        if (!o.follow) return
        const job = await api.getJob(id)
        if (TERMINAL_STATES.includes(job.state)) {
          // the last lines the job wrote before it ended
          const rest = await api.logs(id, { from, size: 10_000 })
          for (const line of rest.lines) io.out(json ? JSON.stringify({ line }) : line)
          if (job.state !== 'succeeded') {
            io.err(
              `sparkgate: job ${job.state}${job.error ? `: ${job.error.message} (${job.error.code})` : ''}`,
            )
            exitWith(EXIT.failed)
          }
          return
        }
        await new Promise((r) => setTimeout(r, 1000))
      }
    })
  sub(program, 'result <id>', "a training job's metrics and model; a scoring job's rows").action(
    async (id: string, _o, cmd: Command) => {
      const r = await client(cmd).result(id)
      print(cmd, r, () => {
        if (!('metrics' in r))
          return [
            `model: ${r.model.name} v${r.model.version}`,
            `rows: scored ${r.rows.scored}, without prediction ${r.rows.withoutPrediction}`,
            `output: ${r.outputUri} (${r.format})`,
            r.dataset
              ? `dataset: ${r.dataset.id} (${r.dataset.name})`
              : `dataset: - (${r.datasetNote ?? 'not registered'})`,
          ].join('\n')
        const rows = r['rows'] as Record<string, unknown> | undefined
        return [
          `model: ${r.modelName} v${r.modelVersion ?? '-'}  (${r.modelUri})`,
          rows
            ? `rows: ${Object.entries(rows)
                .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
                .join(', ')}`
            : '',
          table(
            Object.entries(r.metrics).map(([metric, value]) => ({ metric, value: round(value) })),
            ['metric', 'value'],
          ),
        ]
          .filter(Boolean)
          .join('\n')
      })
    },
  )

  // ---------------------------------------------------------------- models
  const models = sub(program, 'models', 'models from training jobs, versioned by name')
  sub(models, 'ls', "the tenant's models and their latest version").action(
    async (_o, cmd: Command) => {
      const { items } = await client(cmd).listModels()
      print(cmd, items, () =>
        table(
          items.map((m) => ({
            name: m.name,
            versions: m.versions,
            latest: m.latest.version,
            algorithm: m.latest.algorithm,
            metrics: metricsText(m.latest.metrics),
            createdAt: m.latest.createdAt,
          })),
          ['name', 'versions', 'latest', 'algorithm', 'metrics', 'createdAt'],
        ),
      )
    },
  )
  sub(models, 'show <name>', 'every version of a model, with its metrics and job').action(
    async (name: string, _o, cmd: Command) => {
      const m = await client(cmd).getModel(name)
      print(cmd, m, () =>
        table(
          m.versions.map((v) => ({
            ...v,
            metrics: metricsText(v.metrics),
            aliases: (v.aliases ?? []).join(','),
          })),
          ['version', 'algorithm', 'metrics', 'jobId', 'createdAt', 'aliases'],
        ),
      )
    },
  )
  sub(models, 'rm <name> <version>', 'delete a version from the registry (needs MLflow)').action(
    async (name: string, version: string, _o, cmd: Command) => {
      await client(cmd).deleteModelVersion(name, Number(version))
      print(
        cmd,
        { name, version: Number(version), deleted: true },
        () => `deleted ${name}/${version}`,
      )
    },
  )
  const alias = sub(models, 'alias', 'aliases of a model version (e.g. champion; needs MLflow)')
  sub(alias, 'set <name> <alias> <version>', 'point an alias at a version (moves it)').action(
    async (name: string, a: string, version: string, _o, cmd: Command) => {
      const m = await client(cmd).setModelAlias(name, a, Number(version))
      print(cmd, m, () => `${name}@${a} → version ${m.aliases[a]}`)
    },
  )
  sub(alias, 'rm <name> <alias>', 'remove an alias').action(
    async (name: string, a: string, _o, cmd: Command) => {
      await client(cmd).deleteModelAlias(name, a)
      print(cmd, { name, alias: a, deleted: true }, () => `removed ${name}@${a}`)
    },
  )

  // ---------------------------------------------------------------- admin
  const tenants = sub(program, 'tenants', 'tenants (platform admin key)')
  sub(tenants, 'ls', 'every tenant').action(async (_o, cmd: Command) => {
    const page = await client(cmd).listTenants()
    print(cmd, page, () => table(page.items, ['name', 'clusterUser', 'createdAt']))
  })
  sub(tenants, 'show <tenant>', 'one tenant: policy, quotas').action(
    async (tenant: string, _o, cmd: Command) => {
      const t = await client(cmd).getTenant(tenant)
      print(cmd, t, () => fields(t))
    },
  )
  sub(tenants, 'create <tenant>', 'make a tenant (default policy and quotas)').action(
    async (tenant: string, _o, cmd: Command) => {
      const t = await client(cmd).createTenant({ name: tenant })
      print(cmd, t, () => `tenant ${t.name} created\n${fields(t)}`)
    },
  )
  const keys = sub(program, 'keys', "a tenant's API keys (platform admin key)")
  sub(keys, 'ls <tenant>', 'the keys of a tenant (never the secrets)').action(
    async (tenant: string, _o, cmd: Command) => {
      const page = await client(cmd).listKeys(tenant)
      print(cmd, page, () => table(page.items, ['id', 'name', 'role', 'hint', 'createdAt']))
    },
  )
  sub(keys, 'create <tenant>', 'a new key; its secret is shown once')
    .addOption(
      new Option('--role <role>', 'what the key may do')
        .choices(['admin', 'member', 'viewer'])
        .default('member'),
    )
    .option('--name <name>', 'a label for the key')
    .action(
      async (
        tenant: string,
        o: { role: 'admin' | 'member' | 'viewer'; name?: string },
        cmd: Command,
      ) => {
        const k = await client(cmd).createKey(tenant, {
          role: o.role,
          ...(o.name ? { name: o.name } : {}),
        })
        print(cmd, k, () => `key ${k.id} (${k.role}) for tenant ${tenant}; shown once:\n${k.key}`)
      },
    )
  sub(keys, 'revoke <tenant> <keyId>', 'revoke a key').action(
    async (tenant: string, keyId: string, _o, cmd: Command) => {
      await client(cmd).revokeKey(tenant, keyId)
      print(cmd, { tenant, keyId, revoked: true }, () => `key ${keyId} revoked`)
    },
  )

  return program
}

function metricsText(metrics: Record<string, number> | undefined): string {
  return Object.entries(metrics ?? {})
    .map(([k, v]) => `${k}=${round(v)}`)
    .join(' ')
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`not a whole number: ${value}`)
  return Number(value)
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

function rate(sent: number, t0: number): string {
  const s = (Date.now() - t0) / 1000
  return s > 0 ? `${bytes(Math.round(sent / s))}/s` : '-'
}

/** cli-progress on stderr: redrawn on a terminal, a line every half second otherwise */
function progressBar(io: Io) {
  const bar = new cliProgress.SingleBar(
    {
      format: 'upload [{bar}] {percentage}% | {sentText} of {totalText} | {rate}',
      stream: process.stderr,
      noTTYOutput: !io.tty,
      notTTYSchedule: 500,
      hideCursor: io.tty,
      formatValue: (v) => String(v),
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    get started() {
      return started
    },
    start(total: number, value: number) {
      started = true
      bar.start(total, value, { rate: '-', sentText: bytes(value), totalText: bytes(total) })
    },
    update(value: number, payload: { rate: string }) {
      bar.update(value, { ...payload, sentText: bytes(value) })
    },
    stop() {
      if (started) bar.stop()
    },
  }
}

/**
 * The live state line of --wait, with the time since the wait began: on a terminal one line
 * redrawn every second; on a pipe one line per transition.
 */
class StatusLine {
  private text = ''
  constructor(
    private readonly io: Io,
    private readonly t0: number,
  ) {}
  private line() {
    return `${this.text}  ${seconds(Date.now() - this.t0)}`
  }
  set(text: string) {
    this.text = text
    if (this.io.tty) process.stderr.write(`\r\x1b[2K${this.line()}`)
    else this.io.err(this.line())
  }
  tick() {
    if (this.io.tty && this.text) process.stderr.write(`\r\x1b[2K${this.line()}`)
  }
  done(text: string) {
    if (this.io.tty) process.stderr.write('\r\x1b[2K')
    this.io.err(text)
  }
}
