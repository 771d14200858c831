/** `sparkgate me` and `sparkgate backends`: who the key is, and where jobs can run. */
import type { Command } from 'commander'
import type { Cli } from '../context.js'
import { fields, table } from '../format.js'

export function registerIdentity(program: Command, { client, print, sub }: Cli): void {
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
        ['name', 'kind', 'auth', 'default', 'healthy', 'live', 'maxLive', 'queued', 'endpoint'],
      ),
    )
  })
}
