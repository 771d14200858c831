/** `sparkgate engines`: the tenant's warm engines — list, show, start, stop. */
import type { Command } from 'commander'
import type { Cli } from '../context.js'
import { fields, table } from '../format.js'

const COLUMNS = ['id', 'state', 'backend', 'appId', 'jobsServed', 'currentJob', 'idleSeconds']

export function registerEngines(program: Command, { client, print, sub }: Cli): void {
  const engines = sub(
    program,
    'engines',
    "the tenant's warm engines (training and scoring without Spark's start)",
  )
  sub(engines, 'ls', 'the engines, newest first')
    .option('--live', 'only those that have not ended')
    .action(async (o: { live?: boolean }, cmd: Command) => {
      const { items } = await client(cmd).engines(o.live ? 'live' : undefined)
      print(cmd, items, () => table(items, COLUMNS))
    })
  sub(engines, 'show <id>', 'one engine').action(async (id: string, _o, cmd: Command) => {
    const engine = await client(cmd).engine(id)
    print(cmd, engine, () =>
      fields(engine, [...COLUMNS, 'queue', 'clusterUser', 'memory', 'reason']),
    )
  })
  sub(engines, 'start', 'start an engine now (jobs with engine auto or warm use it)')
    .option('--backend <name>', 'the backend (default: the default backend)')
    .action(async (o: { backend?: string }, cmd: Command) => {
      const engine = await client(cmd).startEngine(o.backend)
      print(cmd, engine, () => fields(engine, COLUMNS))
    })
  sub(engines, 'stop <id>', 'stop an engine (after the job it runs)').action(
    async (id: string, _o, cmd: Command) => {
      const engine = await client(cmd).stopEngine(id)
      print(cmd, engine, () => fields(engine, COLUMNS))
    },
  )
}
