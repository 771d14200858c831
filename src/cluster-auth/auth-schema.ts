/**
 * How the gateway authenticates to a cluster's HTTP endpoints (Livy, WebHDFS): the `auth`
 * field of a backend entry, and SPARKGATE_LIVY_AUTH / SPARKGATE_HDFS_AUTH. Secrets are
 * never in it: a password comes from a file or an environment variable it names, a
 * Kerberos key from a keytab file.
 */
import { Type, type Static } from 'typebox'

const Path = (description: string) => Type.String({ minLength: 1, description })

export const NoAuthSchema = Type.Object(
  { type: Type.Literal('none', { description: 'No credentials (simple auth: user.name).' }) },
  { additionalProperties: false },
)

export const BasicAuthSchema = Type.Object(
  {
    type: Type.Literal('basic', {
      description: 'HTTP Basic over TLS: a gateway in front of the cluster (HDInsight, Knox).',
    }),
    user: Type.String({ minLength: 1, description: 'The login (HDInsight: the cluster login).' }),
    passwordFile: Type.Optional(
      Path('A file holding the password (read at boot; a trailing newline is dropped).'),
    ),
    passwordEnv: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description: 'The environment variable holding the password.',
      }),
    ),
  },
  { additionalProperties: false },
)

export const KerberosAuthSchema = Type.Object(
  {
    type: Type.Literal('kerberos', { description: 'SPNEGO with the gateway’s own principal.' }),
    principal: Type.Optional(
      Type.String({
        pattern: '^[^@\\s]+@[^@\\s]+$',
        description:
          'The gateway’s principal (sparkgate@REALM); default SPARKGATE_KERBEROS_PRINCIPAL.',
      }),
    ),
    keytab: Type.Optional(Path('Its keytab file; default SPARKGATE_KERBEROS_KEYTAB.')),
  },
  { additionalProperties: false },
)

export const ClusterAuthSchema = Type.Union([NoAuthSchema, BasicAuthSchema, KerberosAuthSchema], {
  description:
    'How the gateway authenticates: {type: none} | {type: basic, user, passwordFile|passwordEnv} | {type: kerberos, principal?, keytab?}',
})
export type ClusterAuth = Static<typeof ClusterAuthSchema>
export type AuthType = ClusterAuth['type']
