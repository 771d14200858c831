/** `sparkgate datasets …`: upload (with a progress bar), list, show, preview, delete. */
import type { Command } from 'commander'
import cliProgress from 'cli-progress'
import { integer, type Cli, type Io } from '../context.js'
import { bytes, fields, seconds, table } from '../format.js'

export function registerDatasets(program: Command, { io, globals, client, print, sub }: Cli): void {
  const datasets = sub(program, 'datasets', 'datasets staged on HDFS or a Synapse storage account')
  sub(datasets, 'upload <file>', 'upload a file (CSV, JSON, Parquet, …) with a progress bar')
    .option('--name <name>', 'the dataset name (default: the file name)')
    .option(
      '--backend <name>',
      "stage it in the store this backend's Spark reads (default: the default backend's)",
    )
    .action(async (file: string, o: { name?: string; backend?: string }, cmd: Command) => {
      const json = globals(cmd).json
      const bar = json ? undefined : progressBar(io)
      const t0 = Date.now()
      const { dataset, created } = await client(cmd)
        .uploadDataset(file, {
          name: o.name,
          backend: o.backend,
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
