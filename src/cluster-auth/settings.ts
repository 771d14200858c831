/**
 * The config of cluster credentials: the gateway's Kerberos identity (SPARKGATE_KERBEROS_*,
 * SPARKGATE_KRB5_CONF), the auth settings (SPARKGATE_LIVY_AUTH, SPARKGATE_HDFS_AUTH: `none`
 * or an auth object as JSON), and the defaults a secured local stack hands a gateway.
 *
 * `npm run stack:up -- --secure` writes `<stack>/run/secure.json` (its WebHDFS URL, CA,
 * krb5.conf and the gateway's principal and keytab): with it present, each of those
 * variables left unset takes the secured stack's value, so a gateway started with nothing
 * set uses the secured stack as it uses the default one.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { ClusterAuthSchema, type ClusterAuth } from './auth-schema.js'
import { resolveAuth, type ResolvedAuth } from './credentials.js'
import { useKerberosIdentity } from './spnego.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

const AuthSetting = (description: string) =>
  Type.String({
    default: 'none',
    description: `${description}, or a JSON object: {"type":"basic","user":"…","passwordFile":"…"} (or "passwordEnv": the variable holding it) | {"type":"kerberos"} (the gateway's principal and keytab, SPARKGATE_KERBEROS_*).`,
  })

export const CLUSTER_AUTH_SETTINGS = {
  SPARKGATE_KERBEROS_PRINCIPAL: Type.String({
    default: '',
    pattern: '^$|^[^@\\s]+@[^@\\s]+$',
    description:
      "The gateway's Kerberos principal (sparkgate@REALM): the default of every kerberos auth. One per gateway process; the cluster must let it impersonate the tenants' cluster users (hadoop.proxyuser.<short name>.*, livy.superusers).",
  }),
  SPARKGATE_KERBEROS_KEYTAB: Type.String({
    default: '',
    description:
      'Keytab file of SPARKGATE_KERBEROS_PRINCIPAL (checked readable at boot; its keys never leave it). Tickets are renewed from it before they expire.',
  }),
  SPARKGATE_KRB5_CONF: Type.String({
    default: '',
    description:
      "krb5.conf of the cluster's realm; empty: the system's (/etc/krb5.conf, or KRB5_CONFIG).",
  }),
  SPARKGATE_HDFS_AUTH: AuthSetting(
    'How the gateway authenticates to WebHDFS: none (simple auth: user.name = SPARKGATE_HDFS_USER)',
  ),
  SPARKGATE_HDFS_CA_FILE: Type.String({
    default: '',
    description:
      'PEM file of the private CA of an https WebHDFS (or of the gateway in front of it), trusted besides the public CAs.',
  }),
}

/** The gateway's Kerberos identity in the config (every field may be unset). */
export interface KerberosSettings {
  SPARKGATE_KERBEROS_PRINCIPAL?: string
  SPARKGATE_KERBEROS_KEYTAB?: string
  SPARKGATE_KRB5_CONF?: string
}

/**
 * An auth setting made ready (resolveAuth, with the gateway's principal and keytab as the
 * defaults of a kerberos one), and a kerberos one made the process's identity.
 */
export function credentialsOf(
  auth: ClusterAuth | undefined,
  where: string,
  settings: KerberosSettings,
): ResolvedAuth {
  const resolved = resolveAuth(auth, where, {
    ...(settings.SPARKGATE_KERBEROS_PRINCIPAL
      ? { principal: settings.SPARKGATE_KERBEROS_PRINCIPAL }
      : {}),
    ...(settings.SPARKGATE_KERBEROS_KEYTAB ? { keytab: settings.SPARKGATE_KERBEROS_KEYTAB } : {}),
  })
  if (resolved.type === 'kerberos')
    useKerberosIdentity({
      principal: resolved.principal,
      keytab: resolved.keytab,
      ...(settings.SPARKGATE_KRB5_CONF ? { krb5Conf: settings.SPARKGATE_KRB5_CONF } : {}),
    })
  return resolved
}

/** The auth a SPARKGATE_*_AUTH value stands for (checked by authSettingProblems first). */
export function parseAuthSetting(raw: string): ClusterAuth {
  return raw === 'none' ? { type: 'none' } : (JSON.parse(raw) as ClusterAuth)
}

/** Problems of an auth setting's value, each naming the variable and the field. */
export function authSettingProblems(name: string, raw: string): string[] {
  let value: unknown
  try {
    value = parseAuthSetting(raw)
  } catch (error) {
    return [`${name}: none or a JSON auth object (${(error as Error).message})`]
  }
  if (Value.Check(ClusterAuthSchema, value)) return []
  const type = (value as { type?: unknown } | null)?.type
  const member = ClusterAuthSchema.anyOf.find((s) => s.properties.type.const === type)
  if (!member) return [`${name}.type: must be none, basic or kerberos`]
  return [...Value.Errors(member, value)].map((e) => {
    const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
    return `${name}${field ? `.${field}` : ''}: ${e.message}`
  })
}

interface SecureStack {
  krb5Conf?: unknown
  principal?: unknown
  keytab?: unknown
  webhdfsUrl?: unknown
  livyUrl?: unknown
  caFile?: unknown
}

/**
 * The values a secured local stack gives the variables it concerns (none when the stack
 * is not secured): the caller applies them beneath the environment.
 */
export function secureStackDefaults(env: NodeJS.ProcessEnv): Record<string, string> {
  const dir = env['STACK_DIR'] || process.env['STACK_DIR'] || join(REPO, '.stack')
  let found: SecureStack
  try {
    found = JSON.parse(readFileSync(join(dir, 'run', 'secure.json'), 'utf8')) as SecureStack
  } catch {
    return {}
  }
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
  const entries: [string, string | undefined][] = [
    ['SPARKGATE_KRB5_CONF', str(found.krb5Conf)],
    ['SPARKGATE_KERBEROS_PRINCIPAL', str(found.principal)],
    ['SPARKGATE_KERBEROS_KEYTAB', str(found.keytab)],
    ['SPARKGATE_WEBHDFS_URL', str(found.webhdfsUrl)],
    ['SPARKGATE_HDFS_CA_FILE', str(found.caFile)],
    ['SPARKGATE_HDFS_AUTH', '{"type":"kerberos"}'],
    ['SPARKGATE_LIVY_URL', str(found.livyUrl)],
    ['SPARKGATE_LIVY_AUTH', '{"type":"kerberos"}'],
  ]
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined))
}
