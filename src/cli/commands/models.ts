/** `sparkgate models …`: the model registry (versions, deletes, aliases). */
import type { Command } from 'commander'
import type { Cli } from '../context.js'
import { round, table } from '../format.js'

export function registerModels(program: Command, { client, print, sub }: Cli): void {
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
}

function metricsText(metrics: Record<string, number> | undefined): string {
  return Object.entries(metrics ?? {})
    .map(([k, v]) => `${k}=${round(v)}`)
    .join(' ')
}
