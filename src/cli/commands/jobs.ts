/** `sparkgate jobs …` (list, show, cancel, wait), `sparkgate logs` and `sparkgate result`. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { TERMINAL_STATES, type Job } from '../../client/client.js'
import { EXIT, integer, type Cli } from '../context.js'
import { fields, round, table } from '../format.js'
import { waitFor } from '../wait.js'

export function registerJobs(program: Command, cli: Cli): void {
  const { client, print, sub } = cli
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
      cli.exitWith(await waitFor(cli, api, await api.getJob(id), cmd))
    },
  )
  registerLogs(program, cli)
  registerResult(program, cli)
  registerResult(jobs, cli)
}

function registerLogs(program: Command, { io, exitWith, globals, client, sub }: Cli): void {
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
}

/** Saves each of a job's plots as DIR/<name>.png; the files written. */
async function savePlots(api: ReturnType<Cli['client']>, id: string, dir: string) {
  const { plots } = await api.plots(id)
  await mkdir(dir, { recursive: true })
  const saved = []
  for (const plot of plots) {
    const file = join(dir, `${plot.name}.png`)
    await writeFile(file, await api.plot(id, plot.name))
    saved.push({ name: plot.name, title: plot.title, file })
  }
  return saved
}

function registerResult(program: Command, { client, print, sub }: Cli): void {
  sub(program, 'result <id>', "a training job's metrics and model; a scoring job's rows")
    .option('--plots <dir>', "save the job's evaluation plots there, as <name>.png")
    .action(async (id: string, o: { plots?: string }, cmd: Command) => {
      const api = client(cmd)
      const r = await api.result(id)
      const saved = o.plots === undefined ? undefined : await savePlots(api, id, o.plots)
      const shown = saved ? { ...r, savedPlots: saved } : r
      print(cmd, shown, () => {
        const plots = saved?.map((p) => `plot: ${p.file}  (${p.title})`) ?? []
        if (!('metrics' in r))
          return [
            `model: ${r.model.name} v${r.model.version}`,
            `rows: scored ${r.rows.scored}, without prediction ${r.rows.withoutPrediction}`,
            `output: ${r.outputUri} (${r.format})`,
            r.dataset
              ? `dataset: ${r.dataset.id} (${r.dataset.name})`
              : `dataset: - (${r.datasetNote ?? 'not registered'})`,
            ...plots,
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
          ...plots,
        ]
          .filter(Boolean)
          .join('\n')
      })
    })
}
