/** `sparkgate tenants …` and `sparkgate keys …`: administration (a platform admin key). */
import { Option, type Command } from 'commander'
import type { Cli } from '../context.js'
import { fields, table } from '../format.js'

export function registerTenants(program: Command, { client, print, sub }: Cli): void {
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
}
